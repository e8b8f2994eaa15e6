/** pino's level numbers. */
export const Level = { fatal: 60, error: 50, warn: 40, info: 30, debug: 20 } as const;

/*
 * One anchored pattern for both daemons, so a line costs one regex test:
 *   Kea:  "2024-05-01 12:00:00.123 INFO  [kea-dhcp4.dhcp4/123.456] DHCP4_STARTED ..."
 *         (the timestamp is optional: output_options.pattern may leave it out)
 *   Knot: "2024-05-01T12:00:00+0000 info: [example.com.] zone loaded", or "warning: ..."
 * Kea's level is followed by padding and "[logger", which keeps ordinary text
 * starting with "ERROR " from matching.
 */
const SERVICE_LEVEL =
  /^(?:\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)? )?(?:(FATAL|ERROR|WARN|INFO|DEBUG) +\[|(critical|error|warning|notice|info|debug): )/;

const LEVEL_BY_WORD: Readonly<Record<string, number>> = {
  FATAL: Level.fatal,
  ERROR: Level.error,
  WARN: Level.warn,
  INFO: Level.info,
  DEBUG: Level.debug,
  critical: Level.fatal,
  error: Level.error,
  warning: Level.warn,
  notice: Level.info,
  info: Level.info,
  debug: Level.debug,
};

/** Whether SERVICE_LEVEL can match a line starting with this character (a timestamp's digit or a level word's letter). */
const CAN_START = new Uint8Array(128);
for (const c of '0123456789FEWIDcewnid') CAN_START[c.charCodeAt(0)] = 1;

/** The pino level a Kea or Knot log line shows, or undefined when the line has none. */
export function parseServiceLevel(line: string): number | undefined {
  // Most other lines are turned away by their first character, without running the pattern.
  if (CAN_START[line.charCodeAt(0)] !== 1) return undefined;
  const match = SERVICE_LEVEL.exec(line);
  if (match === null) return undefined;
  return LEVEL_BY_WORD[match[1] ?? match[2] ?? ''];
}
