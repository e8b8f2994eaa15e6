import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { KeaKnotError } from '../errors.js';
import { findCycle } from './graph.js';
import { interpolateTree, type Environment } from './interpolate.js';
import { crossFieldProblems, serviceFileSchema, toSpec, type ServiceSpec } from './schema.js';

/** A loaded services.d: every service, enabled or not (enabledDependencies() gives the start dependencies). */
export interface ServiceSet {
  readonly dir: string;
  readonly services: readonly ServiceSpec[];
}

const SERVICE_FILE = /\.ya?ml$/;

function fieldPath(parts: readonly PropertyKey[]): string {
  return parts.map(String).join('.');
}

function describeIssue(issue: z.core.$ZodIssue): { path: PropertyKey[]; message: string }[] {
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: [...issue.path, key], message: 'unknown key (check its spelling)' }));
    case 'invalid_type':
      return [{ path: issue.path, message: issue.input === undefined ? 'is required' : `expected ${issue.expected}, got ${describeValue(issue.input)}` }];
    case 'invalid_key':
      return issue.issues.map((inner) => ({ path: issue.path, message: inner.message }));
    case 'invalid_value':
      return [{ path: issue.path, message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(issue.input)}` }];
    default:
      return [{ path: issue.path, message: issue.message }];
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** Parses and validates one file's text; problems come back as "field.path: problem". */
export function parseServiceFile(text: string, file: string, env: Environment): { spec?: ServiceSpec; problems: string[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    return { problems: doc.errors.map((error) => `line ${lineCounter.linePos(error.pos[0]).line}: ${error.message.split('\n')[0]}`) };
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { problems: ['the file must be a YAML mapping with at least name and command'] };
  }
  const interpolated = interpolateTree(raw, env);
  const problems = interpolated.problems.map((p) => `${fieldPath(p.path)}: ${p.message}`);
  if (problems.length > 0) return { problems };
  const result = serviceFileSchema.safeParse(interpolated.value, { reportInput: true });
  if (!result.success) {
    return { problems: result.error.issues.flatMap(describeIssue).map((p) => `${fieldPath(p.path) || '(file)'}: ${p.message}`) };
  }
  const cross = crossFieldProblems(result.data).map((p) => `${p.path}: ${p.message}`);
  if (cross.length > 0) return { problems: cross };
  return { spec: toSpec(result.data, file), problems: [] };
}

/** Cross-file rules: unique names, known dependencies, no cycles. */
export function validateSet(specs: readonly ServiceSpec[]): string[] {
  const problems: string[] = [];
  const byName = new Map<string, ServiceSpec>();
  for (const spec of specs) {
    const other = byName.get(spec.name);
    if (other) problems.push(`${spec.file}: name: "${spec.name}" is already the name of ${other.file}; names must be unique`);
    else byName.set(spec.name, spec);
  }
  for (const spec of specs) {
    spec.depends_on.forEach((dep, index) => {
      if (dep === spec.name) problems.push(`${spec.file}: depends_on.${index}: a service cannot depend on itself`);
      else if (!byName.has(dep)) problems.push(`${spec.file}: depends_on.${index}: no service is named "${dep}" (known: ${[...byName.keys()].sort().join(', ')})`);
    });
  }
  const cycle = findCycle(new Map(specs.map((spec) => [spec.name, spec.depends_on.filter((dep) => dep !== spec.name && byName.has(dep))])));
  if (cycle) {
    const file = byName.get(cycle[0]!)?.file ?? '?';
    problems.push(`${file}: depends_on: dependency cycle ${cycle.join(' -> ')}; remove one of these dependencies`);
  }
  return problems;
}

/**
 * Reads every *.yaml / *.yml in `dir`. All problems of all files are collected and thrown
 * together as one E_CONFIG error, so one run shows everything to fix.
 */
export async function loadServices(dir: string, env: Environment = process.env): Promise<ServiceSet> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => SERVICE_FILE.test(name)).sort();
  } catch (error) {
    throw new KeaKnotError('E_CONFIG', `cannot read the services directory ${dir}: ${(error as Error).message}; set --services-dir or KEA_KNOT_SERVICES_DIR`, { cause: error });
  }
  const problems: string[] = [];
  const specs: ServiceSpec[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const text = await readFile(file, 'utf8');
    const parsed = parseServiceFile(text, file, env);
    problems.push(...parsed.problems.map((problem) => `${file}: ${problem}`));
    if (parsed.spec) specs.push(parsed.spec);
  }
  problems.push(...validateSet(specs));
  if (problems.length > 0) {
    throw new KeaKnotError('E_CONFIG', `${dir} has ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing was started`, { details: problems });
  }
  if (specs.length === 0) {
    throw new KeaKnotError('E_CONFIG', `${dir} holds no service files (*.yaml); add one or point --services-dir elsewhere`);
  }
  return { dir, services: specs };
}

/** Dependencies among enabled services; a dependency on a disabled service is considered met. */
export function enabledDependencies(services: readonly ServiceSpec[]): Map<string, string[]> {
  const enabled = new Set(services.filter((s) => s.enabled).map((s) => s.name));
  return new Map(services.filter((s) => s.enabled).map((s) => [s.name, s.depends_on.filter((dep) => enabled.has(dep))]));
}
