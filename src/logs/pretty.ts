import { prettyFactory } from 'pino-pretty';

/** Takes a record as pino writes it (parsed) or as records.ts builds it. */
export type Prettifier = (record: Readonly<Record<string, unknown>>) => string;

/**
 * Human-readable records: "[2024-05-01 12:00:00.123 +0000] INFO (knot/stderr): zone loaded".
 * The service (and stream) take the place pino-pretty gives a logger's `name`.
 */
export function createPrettifier(colorize: boolean): Prettifier {
  const prettify = prettyFactory({ colorize, translateTime: 'SYS:standard', ignore: 'service,stream' });
  return (record) => {
    const { service, stream, ...rest } = record;
    return prettify({ ...rest, name: stream === undefined ? String(service) : `${String(service)}/${String(stream)}` });
  };
}
