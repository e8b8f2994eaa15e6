import { createHash, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';
import { PassThrough } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { KeaKnotError, type ErrorCode } from '../errors.js';
import { resyncAll } from '../kea/resync.js';
import { keaTargets } from '../kea/targets.js';
import type { LogEntry, LogHistory } from '../logs/history.js';
import type { MetricsSource } from './metrics.js';
import { leaseRoutes } from './routes/leases.js';
import { nameRoutes } from './routes/names.js';
import { reservationRoutes } from './routes/reservations.js';
import { statisticsRoutes } from './routes/statistics.js';
import type { Supervisor } from '../supervisor/supervisor.js';

export interface AppOptions {
  readonly supervisor: Supervisor;
  /** createMetrics() (prom-client is loaded at the first scrape), or any prom-client Registry. */
  readonly metrics: MetricsSource;
  /** Re-reads services.d and applies it (the same as SIGHUP). */
  readonly reread: () => Promise<unknown>;
  /** When set, every route but liveness and metrics needs `Authorization: Bearer <token>`. */
  readonly token?: string;
}

const STATUS_FOR: Partial<Record<ErrorCode, number>> = {
  E_USAGE: 400, E_NOT_FOUND: 404, E_STATE: 409, E_CHECK_FAILED: 422, E_CONFIG: 422, E_RELOAD_FAILED: 502, E_CONFLICT: 409,
};
const OPEN_ROUTES = new Set(['/v1/live', '/metrics']);
const ACTIONS = ['reload', 'restart', 'start', 'stop'] as const;
const MAX_LOG_LINES = 100_000;
/** What a following client may have waiting for it (beyond the socket's own buffers). */
const FOLLOW_BUFFER_BYTES = 256 * 1024;

type Handler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
type ValidatorFactory = NonNullable<CompilersFactory['buildValidator']>;
type SerializerFactory = NonNullable<CompilersFactory['buildSerializer']>;

/**
 * Fastify's own default compilers (ajv and fast-json-stringify, some 100 modules and a few
 * MB of heap), loaded only when a route with a schema needs one. No route has a schema,
 * so the supervisor normally never loads them; the behaviour is fastify's default either way.
 */
export const LAZY_SCHEMA_COMPILERS = ((): NonNullable<FastifyServerOptions['schemaController']> => {
  // Resolved from fastify's own directory: they are its dependencies, not ours.
  const fromFastify = () => createRequire(createRequire(import.meta.url).resolve('fastify'));
  let validator: ValidatorFactory | undefined;
  let serializer: SerializerFactory | undefined;
  return {
    compilersFactory: {
      buildValidator: (externalSchemas, options) => {
        validator ??= (fromFastify()('@fastify/ajv-compiler') as () => ValidatorFactory)();
        return validator(externalSchemas, options);
      },
      buildSerializer: (externalSchemas, options) => {
        serializer ??= (fromFastify()('@fastify/fast-json-stringify-compiler') as () => SerializerFactory)();
        return serializer(externalSchemas, options);
      },
    },
  };
})();

/**
 * The control API: a thin layer over the supervisor. Built once per listener (the unix
 * socket, and the TCP one with a token), and tested with inject().
 */
export function buildApp(options: AppOptions): FastifyInstance {
  const { supervisor } = options;
  // Small bodies only: no route takes more than a few fields.
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024, return503OnClosing: true, forceCloseConnections: true, schemaController: LAZY_SCHEMA_COMPILERS });

  if (options.token !== undefined) {
    const expected = digest(options.token);
    app.addHook('onRequest', async (request, reply) => {
      if (OPEN_ROUTES.has(request.routeOptions.url ?? '')) return;
      const header = request.headers.authorization ?? '';
      const given = header.startsWith('Bearer ') ? header.slice(7) : '';
      // Compare digests of equal length, in constant time.
      if (!timingSafeEqual(digest(given), expected)) {
        await reply.code(401).header('www-authenticate', 'Bearer').send(errorBody('E_USAGE', 'missing or wrong bearer token'));
      }
    });
  }

  app.setErrorHandler(async (error: Error & { statusCode?: number; code?: string }, _request, reply) => {
    if (error instanceof KeaKnotError) {
      return reply.code(STATUS_FOR[error.code] ?? 500).send(errorBody(error.code, error.message, error.details));
    }
    const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    return reply.code(status).send(errorBody(status === 500 ? 'E_IO' : 'E_USAGE', error.message));
  });
  app.setNotFoundHandler(async (request, reply) => reply.code(404).send(errorBody('E_NOT_FOUND', `no route ${request.method} ${request.url}; see the README for the API`)));

  /** Registers every method on a path so a wrong verb gets 405 with Allow, not 404. */
  const route = (url: string, handlers: Partial<Record<'GET' | 'POST', Handler>>) => {
    const allow = Object.keys(handlers).join(', ');
    app.route({
      method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'], url,
      handler: async (request, reply) => {
        const handler = handlers[request.method as 'GET' | 'POST'];
        if (!handler) return reply.code(405).header('allow', allow).send(errorBody('E_USAGE', `${request.method} is not allowed on ${url}; use ${allow}`));
        return handler(request, reply);
      },
    });
  };
  const name = (request: FastifyRequest) => (request.params as { name: string }).name;

  route('/v1/live', { GET: async () => ({ status: 'alive', pid: process.pid, uptimeSeconds: Math.round(process.uptime()) }) });
  route('/v1/ready', {
    GET: async (_request, reply) => {
      const readiness = await supervisor.readiness();
      return reply.code(readiness.ready ? 200 : 503).send(readiness);
    },
  });
  route('/v1/services', { GET: async () => ({ services: await supervisor.statusWithHa() }) });
  route('/v1/services/:name', {
    GET: (request) => supervisor.runner(name(request)).statusWithHa(),
  });
  route('/v1/services/:name/:action', {
    POST: async (request) => {
      const { action } = request.params as { action: string };
      const runner = supervisor.runner(name(request));
      if (supervisor.shuttingDown) throw new KeaKnotError('E_STATE', 'the supervisor is shutting down');
      switch (action as (typeof ACTIONS)[number]) {
        case 'reload': return runner.reload();
        case 'restart': return runner.requestRestart();
        case 'start': return runner.requestStart();
        case 'stop': return runner.requestStop();
        default: throw new KeaKnotError('E_NOT_FOUND', `unknown action "${action}"; use one of ${ACTIONS.join(', ')}`);
      }
    },
  });
  route('/v1/reload', {
    POST: async (_request, reply) => {
      const outcomes = await supervisor.reloadAll();
      const ok = outcomes.every((outcome) => outcome.ok);
      return reply.code(ok ? 200 : 502).send({ ok, outcomes });
    },
  });
  route('/v1/reread', { POST: async () => options.reread() });
  route('/v1/services/:name/logs', {
    GET: async (request, reply) => {
      const runner = supervisor.runner(name(request));
      const query = request.query as { lines?: string; follow?: string };
      const lines = query.lines === undefined ? 100 : Number(query.lines);
      if (!Number.isInteger(lines) || lines < 0 || lines > MAX_LOG_LINES) {
        throw new KeaKnotError('E_USAGE', `lines must be a whole number from 0 to ${MAX_LOG_LINES}, got "${query.lines}"`);
      }
      const recent = runner.history.last(lines).map(ndjson).join('');
      reply.type('application/x-ndjson');
      if (query.follow !== 'true' && query.follow !== '1') return reply.send(recent);
      return reply.send(follow(runner.history, recent, request));
    },
  });
  route('/v1/dns/resync', {
    POST: async (_request, reply) => {
      if (supervisor.shuttingDown) throw new KeaKnotError('E_STATE', 'the supervisor is shutting down');
      const result = await resyncAll(keaTargets(supervisor));
      return reply.code(result.ok ? 200 : 502).send(result);
    },
  });
  route('/metrics', {
    GET: async (_request, reply) => {
      const text = await options.metrics.metrics();
      return reply.type(options.metrics.contentType).send(text);
    },
  });
  void app.register(leaseRoutes, { supervisor });
  void app.register(reservationRoutes, { supervisor });
  void app.register(nameRoutes, { supervisor });
  void app.register(statisticsRoutes, { supervisor });
  return app;
}

/**
 * A `logs -f` stream: the recent lines, then every new one. A client that stops reading
 * must not grow the supervisor's memory: once FOLLOW_BUFFER_BYTES wait for it, its lines
 * are dropped, and when it has read them a line says how many it missed.
 */
function follow(history: LogHistory, recent: string, request: FastifyRequest): PassThrough {
  const stream = new PassThrough({ highWaterMark: FOLLOW_BUFFER_BYTES });
  let skipped = 0;
  stream.write(recent);
  stream.on('drain', () => {
    if (skipped === 0) return;
    stream.write(ndjson({ time: Date.now(), stream: 'stderr', level: 40, msg: `kea-knot: ${skipped} lines skipped: this client read too slowly`, skipped }));
    skipped = 0;
  });
  const unsubscribe = history.subscribe((entry) => {
    // Full: write() has said false and 'drain' has not come yet.
    if (stream.writableNeedDrain) skipped += 1;
    else stream.write(ndjson(entry));
  });
  request.raw.once('close', () => { unsubscribe(); stream.end(); });
  return stream;
}

function ndjson(entry: LogEntry & { skipped?: number }): string {
  return `${JSON.stringify(entry)}\n`;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function errorBody(code: string, message: string, details: readonly string[] = []) {
  return { error: { code, message, details } };
}
