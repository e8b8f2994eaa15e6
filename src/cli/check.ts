import { ExitCode, KeaKnotError } from '../errors.js';
import { loadServices } from '../services/load.js';
import { readSettings } from '../settings.js';
import { checkService } from '../supervisor/check.js';
import { parseFlags } from './usage.js';

export const checkHelp = `Usage: kea-knot check [--services-dir DIR] [--json]

Validates services.d and runs the check command of every enabled service, without
starting anything. Exit 0 when all pass, 1 when a check fails, 78 when services.d is
invalid (each problem printed as file: field: problem).`;

export async function check(args: string[]): Promise<number> {
  const { values } = parseFlags('check', args, {
    'services-dir': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(`${checkHelp}\n`);
    return ExitCode.ok;
  }
  const settings = readSettings(process.env, values['services-dir'] === undefined ? {} : { servicesDir: values['services-dir'] });
  const set = await loadServices(settings.servicesDir);
  const results = await Promise.all(set.services.filter((s) => s.enabled).map(async (spec) => {
    if (!spec.check) return { service: spec.name, ok: true, checked: false, message: 'no check command', details: [] as string[] };
    try {
      await checkService(spec);
      return { service: spec.name, ok: true, checked: true, message: spec.check.command.join(' '), details: [] as string[] };
    } catch (error) {
      const e = error as KeaKnotError;
      return { service: spec.name, ok: false, checked: true, message: e.message, details: [...e.details] };
    }
  }));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ok: results.every((r) => r.ok), services: results })}\n`);
  } else {
    for (const r of results) {
      process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.service}: ${r.message}\n${r.details.map((line) => `        ${line}\n`).join('')}`);
    }
  }
  return results.every((r) => r.ok) ? ExitCode.ok : ExitCode.failure;
}
