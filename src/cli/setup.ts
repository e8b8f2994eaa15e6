import { ExitCode, KeaKnotError } from '../errors.js';
import { installedKeaSeries, keaFeatures } from '../setup/kea-version.js';
import { filesOf, pathsFrom, PATH_VARIABLES, type Paths } from '../setup/paths.js';
import { exists, installPlan, planSetup, validatePlan } from '../setup/plan.js';
import { resolveSetup, SETUP_SETTINGS, type SetupFlag } from '../setup/settings.js';
import { parseFlags } from './usage.js';

export const setupHelp = `Usage: kea-knot setup [options]

Writes one consistent Kea + Knot configuration: kea-dhcp4.conf, kea-dhcp6.conf (with
--dhcp6-subnet), kea-dhcp-ddns.conf, kea-ctrl-agent.conf, knot.conf and the forward and
reverse zone files, with a fresh TSIG key shared by Knot and the DDNS daemon (never
printed). Every file is checked with the daemons' own checkers before anything is
written, and then all are installed or none (each file fsynced, then renamed into place);
existing files are never replaced without --force.

Options (each also read from its environment variable):
${Object.entries(SETUP_SETTINGS).map(([flag, s]) => `  --${flag.padEnd(14)} ${s.env.padEnd(24)} ${s.help}`).join('\n')}
  --force          replace existing files (and make a new TSIG key)
  --if-missing     for the container's first start: write only when no configuration
                   exists yet; a complete one is left alone, a partial one refused
  -h, --help       this text

Paths (environment): ${Object.entries(PATH_VARIABLES).map(([k, v]) => `${k}=${v}`).join(', ')}

Exit codes: 0 written (or left alone with --if-missing), 1 a checker refused the result,
files exist or installing failed, 78 invalid settings (each named with its flag and
variable) or, with --if-missing, a partial configuration.`;

/**
 * --if-missing: true when the whole configuration exists and must be left alone, false
 * when none does. Some files without the others is refused: the daemons would start from
 * a set that does not agree (e.g. a DDNS key Knot does not have).
 */
async function configurationExists(paths: Paths, say: (text: string) => void): Promise<boolean> {
  const files = filesOf(paths);
  // The control agent's file only where the installed Kea uses the agent (before 3.0).
  const series = process.env[SETUP_SETTINGS['kea-version'].env] || await installedKeaSeries();
  const agent = series !== undefined && keaFeatures(series).ownHttpSocket ? [] : [files.agentConf];
  const main = [files.dhcp4Conf, files.ddnsConf, ...agent, files.knotConf];
  const found = await Promise.all(main.map((f) => exists(f)));
  const missing = main.filter((_, i) => !found[i]);
  if (missing.length === 0) {
    say('kea-knot setup: the configuration exists; left as it is');
    return true;
  }
  if (missing.length === main.length) return false;
  throw new KeaKnotError('E_CONFIG', `a partial configuration exists: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing while the others are there; restore ${missing.length === 1 ? 'it' : 'them'}, or run kea-knot setup --force to replace every file with a generated set`, {
    details: main.map((f, i) => `${found[i] ? 'present' : 'missing'}: ${f}`),
  });
}

export async function setup(args: string[]): Promise<number> {
  const options = Object.fromEntries(Object.keys(SETUP_SETTINGS).map((flag) => [flag, { type: 'string' as const }]));
  const { values } = parseFlags('setup', args, {
    ...options,
    force: { type: 'boolean' },
    'if-missing': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    process.stdout.write(`${setupHelp}\n`);
    return ExitCode.ok;
  }
  const paths = pathsFrom(process.env);
  const say = (text: string) => process.stdout.write(`${text}\n`);

  if (values['if-missing']) {
    if (await configurationExists(paths, say)) return ExitCode.ok;
    if (!process.env[SETUP_SETTINGS.domain.env] && (values as Record<string, unknown>).domain === undefined) {
      throw new KeaKnotError('E_CONFIG', `no configuration in ${paths.KEA_CONF_DIR} and ${paths.KNOT_CONF_DIR}, and no settings to write one: set ${SETUP_SETTINGS.domain.env}, ${SETUP_SETTINGS.subnet.env} and ${SETUP_SETTINGS.address.env} (see kea-knot setup --help), or mount your own configuration`);
    }
  }

  const raw: Partial<Record<SetupFlag, string>> = {};
  for (const [flag, s] of Object.entries(SETUP_SETTINGS) as [SetupFlag, (typeof SETUP_SETTINGS)[SetupFlag]][]) {
    const value = (values as Record<string, unknown>)[flag] as string | undefined ?? process.env[s.env];
    if (value !== undefined) raw[flag] = value;
  }
  const settings = await resolveSetup(raw);
  const plan = planSetup(settings, paths);
  await validatePlan(plan, paths);
  await installPlan(plan, values.force === true);
  for (const file of plan) say(`wrote ${file.path} (mode ${file.mode.toString(8)}${file.owner ? `, ${file.owner.group ? 'group' : 'owner'} ${file.owner.user}` : ''})`);
  say(`kea-knot setup: ${settings.domain} on ${settings.subnet} (pools ${settings.pools.map((p) => `${p.start}-${p.end}`).join(', ')}), DNS at ${settings.address}, for Kea ${settings.kea.series}; TSIG key written only to ${settings.kea.secretFiles ? 'its 0600 file for the DDNS daemon' : "the DDNS daemon's configuration"} and to knot.conf.`);
  return ExitCode.ok;
}
