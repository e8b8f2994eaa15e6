import { ExitCode } from '../errors.js';
import { applyTimezone, prepareRuntime } from '../setup/init.js';
import { pathsFrom } from '../setup/paths.js';
import { SETUP_SETTINGS } from '../setup/settings.js';
import { setup } from './setup.js';
import { parseFlags } from './usage.js';

export const initHelp = `Usage: kea-knot init

The container's first service (a oneshot): creates the runtime directories, gives the
Knot user its storage, applies TZ, and on the first start of an empty configuration
volume writes a configuration from the setup environment (kea-knot setup --if-missing).`;

export async function init(args: string[]): Promise<number> {
  const { values } = parseFlags('init', args, { help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    process.stdout.write(`${initHelp}\n`);
    return ExitCode.ok;
  }
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const paths = pathsFrom(process.env);
  await applyTimezone(process.env.TZ, say);
  await prepareRuntime(paths, process.env[SETUP_SETTINGS['knot-user'].env] ?? 'knot', say);
  return setup(['--if-missing']);
}
