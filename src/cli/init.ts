import { ExitCode } from '../errors.js';
import { applyTimezone, prepareRuntime, SYSTEM_ROOT_VARIABLE } from '../setup/init.js';
import { pathsFrom } from '../setup/paths.js';
import { SETUP_SETTINGS } from '../setup/settings.js';
import { setup } from './setup.js';
import { parseFlags } from './usage.js';

export const initHelp = `Usage: kea-knot init

The container's first service (a oneshot): creates the runtime directories, gives the
Knot user its storage, on the first start of an empty configuration volume writes a
configuration from the setup environment (kea-knot setup --if-missing), and then points
\$KEA_KNOT_ROOT/etc/localtime at TZ's zone. The image sets KEA_KNOT_ROOT=/; without it
no /etc/localtime is touched (the daemons read TZ themselves).`;

export async function init(args: string[]): Promise<number> {
  const { values } = parseFlags('init', args, { help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    process.stdout.write(`${initHelp}\n`);
    return ExitCode.ok;
  }
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const paths = pathsFrom(process.env);
  await prepareRuntime(paths, process.env[SETUP_SETTINGS['knot-user'].env] ?? 'knot', say);
  const code = await setup(['--if-missing']);
  // Only once the configuration stands, and only in the system the image names as its own.
  if (code === ExitCode.ok) await applyTimezone(process.env.TZ, process.env[SYSTEM_ROOT_VARIABLE], say);
  return code;
}
