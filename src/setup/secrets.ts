/**
 * Which environment variables are secrets: every name ending in _SECRET, _TOKEN or
 * _PASSWORD, or in one of those plus _FILE (the file variant names where the secret is,
 * which is just as private). The supervisor's children (daemons, checks, probes, reloads)
 * get none of them unless their service file lists the name under `secrets`; a daemon's
 * environment is readable in /proc by anyone who may read its process.
 */
export const SECRET_VARIABLE = /_(SECRET|TOKEN|PASSWORD)(_FILE)?$/;

/** `env` without its secret variables, except the names in `keep`. */
export function withoutSecrets(env: NodeJS.ProcessEnv, keep: readonly string[] = []): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !SECRET_VARIABLE.test(name) || keep.includes(name)));
}
