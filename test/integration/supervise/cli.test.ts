import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI } from '../../helpers/supervisor-process.js';

const run = promisify(execFile);

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('kea-knot command line', () => {
  it('lists commands, and every flag and environment variable of supervise', async () => {
    expect((await cli(['--help'])).stdout).toContain('supervise');
    const help = await cli(['supervise', '--help']);
    expect(help.code).toBe(0);
    for (const word of ['--services-dir', 'KEA_KNOT_SERVICES_DIR', 'KEA_KNOT_LOG_FORMAT', 'KEA_KNOT_LOG_LEVEL', 'KEA_KNOT_LOG_QUEUE_BYTES', '78']) {
      expect(help.stdout).toContain(word);
    }
  });

  it('exits 64 on a bad command or flag', async () => {
    expect((await cli(['frobnicate'])).code).toBe(64);
    const bad = await cli(['supervise', '--servicesdir', '/x']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/--servicesdir.*see kea-knot supervise --help/);
  });

  it('refuses an invalid services.d with exit 78 and every problem as file: field: problem', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'kk-cli-'));
    try {
      await writeFile(path.join(dir, 'a.yaml'), 'name: a\ncommand: [x]\nstop_grace: 10\ndepends_on: [b]\n');
      await writeFile(path.join(dir, 'b.yaml'), 'name: b\ncommand: [x]\ndepends_on: [a]\nbogus: 1\n');
      const result = await cli(['supervise', '--services-dir', dir]);
      expect(result.code).toBe(78);
      expect(result.stderr).toContain(`${dir}/a.yaml: stop_grace: expected string, got number 10`);
      expect(result.stderr).toContain(`${dir}/b.yaml: bogus: unknown key (check its spelling)`);
      const env = await cli(['supervise'], { KEA_KNOT_SERVICES_DIR: dir, KEA_KNOT_LOG_FORMAT: 'xml' });
      expect(env.code).toBe(78);
      expect(env.stderr).toContain('KEA_KNOT_LOG_FORMAT="xml"');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
