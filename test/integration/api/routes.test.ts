import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inProcessSupervisor, type InProcess } from '../../helpers/in-process.js';
import { svc } from '../../helpers/supervisor-process.js';

let sup: InProcess;
const CHECK = 'check: {command: [sh, -c, "grep -q good $DIR/daemon.conf || { echo \'error: config, file $DIR/daemon.conf, line 1, bad\' >&2; exit 1; }"]}\n';

beforeAll(async () => {
  sup = await inProcessSupervisor({
    'daemon.yaml': svc('daemon', ['run'], `${CHECK}reload: {signal: HUP}\n`),
    'refuser.yaml': svc('refuser', ['run'], 'reload: {command: [sh, -c, "echo \'error: (parser failed)\'; exit 1"]}\n'),
    'plain.yaml': svc('plain', ['run']),
    'later.yaml': svc('later', ['run'], 'enabled: false\n'),
    'daemon.conf': 'good\n',
  });
  await sup.until('daemon', 'ready');
  await sup.until('refuser', 'ready');
  await sup.until('plain', 'ready');
});
afterAll(async () => { await sup?.cleanup(); });

describe('control API routes (inject)', () => {
  it('answers liveness, readiness and the service list', async () => {
    const app = sup.app();
    expect((await app.inject({ url: '/v1/live' })).json()).toMatchObject({ status: 'alive', pid: process.pid });
    const ready = await app.inject({ url: '/v1/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ ready: true, reasons: [] });
    const list = (await app.inject({ url: '/v1/services' })).json() as { services: { name: string; state: string; pid: number | null }[] };
    expect(list.services.map((s) => [s.name, s.state])).toEqual([['daemon', 'ready'], ['later', 'disabled'], ['plain', 'ready'], ['refuser', 'ready']]);
    const one = (await app.inject({ url: '/v1/services/daemon' })).json() as { pid: number; restarts: number; lastExit: unknown };
    expect(one.pid).toBeGreaterThan(1);
    expect(one.restarts).toBe(0);
  });

  it('reloads with check first; a failed check leaves the daemon untouched (same pid) with 422 and the checker output', async () => {
    const app = sup.app();
    const before = sup.supervisor.runner('daemon').pid;
    const ok = await app.inject({ method: 'POST', url: '/v1/services/daemon/reload' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ service: 'daemon', ok: true, method: 'SIGHUP' });
    await expect.poll(() => sup.supervisor.runner('daemon').history.last().some((e) => e.msg === 'got HUP')).toBe(true);

    await writeFile(path.join(sup.dir, 'daemon.conf'), 'broken\n');
    const hups = sup.supervisor.runner('daemon').history.last().filter((e) => e.msg === 'got HUP').length;
    const refused = await app.inject({ method: 'POST', url: '/v1/services/daemon/reload' });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ error: { code: 'E_CHECK_FAILED', details: [`error: config, file ${sup.dir}/daemon.conf, line 1, bad`] } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sup.supervisor.runner('daemon').history.last().filter((e) => e.msg === 'got HUP')).toHaveLength(hups);
    expect(sup.supervisor.runner('daemon').pid).toBe(before);
    expect(sup.supervisor.runner('daemon').status().lastReload).toMatchObject({ ok: false });
    await writeFile(path.join(sup.dir, 'daemon.conf'), 'good\n');
  });

  it('reports a daemon that refuses its reload as an error (502), not a success', async () => {
    const response = await sup.app().inject({ method: 'POST', url: '/v1/services/refuser/reload' });
    expect(response.statusCode).toBe(502);
    expect(response.json()).toMatchObject({ error: { code: 'E_RELOAD_FAILED', details: ['error: (parser failed)'] } });
  });

  it('serializes concurrent reloads of one service', async () => {
    const app = sup.app();
    const results = await Promise.all(Array.from({ length: 5 }, () => app.inject({ method: 'POST', url: '/v1/services/daemon/reload' })));
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200]);
    const ends = results.map((r) => (r.json() as { at: number }).at);
    expect([...ends].sort((a, b) => a - b)).toEqual(ends);
  });

  it('reloads all: a service without a reload method is skipped, a refusal makes it 502', async () => {
    const response = await sup.app().inject({ method: 'POST', url: '/v1/reload' });
    expect(response.statusCode).toBe(502);
    const body = response.json() as { ok: boolean; outcomes: { service: string; ok: boolean }[] };
    expect(body.outcomes.map((o) => [o.service, o.ok]).sort()).toEqual([['daemon', true], ['refuser', false]]);
  });

  it('stops, starts and restarts a service; readiness follows', async () => {
    const app = sup.app();
    const stopped = await app.inject({ method: 'POST', url: '/v1/services/plain/stop' });
    expect(stopped.json()).toMatchObject({ name: 'plain', state: 'stopped', pid: null });
    const notReady = await app.inject({ url: '/v1/ready' });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json()).toEqual({ ready: false, reasons: ['plain is stopped'] });
    const conflict = await app.inject({ method: 'POST', url: '/v1/services/plain/reload' });
    expect(conflict.statusCode).toBe(409);
    const started = await app.inject({ method: 'POST', url: '/v1/services/plain/start' });
    expect(started.json()).toMatchObject({ name: 'plain', state: 'ready' });
    const pid = (started.json() as { pid: number }).pid;
    const restarted = await app.inject({ method: 'POST', url: '/v1/services/plain/restart' });
    expect(restarted.json()).toMatchObject({ name: 'plain', state: 'ready' });
    expect((restarted.json() as { pid: number }).pid).not.toBe(pid);
    expect((await app.inject({ url: '/v1/ready' })).statusCode).toBe(200);
  });

  it('returns the last lines of a service as NDJSON', async () => {
    const response = await sup.app().inject({ url: '/v1/services/daemon/logs?lines=2' });
    expect(response.headers['content-type']).toContain('application/x-ndjson');
    const lines = response.body.trim().split('\n').map((line) => JSON.parse(line) as { msg: string; stream: string });
    expect(lines).toHaveLength(2);
    expect(lines.every((l) => l.stream === 'stdout')).toBe(true);
  });

  it('exposes Prometheus metrics per service', async () => {
    const text = (await sup.app().inject({ url: '/metrics' })).body;
    expect(text).toContain('kea_knot_service_state{service="daemon",state="ready"} 1');
    expect(text).toContain('kea_knot_service_state{service="later",state="disabled"} 1');
    expect(text).toMatch(/kea_knot_service_restarts\{service="plain"\} 0/);
    expect(text).toContain('kea_knot_service_last_reload_success{service="refuser"} 0');
    expect(text).toMatch(/kea_knot_service_uptime_seconds\{service="daemon"\} \d/);
  });

  it.each([
    ['unknown service', 'POST', '/v1/services/nope/reload', undefined, 404],
    ['unknown action', 'POST', '/v1/services/daemon/explode', undefined, 404],
    ['unknown route', 'GET', '/v2/services', undefined, 404],
    ['wrong verb on an action', 'GET', '/v1/services/daemon/reload', undefined, 405],
    ['wrong verb on the list', 'DELETE', '/v1/services', undefined, 405],
    ['wrong verb on liveness', 'POST', '/v1/live', undefined, 405],
    ['malformed JSON body', 'POST', '/v1/services/daemon/stop', '{"oops', 400],
    ['oversized body', 'POST', '/v1/reload', JSON.stringify({ pad: 'x'.repeat(64 * 1024) }), 413],
    ['bad line count', 'GET', '/v1/services/daemon/logs?lines=-4', undefined, 400],
    ['huge line count', 'GET', '/v1/services/daemon/logs?lines=1e9', undefined, 400],
    ['path traversal', 'GET', '/v1/services/..%2F..%2Fetc/logs', undefined, 404],
  ] as const)('answers %s with a clear 4xx', async (_what, method, url, payload, status) => {
    const app = sup.app();
    const response = await app.inject({ method, url, ...(payload === undefined ? {} : { payload, headers: { 'content-type': 'application/json' } }) });
    expect(response.statusCode).toBe(status);
    expect((response.json() as { error: { message: string } }).error.message.length).toBeGreaterThan(5);
    if (status === 405) expect(response.headers.allow).toBeTruthy();
    // The supervisor is still healthy after each.
    expect((await app.inject({ url: '/v1/live' })).statusCode).toBe(200);
  });

  it('with a token, refuses missing and wrong tokens but keeps liveness and metrics open', async () => {
    const token = 'a-very-long-test-token-0123456789';
    const app = sup.app(token);
    expect((await app.inject({ url: '/v1/services' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/v1/services', headers: { authorization: 'Bearer wrong' } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/v1/services', headers: { authorization: `Basic ${token}` } })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/v1/services/plain/stop', headers: { authorization: 'Bearer x' } })).statusCode).toBe(401);
    expect(sup.supervisor.runner('plain').state).toBe('ready');
    expect((await app.inject({ url: '/v1/services', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    expect((await app.inject({ url: '/v1/live' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(200);
  });
});
