/**
 * A real headless Chromium (Debian's, driven by playwright-core; no browser is downloaded)
 * running inside a network namespace, so it reaches listeners on that namespace's
 * 127.0.0.1. `ip netns exec` execs Chromium, so Playwright's pipe and the pid it kills are
 * Chromium's own. Screenshots go to test-artifacts/web/ (gitignored), kept after the run.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROOT } from './supervisor-process.js';

export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'web');

const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

export interface NsBrowser {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Saves a full-page screenshot as test-artifacts/web/NAME.png; resolves with its path. */
  screenshot(name: string, page?: Page): Promise<string>;
  /** Closes Chromium and removes its profile. Idempotent. */
  close(): Promise<void>;
}

export async function launchInNamespace(ns: string): Promise<NsBrowser> {
  const dir = await mkdtemp(path.join(tmpdir(), 'kk-chromium-'));
  const wrapper = path.join(dir, 'chromium-in-netns');
  await writeFile(wrapper, `#!/bin/sh\nexec ip netns exec '${ns.replaceAll("'", '')}' ${CHROMIUM} "$@"\n`);
  await chmod(wrapper, 0o755);
  await mkdir(ARTIFACTS, { recursive: true });
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: wrapper, headless: true, args: FLAGS, viewport: { width: 1200, height: 800 }, timeout: 60_000,
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  // A step that cannot happen fails with Playwright's own message well inside a test's time.
  context.setDefaultTimeout(10_000);
  const page = context.pages()[0] ?? await context.newPage();
  let closed = false;
  return {
    context, page,
    async screenshot(name, which = page) {
      const file = path.join(ARTIFACTS, `${name}.png`);
      await which.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      if (closed) return;
      closed = true;
      await context.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
