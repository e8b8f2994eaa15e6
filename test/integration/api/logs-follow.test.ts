// A `logs -f` client that stops reading must not grow the supervisor's memory: a real
// supervisor, a fixture service that spews lines, and a real client socket that pauses.
import { request, type IncomingMessage } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi } from '../../../src/client/api-client.js';
import { until } from '../../helpers/netns.js';
import { byLine, startSupervisor, type SupervisorHandle } from '../../helpers/supervisor-process.js';

const LINES = Number(process.env.KK_LINES ?? 200_000);
const PADDING = 'padding-'.repeat(8);
let dir: string;
let sup: SupervisorHandle;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kk-follow-'));
  sup = await startSupervisor({
    // Waits for the test's go-file, then writes LINES lines (~30 MB as NDJSON) at once.
    'spew.yaml': `name: spew\ncommand: [sh, -c, 'echo waiting; while [ ! -e ${dir}/go ]; do sleep 0.05; done; seq -f "line %06g ${PADDING}" 0 ${LINES - 1}; exec sleep 1000']\n`,
  }, { env: { KEA_KNOT_LOG_LEVEL: 'info' } });
  await sup.waitFor(byLine('spew', /^waiting$/));
});

afterAll(async () => {
  await sup?.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('logs -f with a client that stops reading', () => {
  it('keeps what waits for the client bounded, and tells it how many lines it missed', async () => {
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      request({ socketPath: sup.socket, path: '/v1/services/spew/logs?lines=1&follow=true' }, resolve).on('error', reject).end();
    });
    expect(response.statusCode).toBe(200);
    // The client stops reading: its socket fills, then whatever the supervisor keeps for it.
    response.pause();
    await writeFile(path.join(dir, 'go'), '');
    const last = `line ${String(LINES - 1).padStart(6, '0')} ${PADDING}`;
    await until(async () => {
      // One NDJSON line: the client gives it parsed.
      const tail = await callApi<{ msg: string }>({ socket: sup.socket }, 'GET', '/v1/services/spew/logs?lines=1');
      return tail.body.msg === last;
    }, 60_000, 'the supervisor to have read every line');

    // Reading again: what was kept for the client arrives, then the count of the rest.
    let bytes = 0;
    const chunks: string[] = [];
    let end = '';
    response.setEncoding('utf8');
    const entries = await new Promise<{ msg: string; skipped?: number }[]>((resolve) => {
      response.on('data', (chunk: string) => {
        bytes += Buffer.byteLength(chunk);
        chunks.push(chunk);
        end = (end + chunk).slice(-400);
        // Done at the count of skipped lines, or (without one) at the last line.
        if (/"skipped":\d+\}\n$/.test(end) || end.includes(`${last}"`)) {
          response.destroy();
          resolve(chunks.join('').trimEnd().split('\n').map((line) => JSON.parse(line) as { msg: string; skipped?: number }));
        }
      });
      response.resume();
    });
    const notice = entries.at(-1)!;
    expect(notice.msg).toMatch(/^kea-knot: \d+ lines skipped: this client read too slowly$/);
    // The line the request asked for, then the spew.
    expect(entries[0]!.msg).toBe('waiting');
    const received = entries.slice(1, -1);
    expect(received.every((e) => e.msg.startsWith('line '))).toBe(true);
    // Every line is either delivered or counted, and what waited was a small part of it.
    expect(received.length + notice.skipped!).toBe(LINES);
    expect(bytes).toBeLessThan(2 * 1024 * 1024);
    expect(received.length).toBeLessThan(LINES / 10);
  }, 90_000);
});
