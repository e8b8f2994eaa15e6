import { readFile } from 'node:fs/promises';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { LAZY_SCHEMA_COMPILERS } from '../api/app.js';
import { KeaKnotError } from '../errors.js';
import { parseHostPort } from '../host-port.js';
import { keaTargets } from '../kea/targets.js';
import type { Supervisor } from '../supervisor/supervisor.js';
import { ASSETS } from './assets.js';
import { LoginLimiter, parseCookies, randomToken, secretMatches, SessionStore, type Session } from './auth.js';
import { Html, html } from './html.js';
import { page, type NavItem } from './layout.js';
import { logEvents } from './log-stream.js';
import { registerManagePages } from './manage.js';
import { loginPage } from './pages/login.js';
import { logsMain, PAGE_LINES } from './pages/logs.js';
import { overviewBody, overviewMain } from './pages/overview.js';
import { readPoolUse } from './pool-use.js';
import { Redactor } from './redact.js';

export const SESSION_COOKIE = 'kk_session';
export const LOGIN_COOKIE = 'kk_login';
/** Open log tails: per session, and for the whole dashboard. */
export const MAX_STREAMS_PER_SESSION = 4;
export const MAX_STREAMS = 16;
export const MIN_PASSWORD_LENGTH = 12;

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export interface WebOptions {
  readonly supervisor: Supervisor;
  /** What the login form must be given. */
  readonly password: string;
  /** Served over HTTPS by the supervisor itself: cookies are Secure. */
  readonly https?: { readonly key: string; readonly cert: string };
  /** Takes secrets out of pages and log lines (default: the password and the environment's). */
  readonly redactor?: Redactor;
  /** Clock of sessions and login limits (tests). */
  readonly now?: () => number;
}

/** What a page module needs to add routes: the supervisor and the page shell. */
export interface WebContext {
  readonly supervisor: Supervisor;
  readonly nav: NavItem[];
  /** Renders a page of the signed-in session, secrets taken out. */
  send(reply: FastifyReply, request: FastifyRequest, options: { title: string; current: string; body: Html; notice?: { kind: 'ok' | 'error'; text: string }; status?: number }): FastifyReply;
  /** Sends a fragment (for data-refresh), secrets taken out. */
  sendFragment(reply: FastifyReply, body: Html): FastifyReply;
}

declare module 'fastify' {
  interface FastifyRequest { session?: Session; sessionId?: string }
}

const OPEN = new Set(['/login', '/favicon.ico', ...ASSETS.map((a) => a.path)]);
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * The web dashboard: server-rendered pages over the supervisor's own modules, one small
 * script, sessions in memory. Every route but the login and the assets needs a session;
 * every POST needs the session's CSRF token and, when the browser says where it comes
 * from, the same origin.
 */
export function buildWebApp(options: WebOptions): { app: FastifyInstance; context: WebContext } {
  const { supervisor } = options;
  const now = options.now ?? Date.now;
  const sessions = new SessionStore(undefined, now);
  const limiter = new LoginLimiter(undefined, now);
  const redactor = options.redactor ?? new Redactor([options.password]);
  const secureAlways = options.https !== undefined;
  let openStreams = 0;
  const streamsOf = new Map<Session, Set<() => void>>();

  const app = Fastify({
    logger: false, bodyLimit: 16 * 1024, return503OnClosing: true, forceCloseConnections: true, schemaController: LAZY_SCHEMA_COMPILERS,
    ...(options.https ? { https: options.https } : {}),
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  /** Secure when this listener speaks HTTPS or a TLS proxy in front says the browser used it. */
  const secure = (request: FastifyRequest) => secureAlways || request.headers['x-forwarded-proto'] === 'https';
  const cookie = (request: FastifyRequest, name: string, value: string, maxAgeSeconds?: number) =>
    `${name}=${value}; Path=/; HttpOnly; SameSite=Strict${secure(request) ? '; Secure' : ''}${maxAgeSeconds === undefined ? '' : `; Max-Age=${maxAgeSeconds}`}`;

  app.addHook('onRequest', async (request, reply) => {
    void reply.headers({
      'content-security-policy': CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'same-origin',
      'x-frame-options': 'DENY', 'cross-origin-opener-policy': 'same-origin',
    });
    const url = request.routeOptions.url ?? '';
    const cookies = parseCookies(request.headers.cookie);
    const id = cookies.get(SESSION_COOKIE);
    const session = sessions.get(id);
    if (session) { request.session = session; request.sessionId = id; }
    if (OPEN.has(url)) return;
    if (!session) {
      const wantsPage = request.method === 'GET' && request.headers['x-partial'] === undefined && !url.endsWith('/stream');
      if (wantsPage) return reply.code(303).header('location', '/login').send();
      return reply.code(401).type('text/plain; charset=utf-8').send('log in first');
    }
  });

  // Every POST (but the login, which has its own token): the session's CSRF token, and the
  // same origin when the browser names one. SameSite=Strict already keeps the cookie off
  // other sites' requests; this holds even for a browser that ignores SameSite.
  app.addHook('preHandler', async (request, reply) => {
    if (request.method !== 'POST') return;
    if (!sameOrigin(request)) return reply.code(403).type('text/plain; charset=utf-8').send('cross-origin request refused');
    if ((request.routeOptions.url ?? '') === '/login') return;
    const given = csrfOf(request);
    if (!request.session || given === undefined || !secretMatches(given, request.session.csrf)) {
      return reply.code(403).type('text/plain; charset=utf-8').send('missing or wrong CSRF token; reload the page');
    }
  });

  app.setErrorHandler(async (error: Error & { statusCode?: number }, request, reply) => {
    const status = error instanceof KeaKnotError ? (error.code === 'E_NOT_FOUND' ? 404 : error.code === 'E_USAGE' || error.code === 'E_CONFIG' ? 400 : 502)
      : error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (!request.session) return reply.code(status).type('text/plain; charset=utf-8').send(redactor.redact(error.message));
    return context.send(reply, request, { title: 'Error', current: '', status, notice: { kind: 'error', text: error.message }, body: html`` });
  });
  app.setNotFoundHandler(async (request, reply) => {
    if (!request.session) return reply.code(303).header('location', '/login').send();
    return context.send(reply, request, { title: 'Not found', current: '', status: 404, notice: { kind: 'error', text: `Nothing at ${request.url}.` }, body: html`` });
  });

  app.get('/favicon.ico', async (_request, reply) => reply.code(204).header('cache-control', 'public, max-age=86400').send());
  for (const asset of ASSETS) {
    app.get(asset.path, async (_request, reply) => reply.type(asset.type).header('cache-control', 'public, max-age=31536000, immutable').send(asset.body));
  }

  const context: WebContext = {
    supervisor,
    nav: [{ path: '/', label: 'Overview' }],
    send(reply, request, o) {
      const text = page({ title: o.title, current: o.current, csrf: request.session?.csrf, nav: context.nav, notice: o.notice, body: o.body }).text;
      return reply.code(o.status ?? 200).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(redactor.redact(text));
    },
    sendFragment(reply, body) {
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(redactor.redact(body.text));
    },
  };

  // The login form's token, kept while the browser has one: a second tab, or any request
  // that ends on the login page, must not make an open form stale.
  const sendLogin = (request: FastifyRequest, reply: FastifyReply, status: number, error?: string) => {
    const held = parseCookies(request.headers.cookie).get(LOGIN_COOKIE);
    const token = held !== undefined && TOKEN.test(held) ? held : randomToken();
    return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store')
      .header('set-cookie', cookie(request, LOGIN_COOKIE, token, 3600)).send(loginPage(token, error).text);
  };

  app.get('/login', async (request, reply) => {
    if (request.session) return reply.code(303).header('location', '/').send();
    return sendLogin(request, reply, 200);
  });
  app.post('/login', async (request, reply) => {
    const client = request.ip;
    const wait = limiter.retryAfterMs(client);
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      void reply.header('retry-after', String(seconds));
      return sendLogin(request, reply, 429, `Too many failed logins. Try again in ${seconds} s.`);
    }
    const body = (request.body ?? {}) as Record<string, string | undefined>;
    const expectedToken = parseCookies(request.headers.cookie).get(LOGIN_COOKIE);
    if (expectedToken === undefined || typeof body._csrf !== 'string' || !secretMatches(body._csrf, expectedToken)) {
      return sendLogin(request, reply, 403, 'The login form expired. Please try again.');
    }
    if (typeof body.password !== 'string' || !secretMatches(body.password, options.password)) {
      limiter.failed(client);
      return sendLogin(request, reply, 401, 'Wrong password.');
    }
    if (request.sessionId !== undefined) sessions.delete(request.sessionId);
    const { id } = sessions.create();
    return reply.code(303).header('location', '/')
      .header('set-cookie', [cookie(request, SESSION_COOKIE, id), cookie(request, LOGIN_COOKIE, '', 0)]).send();
  });
  app.post('/logout', async (request, reply) => {
    const session = request.session!;
    for (const close of streamsOf.get(session) ?? []) close();
    sessions.delete(request.sessionId);
    return reply.code(303).header('location', '/login').header('set-cookie', cookie(request, SESSION_COOKIE, '', 0)).send();
  });

  app.get('/', async (request, reply) => {
    const [readiness, services, pools] = await Promise.all([supervisor.readiness(), supervisor.statusWithHa(), readPoolUse(keaTargets(supervisor))]);
    const data = { readiness, services, pools };
    if ((request.query as { partial?: string }).partial !== undefined) return context.sendFragment(reply, overviewBody(data));
    return context.send(reply, request, { title: 'Overview', current: '/', body: overviewMain(data) });
  });

  context.nav.push({ path: '/logs', label: 'Logs' });
  const serviceNames = () => [...supervisor.runners.keys()];
  app.get('/logs', async (_request, reply) => reply.code(303).header('location', `/logs/${encodeURIComponent(serviceNames()[0] ?? '')}`).send());
  app.get('/logs/:name', async (request, reply) => {
    const { name } = request.params as { name: string };
    const runner = supervisor.runner(name);
    return context.send(reply, request, { title: `Logs of ${name}`, current: '/logs', body: logsMain(serviceNames(), name, runner.history.last(PAGE_LINES)) });
  });
  app.get('/logs/:name/stream', async (request, reply) => {
    const { name } = request.params as { name: string };
    const runner = supervisor.runner(name);
    const session = request.session!;
    if (openStreams >= MAX_STREAMS || session.streams >= MAX_STREAMS_PER_SESSION) {
      return reply.code(429).type('text/plain; charset=utf-8').send('too many log tails open; close one');
    }
    const { stream, close } = logEvents(runner.history, (text) => redactor.redact(text));
    openStreams += 1;
    session.streams += 1;
    const own = streamsOf.get(session) ?? new Set();
    streamsOf.set(session, own);
    own.add(close);
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      openStreams -= 1;
      session.streams -= 1;
      own.delete(close);
      if (own.size === 0) streamsOf.delete(session);
      close();
    };
    request.raw.once('close', release);
    stream.once('end', release);
    return reply.type('text/event-stream; charset=utf-8').header('cache-control', 'no-store').header('x-accel-buffering', 'no').send(stream);
  });

  registerManagePages(app, context);
  return { app, context };
}

function csrfOf(request: FastifyRequest): string | undefined {
  const header = request.headers['x-csrf-token'];
  if (typeof header === 'string') return header;
  const field = (request.body as Record<string, unknown> | undefined)?._csrf;
  return typeof field === 'string' ? field : undefined;
}

/**
 * The Origin (or else Referer) header, when there is one, names this very host. Browsers
 * send "null" for a cross-origin POST under Referrer-Policy same-origin (and for any POST
 * under no-referrer, which is why the pages use same-origin).
 */
function sameOrigin(request: FastifyRequest): boolean {
  const from = request.headers.origin ?? request.headers.referer;
  if (from === undefined) return true;
  if (from === 'null') return false;
  try {
    return new URL(from).host === request.headers.host;
  } catch {
    return false;
  }
}

/** The dashboard's secret: the first line of the file, at least MIN_PASSWORD_LENGTH characters. */
export async function readWebPassword(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch((error: Error) => {
    throw new KeaKnotError('E_CONFIG', `cannot read the dashboard password file ${file}: ${error.message}`);
  });
  const password = (text.split('\n')[0] ?? '').trim();
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new KeaKnotError('E_CONFIG', `the dashboard password in ${file} is shorter than ${MIN_PASSWORD_LENGTH} characters; use a longer one (e.g. openssl rand -base64 18)`);
  }
  return password;
}

export async function readTls(certFile: string, keyFile: string): Promise<{ cert: string; key: string }> {
  const read = (file: string, what: string) => readFile(file, 'utf8').catch((error: Error) => {
    throw new KeaKnotError('E_CONFIG', `cannot read the dashboard's TLS ${what} ${file}: ${error.message}`);
  });
  const [cert, key] = await Promise.all([read(certFile, 'certificate'), read(keyFile, 'key')]);
  return { cert, key };
}

export async function listenWeb(app: FastifyInstance, address: string): Promise<void> {
  await app.listen(parseHostPort(address));
}

export interface WebSettings {
  readonly listen: string;
  readonly password: string;
  readonly https?: { readonly key: string; readonly cert: string };
}

/** Reads the dashboard's files at start-up (E_CONFIG when one is missing or too weak); undefined when it is off. */
export async function readWebSettings(settings: { webListen?: string; webPasswordFile?: string; webTlsCertFile?: string; webTlsKeyFile?: string }): Promise<WebSettings | undefined> {
  if (settings.webListen === undefined) return undefined;
  // settings.ts refuses a listener without a password file.
  const password = await readWebPassword(settings.webPasswordFile!);
  const https = settings.webTlsCertFile !== undefined && settings.webTlsKeyFile !== undefined ? await readTls(settings.webTlsCertFile, settings.webTlsKeyFile) : undefined;
  return { listen: settings.webListen, password, ...(https ? { https } : {}) };
}

/** Builds the dashboard and listens; the secrets given are also kept out of every page. */
export async function startWeb(supervisor: Supervisor, web: WebSettings, otherSecrets: readonly (string | undefined)[]): Promise<FastifyInstance> {
  const { app } = buildWebApp({ supervisor, password: web.password, ...(web.https ? { https: web.https } : {}), redactor: new Redactor([web.password, ...otherSecrets]) });
  try {
    await listenWeb(app, web.listen);
  } catch (error) {
    await app.close();
    throw new KeaKnotError('E_IO', `the web dashboard cannot listen on ${web.listen}: ${(error as Error).message}`);
  }
  return app;
}
