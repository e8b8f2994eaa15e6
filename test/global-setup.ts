import { sweepStale } from './helpers/netns.js';

/** Namespaces left by a test run that was killed hard are removed before a new run. */
export default async function setup(): Promise<void> {
  if (process.getuid?.() === 0) await sweepStale();
}
