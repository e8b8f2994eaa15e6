/**
 * `${VAR}`, `${VAR:-default}` and `$$` (a literal `$`) in service files, resolved from the
 * container environment so paths and switches can be set at `docker run`.
 */
const REFERENCE = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{[^}]*\}?/g;

export type Environment = Readonly<Record<string, string | undefined>>;

export interface InterpolationProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/** Replaces references in one string; returns the problems instead of throwing. */
export function interpolateString(text: string, env: Environment): { value: string; problems: string[] } {
  const problems: string[] = [];
  const value = text.replace(REFERENCE, (whole, name: string | undefined, fallback: string | undefined) => {
    if (whole === '$$') return '$';
    if (name === undefined) {
      problems.push(`"${whole}" is not a valid reference; write \${NAME} or \${NAME:-default} (and $$ for a literal $)`);
      return whole;
    }
    const set = env[name];
    // Like a shell's ${VAR:-x}: an empty value also takes the default.
    if (set !== undefined && set !== '') return set;
    if (fallback !== undefined) return fallback;
    if (set === '') return '';
    problems.push(`\${${name}} is not set; set ${name} in the container environment or write \${${name}:-default}`);
    return whole;
  });
  return { value, problems };
}

/** Interpolates every string inside parsed YAML (keys stay literal). */
export function interpolateTree(
  value: unknown,
  env: Environment,
  path: (string | number)[] = [],
  problems: InterpolationProblem[] = [],
): { value: unknown; problems: InterpolationProblem[] } {
  if (typeof value === 'string') {
    const result = interpolateString(value, env);
    for (const message of result.problems) problems.push({ path, message });
    return { value: result.value, problems };
  }
  if (Array.isArray(value)) {
    return { value: value.map((item, index) => interpolateTree(item, env, [...path, index], problems).value), problems };
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = interpolateTree(item, env, [...path, key], problems).value;
    }
    return { value: out, problems };
  }
  return { value, problems };
}
