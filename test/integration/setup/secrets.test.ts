// The HA secret reaches the init oneshot (setup derives the pair's keys from it) and no
// other process the supervisor starts: not a daemon, its check or its readiness probe.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { byLine, byMsg, ROOT, startSupervisor, svc, type SupervisorHandle } from '../../helpers/supervisor-process.js';

let sup: SupervisorHandle | undefined;
afterEach(async () => { await sup?.cleanup(); sup = undefined; });

const SECRET = `a-secret-of-this-run-${process.pid}-${Date.now()}`;
// $$ is a literal $ in service files: the shell, not the supervisor, expands these.
const NO_SECRET = '[sh, -c, \'test -z "$${KEA_KNOT_HA_SECRET}$${KEA_KNOT_HA_SECRET_FILE}$${OTHER_TOKEN}"\']';

describe('secrets in the environment', () => {
  it('reach only the services that list them, as init.yaml does', async () => {
    const initFile = parse(await readFile(path.join(ROOT, 'services.d/init.yaml'), 'utf8')) as { secrets: string[] };
    expect(initFile.secrets).toContain('KEA_KNOT_HA_SECRET');
    sup = await startSupervisor({
      'init.yaml': `name: init\ntype: oneshot\ncommand: [sh, -c, 'echo "init has $\${KEA_KNOT_HA_SECRET} from $\${KEA_KNOT_HA_SECRET_FILE}"']\nsecrets: ${JSON.stringify(initFile.secrets)}\n`,
      'daemon.yaml': svc('daemon', ['run'], `depends_on: [init]\ncheck:\n  command: ${NO_SECRET}\nready:\n  command: ${NO_SECRET}\n`),
    }, { env: { KEA_KNOT_HA_SECRET: SECRET, KEA_KNOT_HA_SECRET_FILE: '/run/secrets/ha', OTHER_TOKEN: 'tok' } });
    await sup.waitFor(byLine('init', new RegExp(`^init has ${SECRET} from /run/secrets/ha$`)));
    // Ready means its check and its probe found no secret either.
    const ready = await sup.waitFor(byMsg('daemon', /is ready/));
    const environ = (await readFile(`/proc/${ready.pid as number}/environ`, 'utf8')).split('\0');
    expect(environ.some((entry) => entry.startsWith('PATH='))).toBe(true);
    expect(environ.filter((entry) => /^(KEA_KNOT_HA_SECRET|KEA_KNOT_HA_SECRET_FILE|OTHER_TOKEN)=/.test(entry) || entry.includes(SECRET))).toEqual([]);
  });
});
