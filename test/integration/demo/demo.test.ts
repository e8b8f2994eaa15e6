// scripts/demo, the newcomer's first command: the real product in namespaces, simulated
// clients that lease and get names, the dashboard reachable on 127.0.0.1, and nothing left
// behind after Ctrl-C.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { until } from '../../helpers/netns.js';
import { ROOT } from '../../helpers/supervisor-process.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('scripts/demo', () => {
  it('runs Kea and Knot with leasing clients and the dashboard on 127.0.0.1, and cleans up on Ctrl-C', async () => {
    const port = await freePort();
    const demo = spawn(process.execPath, [path.join(ROOT, 'scripts/demo.mjs'), '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    demo.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    demo.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
    try {
      await until(async () => {
        if (demo.exitCode !== null) throw new Error(`the demo exited ${demo.exitCode}:\n${output.slice(-3000)}`);
        return output.includes('Ctrl-C stops everything');
      }, 90_000, 'the demo to be up');
      const demoLines = output.split('\n').filter((l) => l.startsWith('[demo]'));
      expect(demoLines.some((l) => /laptop leased 192\.0\.2\.\d+ as laptop\.home\.arpa/.test(l))).toBe(true);
      expect(demoLines.some((l) => /phone leased 192\.0\.2\.\d+ \(no name sent/.test(l))).toBe(true);
      const password = /log in with the password (\S+)/.exec(output)?.[1];
      expect(password).toBeDefined();
      // The dashboard answers here, on this machine's loopback.
      const page = await fetch(`http://127.0.0.1:${port}/`, { redirect: 'follow' });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Log in');
    } finally {
      demo.kill('SIGINT');
      const timer = setTimeout(() => demo.kill('SIGKILL'), 60_000);
      expect(await exited).toBe(0);
      clearTimeout(timer);
    }
    expect(output).toContain('namespaces and files removed');
    const left = existsSync('/run/netns') ? readdirSync('/run/netns').filter((n) => n.startsWith(`kkd-${demo.pid}-`)) : [];
    expect(left).toEqual([]);
  }, 150_000);
});
