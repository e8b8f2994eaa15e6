// Ceiling of the service-line fast path: LogOutput.writeServiceLines into /dev/null,
// 64 KiB chunks of 40-byte lines, the async writes included (the run ends when
// everything is written; the queue is kept under 1 MiB so nothing is dropped).
//   npx tsc -p . && node bench/log-throughput-micro.mjs
// OUT=stdout writes to fd 1 instead (e.g. `| cat >/dev/null`: the pipe is the limit);
// results go to stderr. SECONDS sets each run's length (default 2).
import { openSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { setImmediate as nextTurn } from 'node:timers/promises';

// LOGS_DIST points at another build of src/logs (a directory).
const dir = process.env.LOGS_DIST ? pathToFileURL(`${process.env.LOGS_DIST}/`) : new URL('../dist/logs/', import.meta.url);
const { createLogOutput } = await import(new URL('output.js', dir).href);
const { LineSplitter } = await import(new URL('line-splitter.js', dir).href);
const { parseServiceLevel } = await import(new URL('levels.js', dir).href);

const LINE = process.env.LINE ?? '2024-05-01T12:00:00+0000 info: zone ok'; // 38 chars + "\n" ~ 40 bytes
const CHUNK = `${LINE}\n`.repeat(Math.floor(65536 / (LINE.length + 1)));
const SECONDS = Number(process.env.SECONDS ?? 2);

async function measure(label, perChunk) {
  const fd = process.env.OUT === 'stdout' ? 1 : openSync('/dev/null', 'w');
  const output = createLogOutput({ format: 'json', level: 'info', fd });
  let lines = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(SECONDS * 1e9);
  while (process.hrtime.bigint() < deadline) {
    // Keep the queue fed but under the drop threshold: this measures the sustained rate.
    while (output.queuedBytes < 1024 * 1024) lines += perChunk(output);
    await nextTurn();
  }
  await output.flush(10_000);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const dropped = [...output.droppedTotals().values()].reduce((a, b) => a + b, 0);
  output.close();
  console.error(`${label}: ${Math.round((lines - dropped) / seconds).toLocaleString('en')} lines/s written` + (dropped ? ` (${dropped} dropped)` : ''));
}

// writeServiceLines alone: entries prepared once.
const entries = new LineSplitter().push(CHUNK).map((msg) => ({ time: Date.now(), stream: 'stdout', level: 30, msg }));
// What pipeServiceOutput does per chunk read from a pipe: decode, split, level, entries,
// write (with the chunk's bytes, as the pipe reader passes them, or without).
const RAW = Buffer.from(CHUNK);
const splitter = new LineSplitter();
function pipeLike(output, withBytes) {
  const time = Date.now();
  const batch = splitter.push(RAW.toString('utf8')).map((msg) => ({ time, stream: 'stderr', level: parseServiceLevel(msg) ?? 30, msg }));
  const first = RAW.indexOf(10);
  const last = RAW.lastIndexOf(10);
  output.writeServiceLines('knot', batch, withBytes ? { from: 1, bytes: RAW.subarray(first + 1, last + 1) } : undefined);
  return batch.length;
}

for (let round = 0; round < 2; round += 1) {
  await measure('writeServiceLines', (output) => (output.writeServiceLines('knot', entries), entries.length));
  await measure('decode+split+level+write, strings', (output) => pipeLike(output, false));
  await measure('decode+split+level+write, bytes', (output) => pipeLike(output, true));
}
