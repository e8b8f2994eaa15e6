import { createRequire } from 'node:module';
import type { prettyFactory as PrettyFactory } from 'pino-pretty';

/** Takes a record as pino writes it (parsed) or as records.ts builds it. */
export type Prettifier = (record: Readonly<Record<string, unknown>>) => string;

/**
 * Human-readable records: "[2024-05-01 12:00:00.123 +0000] INFO (knot/stderr): zone loaded".
 * The service (and stream) take the place pino-pretty gives a logger's `name`.
 *
 * pino-pretty (and what it pulls in) is loaded here, on first use, so the default JSON
 * format does not carry it in memory; it is CommonJS, so require() keeps this synchronous.
 */
export function createPrettifier(colorize: boolean): Prettifier {
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as { prettyFactory: typeof PrettyFactory };
  const prettify = prettyFactory({ colorize, translateTime: 'SYS:standard', ignore: 'service,stream' });
  return (record) => {
    const { service, stream, ...rest } = record;
    return prettify({ ...rest, name: stream === undefined ? String(service) : `${String(service)}/${String(stream)}` });
  };
}
