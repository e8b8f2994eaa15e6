import type { z } from 'zod';
import { KeaKnotError } from '../../errors.js';

/** A request body checked against `schema`; E_USAGE naming every bad field. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown, route: string): z.output<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'body'}: ${issue.message}`);
  throw new KeaKnotError('E_USAGE', `${route}: the JSON body is not right: ${problems.join('; ')}`);
}
