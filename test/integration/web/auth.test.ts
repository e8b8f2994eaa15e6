// The dashboard's login, sessions, CSRF checks, escaping and redaction, against a real
// supervisor running a real fixture service (inject: no socket, no browser).
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeaKnotError } from '../../../src/errors.js';
import { readSettings } from '../../../src/settings.js';
import { LogHistory } from '../../../src/logs/history.js';
import { logEvents, STREAM_BUFFER_BYTES } from '../../../src/web/log-stream.js';
import { Redactor, REDACTED } from '../../../src/web/redact.js';
import { buildWebApp, LOGIN_COOKIE, readWebSettings, SESSION_COOKIE } from '../../../src/web/server.js';
import { inProcessSupervisor, type InProcess } from '../../helpers/in-process.js';
import { until } from '../../helpers/netns.js';
import { ROOT } from '../../helpers/supervisor-process.js';

const PASSWORD = 'correct horse battery staple';
const API_TOKEN = 'api-token-0123456789abcdef';
const TSIG = 'c2VjcmV0LXRzaWcta2V5LW9mLWtub3QtMTIzNDU2Nzg=';
let sup: InProcess;
let confDir: string;
let app: FastifyInstance;

beforeAll(async () => {
  confDir = await mkdtemp(path.join(tmpdir(), 'kk-web-auth-'));
  await writeFile(path.join(confDir, 'knot.conf'), `key:\n  - id: kea-knot-ddns\n    algorithm: hmac-sha256\n    secret: ${TSIG}\n`);
  const lines = [
    `echo '<script>window.__xss=1</script> client <b>bold</b>'`,
    `echo 'token ${API_TOKEN} and key ${TSIG}'`,
    'while :; do sleep 1 & wait $!; done',
  ].join('; ');
  sup = await inProcessSupervisor({ 'chatty.yaml': `name: chatty\ncommand: [sh, -c, ${JSON.stringify(lines)}]\n` });
  await sup.until('chatty', 'ready');
  await until(async () => sup.supervisor.runner('chatty').history.size >= 2, 10_000, 'the lines of chatty');
  app = web();
}, 30_000);

afterAll(async () => {
  await app?.close();
  await sup?.cleanup();
  await rm(confDir, { recursive: true, force: true });
});

function web(): FastifyInstance {
  const redactor = new Redactor([PASSWORD, API_TOKEN], { KNOT_CONF_DIR: confDir });
  const built = buildWebApp({ supervisor: sup.supervisor, password: PASSWORD, redactor }).app;
  return built;
}

const setCookies = (response: LightMyRequestResponse) => ([] as string[]).concat(response.headers['set-cookie'] ?? []);
const cookieValue = (response: LightMyRequestResponse, name: string) => setCookies(response).find((c) => c.startsWith(`${name}=`))?.split(';')[0]!.slice(name.length + 1);
const formOf = (fields: Record<string, string>) => ({ payload: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });

/** GET /login, then POST the form as a browser would; the response of the POST. */
async function login(target: FastifyInstance, password: string, extraHeaders: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  const form = await target.inject({ url: '/login' });
  const token = cookieValue(form, LOGIN_COOKIE)!;
  expect(form.body).toContain(`value="${token}"`);
  const body = formOf({ _csrf: token, password });
  return target.inject({ method: 'POST', url: '/login', ...body, headers: { ...body.headers, cookie: `${LOGIN_COOKIE}=${token}`, ...extraHeaders } });
}

async function session(target = app): Promise<{ cookie: string; csrf: string }> {
  const response = await login(target, PASSWORD);
  expect(response.statusCode).toBe(303);
  const cookie = `${SESSION_COOKIE}=${cookieValue(response, SESSION_COOKIE)}`;
  const page = await target.inject({ url: '/', headers: { cookie } });
  const csrf = /<meta name="csrf" content="([^"]+)">/.exec(page.body)![1]!;
  return { cookie, csrf };
}

describe('web dashboard: login and sessions', () => {
  it('sends everyone without a session to the login page; pages and fragments need one', async () => {
    const page = await app.inject({ url: '/' });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/login');
    expect((await app.inject({ url: '/?partial=1', headers: { 'x-partial': '1' } })).statusCode).toBe(401);
    expect((await app.inject({ url: '/logs/chatty/stream' })).statusCode).toBe(401);
    const form = await app.inject({ url: '/login' });
    expect(form.statusCode).toBe(200);
    expect(form.headers['content-security-policy']).toContain("script-src 'self'");
    expect(form.headers['x-frame-options']).toBe('DENY');
    expect(setCookies(form).find((c) => c.startsWith(`${LOGIN_COOKIE}=`))).toMatch(/HttpOnly; SameSite=Strict/);
  });

  it('refuses a wrong password and a login without its form token; a right one gets an HttpOnly, SameSite=Strict cookie', async () => {
    const wrong = await login(app, 'not the password at all');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain('Wrong password.');
    expect(cookieValue(wrong, SESSION_COOKIE)).toBeUndefined();
    const noToken = await app.inject({ method: 'POST', url: '/login', ...formOf({ password: PASSWORD }) });
    expect(noToken.statusCode).toBe(403);
    expect(cookieValue(noToken, SESSION_COOKIE)).toBeUndefined();

    const right = await login(app, PASSWORD);
    expect(right.statusCode).toBe(303);
    const cookie = setCookies(right).find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
    expect(cookie).toMatch(/; Path=\/; HttpOnly; SameSite=Strict$/);
    // Behind a TLS proxy the cookie is Secure.
    const proxied = await login(app, PASSWORD, { 'x-forwarded-proto': 'https' });
    expect(setCookies(proxied).find((c) => c.startsWith(`${SESSION_COOKIE}=`))).toMatch(/; Secure/);
    const page = await app.inject({ url: '/', headers: { cookie: cookie.split(';')[0]! } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-service="chatty"');
  });

  it('checks the CSRF token and the origin of every POST; logging out ends the session', async () => {
    const { cookie, csrf } = await session();
    const noToken = await app.inject({ method: 'POST', url: '/logout', ...formOf({}), headers: { ...formOf({}).headers, cookie } });
    expect(noToken.statusCode).toBe(403);
    const wrongToken = await app.inject({ method: 'POST', url: '/logout', ...formOf({ _csrf: 'x'.repeat(43) }), headers: { ...formOf({}).headers, cookie } });
    expect(wrongToken.statusCode).toBe(403);
    const otherSite = await app.inject({ method: 'POST', url: '/logout', ...formOf({ _csrf: csrf }), headers: { ...formOf({}).headers, cookie, origin: 'http://evil.example', host: 'dash.lan:8080' } });
    expect(otherSite.statusCode).toBe(403);
    expect((await app.inject({ url: '/', headers: { cookie } })).statusCode).toBe(200);
    const out = await app.inject({ method: 'POST', url: '/logout', ...formOf({ _csrf: csrf }), headers: { ...formOf({}).headers, cookie, origin: 'http://dash.lan:8080', host: 'dash.lan:8080' } });
    expect(out.statusCode).toBe(303);
    expect((await app.inject({ url: '/', headers: { cookie } })).headers.location).toBe('/login');
  });

  it('refuses every login, the right password too, after 5 failed ones from one address', async () => {
    const limited = web();
    try {
      for (let i = 0; i < 5; i += 1) expect((await login(limited, `wrong ${i}`)).statusCode).toBe(401);
      const blocked = await login(limited, PASSWORD);
      expect(blocked.statusCode).toBe(429);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      expect(blocked.body).toContain('Too many failed logins');
      expect(cookieValue(blocked, SESSION_COOKIE)).toBeUndefined();
    } finally {
      await limited.close();
    }
  });
});

describe('web dashboard: what pages show', () => {
  it('renders a log line holding markup as text, and hides the secrets it knows of', async () => {
    const { cookie } = await session();
    const page = await app.inject({ url: '/logs/chatty', headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('&lt;script&gt;window.__xss=1&lt;/script&gt; client &lt;b&gt;bold&lt;/b&gt;');
    expect(page.body).not.toContain('<script>window');
    expect(page.body).not.toContain('<b>bold');
    expect(page.body).toContain(`token ${REDACTED} and key ${REDACTED}`);
    for (const secret of [PASSWORD, API_TOKEN, TSIG]) expect(page.body).not.toContain(secret);
  });

  it('serves its one script and stylesheet from its own origin, and no inline script', async () => {
    const { cookie } = await session();
    const page = await app.inject({ url: '/', headers: { cookie } });
    const scripts = [...page.body.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
    expect(scripts).toHaveLength(1);
    expect(scripts[0]).toMatch(/^ src="\/assets\/app\.[0-9a-f]{12}\.js" defer$/);
    const src = /src="([^"]+)"/.exec(scripts[0]!)![1]!;
    const asset = await app.inject({ url: src });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toMatch(/^text\/javascript/);
    expect(asset.body).toContain('EventSource');
  });
});

describe('web dashboard log tail', () => {
  it('holds at most its buffer for a browser that stops reading, then says how many lines it skipped', async () => {
    const history = new LogHistory(10);
    const { stream, close } = logEvents(history, (text) => text.replaceAll('hidden-value', REDACTED));
    for (let i = 0; i < 5000; i += 1) history.add({ time: 0, stream: 'stdout', level: 30, msg: `line ${i} hidden-value ${'x'.repeat(100)}` });
    // Nothing read yet: what waits is bounded by the buffer (plus the line that filled it).
    expect(stream.writableLength).toBeLessThan(STREAM_BUFFER_BYTES + 1024);
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => { text += chunk; });
    await until(async () => /lines skipped/.test(text), 5000, 'the skipped notice');
    close();
    const lines = [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1]!) as { msg: string });
    const skipped = Number(/kea-knot: (\d+) lines skipped/.exec(text)![1]);
    expect(lines.length - 1 + skipped).toBe(5000);
    expect(lines[0]!.msg).toMatch(new RegExp(`^line 0 ${REDACTED.replace(/[[\]]/g, '\\$&')} `));
    expect(text).not.toContain('hidden-value');
  });
});

describe('web dashboard over HTTPS', () => {
  it('listens with the certificate given and makes its cookies Secure', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kk-web-tls-'));
    let tls: FastifyInstance | undefined;
    try {
      const openssl = spawn('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
      expect(await new Promise((resolve) => openssl.once('close', resolve))).toBe(0);
      await writeFile(path.join(dir, 'password'), `${PASSWORD}\n`);
      const settings = await readWebSettings({ webListen: '127.0.0.1:0', webPasswordFile: path.join(dir, 'password'), webTlsCertFile: path.join(dir, 'cert.pem'), webTlsKeyFile: path.join(dir, 'key.pem') });
      tls = buildWebApp({ supervisor: sup.supervisor, password: settings!.password, https: settings!.https! }).app;
      await tls.listen({ host: '127.0.0.1', port: 0 });
      const port = (tls.server.address() as { port: number }).port;
      const get = (pathname: string, cookie = '') => new Promise<{ status: number; cookies: string[]; body: string }>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port, path: pathname, rejectUnauthorized: false, headers: cookie ? { cookie } : {} }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (s: string) => { body += s; }).on('end', () => resolve({ status: res.statusCode!, cookies: ([] as string[]).concat(res.headers['set-cookie'] ?? []), body }));
        });
        req.once('error', reject);
        req.end();
      });
      const form = await get('/login');
      expect(form.status).toBe(200);
      expect(form.cookies[0]).toMatch(/^kk_login=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Secure; Max-Age=3600$/);
    } finally {
      await tls?.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('web dashboard settings', () => {
  it('refuses a listener without a password file, and a short password, with E_CONFIG (exit 78)', async () => {
    const problems = (env: NodeJS.ProcessEnv) => {
      try { readSettings(env); return []; } catch (error) { return [(error as KeaKnotError).code, ...(error as KeaKnotError).details]; }
    };
    expect(problems({ KEA_KNOT_WEB_LISTEN: '127.0.0.1:8080' })).toEqual(['E_CONFIG', expect.stringMatching(/^KEA_KNOT_WEB_PASSWORD_FILE="": KEA_KNOT_WEB_LISTEN is set, so a password file is required/)]);
    expect(problems({ KEA_KNOT_WEB_LISTEN: '127.0.0.1:8080', KEA_KNOT_WEB_PASSWORD_FILE: '/x', KEA_KNOT_WEB_TLS_CERT_FILE: '/c' })).toEqual(['E_CONFIG', expect.stringMatching(/^KEA_KNOT_WEB_TLS_KEY_FILE="": HTTPS needs both/)]);
    const dir = await mkdtemp(path.join(tmpdir(), 'kk-web-settings-'));
    try {
      await mkdir(path.join(dir, 'services.d'));
      await writeFile(path.join(dir, 'short'), 'tooshort\n');
      const run = (env: NodeJS.ProcessEnv) => new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), 'supervise', '--services-dir', path.join(dir, 'services.d'), '--socket', path.join(dir, 'api.sock')], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
        child.once('close', (code) => resolve({ code, stderr }));
      });
      const missing = await run({ KEA_KNOT_WEB_LISTEN: '127.0.0.1:18080' });
      expect(missing.code).toBe(78);
      expect(missing.stderr).toContain('KEA_KNOT_WEB_PASSWORD_FILE');
      const short = await run({ KEA_KNOT_WEB_LISTEN: '127.0.0.1:18080', KEA_KNOT_WEB_PASSWORD_FILE: path.join(dir, 'short') });
      expect(short.code).toBe(78);
      expect(short.stderr).toMatch(/shorter than 12 characters/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
