import { parseArgs, type ParseArgsConfig } from 'node:util';
import { KeaKnotError } from '../errors.js';

/** parseArgs with our error type, so a bad flag is a usage error (exit 64) with a hint. */
export function parseFlags<T extends NonNullable<ParseArgsConfig['options']>>(command: string, args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    throw new KeaKnotError('E_USAGE', `${(error as Error).message}; see kea-knot ${command} --help`);
  }
}
