import { expect } from 'vitest';
import { KeaKnotError } from '../../../src/errors.js';

/** The KeaKnotError `run` throws; fails the test if it throws nothing or something else. */
export function catchError(run: () => unknown): KeaKnotError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(KeaKnotError);
    return error as KeaKnotError;
  }
  throw new Error('expected a KeaKnotError');
}
