import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { byLine, byMsg, pidAlive, startSupervisor, svc, type SupervisorHandle } from '../../helpers/supervisor-process.js';

let run: SupervisorHandle | undefined;
afterEach(async () => { await run?.cleanup(); run = undefined; });

describe('kea-knot supervise with fixture services', () => {
  it('restarts a service that crashes, with a new pid', async () => {
    run = await startSupervisor({ 'crash.yaml': svc('crash', ['exit', '1', '0.3']) });
    const first = await run.waitFor(byMsg('crash', /is ready/));
    const restarted = await run.waitFor((r) => byMsg('crash', /is ready/)(r) && r.pid !== first.pid);
    expect(restarted.pid).not.toBe(first.pid);
    expect(run.records.some(byMsg('crash', /exited with code 1; restarting in \d+ ms/))).toBe(true);
    expect(run.records.some(byLine('crash', /^error: exiting with 1$/))).toBe(true);
  });

  it('marks a crash-looping service failed after max_crashes instead of spinning', async () => {
    run = await startSupervisor({
      'loop.yaml': svc('loop', ['exit', '2'], 'backoff: {max_crashes: 4, window: 1m, initial: 50ms}\n'),
      'steady.yaml': svc('steady', ['run']),
    });
    const failed = await run.waitFor(byMsg('loop', / failed: /));
    expect(failed.msg).toBe('loop failed: ended 4 times within 1m (last: exited with code 2); fix the cause, then start it again');
    // Backoff: 4 starts, no more, and the delays grew.
    const delays = run.records.filter(byMsg('loop', /restarting in/)).map((r) => r.delayMs as number);
    expect(delays).toHaveLength(3);
    expect(delays[2]!).toBeGreaterThan(delays[0]!);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(run.records.filter(byLine('loop', /^exiting with 2$/))).toHaveLength(4);
    // A failed non-critical service leaves the rest running.
    expect(run.child.exitCode).toBeNull();
  });

  it('stops a service that ignores SIGTERM with SIGKILL after its grace time, then exits 0', async () => {
    run = await startSupervisor({ 'stubborn.yaml': svc('stubborn', ['ignore-term'], 'stop_grace: 600ms\n') });
    const ready = await run.waitFor(byMsg('stubborn', /is ready/));
    await run.waitFor(byLine('stubborn', /ignoring TERM/));
    const sent = Date.now();
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const took = Date.now() - sent;
    expect(took).toBeGreaterThanOrEqual(600);
    expect(run.records.some(byMsg('stubborn', /did not stop within 600 ms of SIGTERM; killing it/))).toBe(true);
    expect(pidAlive(ready.pid as number)).toBe(false);
  });

  it('waits for every process of the group, also one that outlives the main process', async () => {
    run = await startSupervisor({ 'family.yaml': svc('family', ['child-ignores-term'], 'stop_grace: 500ms\n') });
    const line = await run.waitFor(byLine('family', /^child \d+$/));
    const grandchild = Number(line.msg.split(' ')[1]);
    expect(pidAlive(grandchild)).toBe(true);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(pidAlive(grandchild)).toBe(false);
  });

  it('starts dependents only once a slow service is ready, and stops them first', async () => {
    run = await startSupervisor({
      'db.yaml': svc('db', ['ready-after', '0.8'], 'ready: {log: "^listening$", timeout: 5s}\n'),
      'app.yaml': svc('app', ['run'], 'depends_on: [db]\n'),
      'init.yaml': 'name: init\ntype: oneshot\ncommand: [sh, -c, "echo init done"]\n',
      'api.yaml': svc('api', ['run'], 'depends_on: [app, init]\n'),
    });
    await run.waitFor(byMsg('api', /is ready/));
    await run.waitFor(byLine('app', /started pid/));
    const order = (pattern: RegExp, names: string[]) => names.map((name) => run!.records.findIndex(byMsg(name, pattern)));
    const [dbReady, appReady, apiReady] = order(/is ready/, ['db', 'app', 'api']);
    const appStart = run.records.findIndex(byLine('app', /started pid/));
    expect(dbReady).toBeGreaterThanOrEqual(0);
    expect(appStart).toBeGreaterThan(dbReady!);
    expect(apiReady).toBeGreaterThan(appReady!);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    const [dbStopped, appStopped, apiStopped] = order(/stopped$/, ['db', 'app', 'api']);
    expect(apiStopped).toBeLessThan(appStopped!);
    expect(appStopped).toBeLessThan(dbStopped!);
  });

  it('fails a service that is not ready in time and says why', async () => {
    run = await startSupervisor({ 'slow.yaml': svc('slow', ['ready-after', '5'], 'restart: never\nready: {log: listening, timeout: 300ms}\n') });
    const failed = await run.waitFor(byMsg('slow', / failed: /));
    expect(failed.msg).toMatch(/slow was not ready within 300 ms: no line matched \/listening\//);
  });

  it('waits on unix socket, tcp and command probes', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kk-probe-'));
    try {
      const sock = path.join(dir, 'probe.sock');
      const portFile = path.join(dir, 'port');
      run = await startSupervisor({
        'sock.yaml': `name: sock\ncommand: [python3, -c, "import socket,time,os\\ntime.sleep(0.3)\\ns=socket.socket(socket.AF_UNIX)\\ns.bind('${sock}')\\ns.listen()\\ntime.sleep(60)"]\nready: {socket: ${sock}}\n`,
        'tcp.yaml': 'name: tcp\ncommand: [python3, -c, "import socket,time\\ntime.sleep(0.3)\\ns=socket.socket()\\ns.bind((\'127.0.0.1\',0))\\ns.listen()\\nopen(\'' + portFile + '\',\'w\').write(str(s.getsockname()[1]))\\ntime.sleep(60)"]\nready: {command: [sh, -c, "test -s ' + portFile + '"]}\n',
      });
      await run.waitFor(byMsg('sock', /is ready/));
      await run.waitFor(byMsg('tcp', /is ready/));
      const port = await readFile(portFile, 'utf8');
      await run.cleanup();
      run = await startSupervisor({
        'tcpsrv.yaml': `name: tcpsrv\ncommand: [python3, -c, "import socket,time\\ntime.sleep(0.3)\\ns=socket.socket()\\ns.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\\ns.bind(('127.0.0.1',${port}))\\ns.listen()\\ntime.sleep(60)"]\nready: {tcp: "127.0.0.1:${port}"}\n`,
      });
      const ready = await run.waitFor(byMsg('tcpsrv', /is ready/));
      expect(ready.state).toBe('ready');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('does not start a service whose check fails and shows the checker output', async () => {
    run = await startSupervisor({
      'checked.yaml': svc('checked', ['run'], 'restart: never\ncheck: {command: [sh, -c, "echo \'error: config, file /etc/x.conf, line 3, bad value\' >&2; exit 1"]}\n'),
      'after.yaml': svc('after', ['run'], 'depends_on: [checked]\n'),
    });
    await run.waitFor(byMsg('checked', / failed: /));
    expect(run.records.some((r) => r.service === 'checked' && r.check === true && r.msg === 'error: config, file /etc/x.conf, line 3, bad value')).toBe(true);
    expect(run.records.some(byLine('checked', /started pid/))).toBe(false);
    const blocked = await run.waitFor((r) => r.msg === 'after will not start: it depends on checked, which failed');
    expect(blocked.level).toBe(50);
  });

  it('removes a stale PID file before start', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kk-stale-'));
    try {
      const pidFile = path.join(dir, 'stale.pid');
      await writeFile(pidFile, '999999\n');
      run = await startSupervisor({ 'pidded.yaml': svc('pidded', ['run'], `pid_file: ${pidFile}\n`) });
      await run.waitFor(byMsg('pidded', /is ready/));
      expect(run.records.some(byMsg('pidded', new RegExp(`removed stale PID file ${pidFile}`)))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops everything and exits 1 when a critical service fails', async () => {
    run = await startSupervisor({
      'core.yaml': svc('core', ['exit', '9', '0.2'], 'critical: true\nrestart: never\n'),
      'other.yaml': svc('other', ['run']),
    });
    expect(await run.exited).toBe(1);
    expect(run.records.some((r) => /critical service core failed: exited with code 9/.test(r.msg))).toBe(true);
    expect(run.records.some(byLine('other', /got TERM/))).toBe(true);
  });

  it('interpolates the environment and skips disabled services', async () => {
    run = await startSupervisor({
      'greeter.yaml': 'name: greeter\ncommand: [sh, -c, "echo $GREETING from ${WHO:-nobody}; sleep 60"]\nenvironment: {GREETING: "${KK_GREETING:-hi}"}\n',
      'off.yaml': svc('off', ['run'], 'enabled: ${KK_OFF_ENABLED:-false}\n'),
    }, { env: { WHO: 'the test' } });
    await run.waitFor(byLine('greeter', /^hi from the test$/));
    const starting = await run.waitFor((r) => /^starting \d service/.test(r.msg));
    expect(starting.disabled).toEqual(['off']);
  });

  it('keeps its stdout pipe blocking, so a slow reader never costs sonic-boom a 100 ms sleep', async () => {
    run = await startSupervisor({ 'a.yaml': svc('a', ['run']) });
    await run.waitFor(byMsg('a', /is ready/));
    const flags = parseInt(/flags:\s+(\d+)/.exec(await readFile(`/proc/${run.child.pid}/fdinfo/1`, 'utf8'))![1]!, 8);
    expect(flags & 0o4000).toBe(0); // O_NONBLOCK
  });

  it('reports a program that does not exist, with the file to fix', async () => {
    run = await startSupervisor({ 'missing.yaml': 'name: missing\ncommand: [/nonexistent/daemon]\nrestart: never\n' });
    const failed = await run.waitFor(byMsg('missing', / failed: /));
    expect(failed.msg).toMatch(/cannot run \/nonexistent\/daemon: spawn \/nonexistent\/daemon ENOENT; check command in .*missing\.yaml/);
  });
});
