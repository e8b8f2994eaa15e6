import { openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { createMetrics } from '../../src/api/metrics.js';
import { createLogOutput, type LogOutput } from '../../src/logs/output.js';
import { loadServices } from '../../src/services/load.js';
import { Supervisor } from '../../src/supervisor/supervisor.js';

export interface InProcess {
  readonly dir: string;
  readonly supervisor: Supervisor;
  readonly output: LogOutput;
  app(token?: string): FastifyInstance;
  /** Resolves once `service` is in `state`. */
  until(service: string, state: string, timeoutMs?: number): Promise<void>;
  cleanup(): Promise<void>;
}

/** A real supervisor running real fixture processes inside the test process, for inject(). */
export async function inProcessSupervisor(files: Record<string, string>): Promise<InProcess> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kk-api-'));
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, name), text.replaceAll('$DIR', dir));
  const output = createLogOutput({ format: 'json', level: 'warn', fd: openSync('/dev/null', 'w') });
  const supervisor = new Supervisor(await loadServices(dir), { output });
  const metrics = createMetrics(supervisor, output);
  const reread = async () => supervisor.applyServices(await loadServices(dir));
  const apps: FastifyInstance[] = [];
  supervisor.start();
  return {
    dir, supervisor, output,
    app(token) {
      const app = buildApp({ supervisor, metrics, reread, ...(token === undefined ? {} : { token }) });
      apps.push(app);
      return app;
    },
    until(service, state, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const runner = supervisor.runner(service);
        if (runner.status().state === state) { resolve(); return; }
        const timer = setTimeout(() => reject(new Error(`${service} not ${state} within ${timeoutMs} ms (is ${runner.state})`)), timeoutMs);
        const onState = () => {
          if (runner.status().state === state) { clearTimeout(timer); runner.off('state', onState); resolve(); }
        };
        runner.on('state', onState);
      });
    },
    async cleanup() {
      await Promise.all(apps.map((app) => app.close()));
      await supervisor.shutdown('test over');
      output.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
