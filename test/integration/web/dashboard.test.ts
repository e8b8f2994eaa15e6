// The web dashboard in a real headless Chromium against the real product: kea-knot
// supervise with the repository's services.d in a server namespace, real Kea and Knot, a
// DHCP client in another namespace. Chromium runs inside the server's namespace and reaches
// the dashboard on its 127.0.0.1. Screenshots: test-artifacts/web/ (kept after the run).
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchInNamespace, type NsBrowser } from '../../helpers/browser.js';
import { createLan, dhcpLease, dig, until, type Host, type Lan } from '../../helpers/netns.js';
import { removeNode, stackServer, type StackNode } from '../../helpers/stack.js';
import { byMsg } from '../../helpers/supervisor-process.js';

const DOMAIN = 'home.test';
const URL = 'http://127.0.0.1:8080';
const PASSWORD = 'a household password 4 the dashboard';
const API_TOKEN = 'api-token-5f2c9e0b7d41a8c3e6f9';
let lan: Lan;
let server: StackNode;
let laptop: Host;
let browser: NsBrowser | undefined;
let page: Page;
let laptopIp = '';

const keaCommand = (command: string) => server.run(['kea-knot', 'kea-command', '--socket', `${server.dir}/run/kea/kea4-ctrl-socket`, command]);

/**
 * Kea's command channel at INFO, as a user raising its log level would: then Kea logs
 * every command it receives by name, which lets a test put any text into a log line.
 */
async function logKeaCommands(): Promise<void> {
  const conf = `${server.dir}/etc/kea/kea-dhcp4.conf`;
  // Text, not JSON: by now the file includes the reservations (<?include?>).
  const text = await readFile(conf, 'utf8');
  const raised = text.replace(/("name": "kea-dhcp4\.commands",[\s\S]*?"severity": )"WARN"/, '$1"INFO"');
  if (raised === text) throw new Error(`no kea-dhcp4.commands logger at WARN in ${conf}`);
  await writeFile(conf, raised);
  const reload = await server.run(['kea-dhcp4-reload']);
  if (reload.code !== 0) throw new Error(`kea-dhcp4-reload: ${reload.stderr}`);
}

beforeAll(async () => {
  lan = await createLan({ subnet: '10.93.0.0/16' });
  server = await stackServer(lan, 93, DOMAIN, { KEA_KNOT_WEB_LISTEN: '127.0.0.1:8080', KEA_KNOT_API_LISTEN: '127.0.0.1:8081' });
  await writeFile(path.join(server.dir, 'web-password'), `${PASSWORD}\n`, { mode: 0o600 });
  await writeFile(path.join(server.dir, 'api-token'), `${API_TOKEN}\n`, { mode: 0o600 });
  server.env.KEA_KNOT_WEB_PASSWORD_FILE = path.join(server.dir, 'web-password');
  server.env.KEA_KNOT_API_TOKEN_FILE = path.join(server.dir, 'api-token');
  laptop = await lan.addHost('laptop', '');
  await server.start();
  browser = await launchInNamespace(server.host.ns);
  page = browser.page;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await removeNode(server);
  await lan?.destroy();
}, 60_000);

/** Reloads `url` until `probe` holds on the page (leases and DNS settle within seconds). */
async function reloadUntil(url: string, probe: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  await until(async () => {
    await page.goto(`${URL}${url}`);
    return probe();
  }, timeoutMs, what);
}

describe('web dashboard in Chromium', () => {
  it('asks for the password, refuses a wrong one, and shows the overview after the right one', async () => {
    await page.goto(`${URL}/`);
    expect(new globalThis.URL(page.url()).pathname).toBe('/login');
    await page.fill('input[name=password]', 'wrong password, surely');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('[role=status]')).toBe('Wrong password.');
    await browser!.screenshot('01-login-refused');
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${URL}/`);
    const states = await page.$$eval('[data-testid=services] tr[data-service]', (rows) => Object.fromEntries(rows.map((r) => [r.getAttribute('data-service'), r.children[1]!.textContent])));
    expect(states).toEqual({ init: 'exited', knot: 'ready', 'kea-dhcp-ddns': 'ready', 'kea-dhcp4': 'ready', 'kea-ctrl-agent': 'ready', 'kea-dhcp6': 'disabled' });
    expect(await page.textContent('[data-testid=health]')).toContain('Serving');
    expect(await page.textContent('[data-testid=ha]')).toContain('runs alone');
    expect(await page.textContent('[data-testid=pools]')).toMatch(/10\.93\.0\.0\/16\s+0 of 512/);
    const cookie = (await browser!.context.cookies()).find((c) => c.name === 'kk_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: false });
    await browser!.screenshot('02-overview');
  });

  it('shows a client\'s lease as it appears, with its name in DNS', async () => {
    // The overview refreshes itself: the lease shows in its pool use without a reload.
    await page.goto(`${URL}/`);
    ({ ip: laptopIp } = await dhcpLease(lan, laptop, { hostname: 'laptop' }));
    await expect.poll(() => page.textContent('[data-testid=pools]'), { timeout: 15_000 }).toMatch(/1 of 512/);
    const row = () => page.locator(`[data-testid=leases] tr[data-address="${laptopIp}"]`);
    await reloadUntil('/leases?search=laptop', async () => (await row().count()) === 1 && (await row().locator('td').nth(3).textContent()) === 'yes', 'the laptop\'s lease, in DNS');
    expect(await row().locator('td').nth(1).textContent()).toBe(laptop.mac);
    expect(await row().locator('td').nth(2).textContent()).toBe(`laptop.${DOMAIN}`);
    await browser!.screenshot('03-leases');
  });

  it('pins the lease as a reservation that kea-dhcp4 then holds', async () => {
    await page.goto(`${URL}/leases`);
    await page.locator(`tr[data-address="${laptopIp}"] button`, { hasText: 'Pin' }).click();
    await page.waitForURL(`${URL}/leases`);
    expect(await page.textContent('[role=status]')).toBe(`Pinned: ${laptop.mac} ${laptopIp} (laptop).`);
    expect(await page.locator(`tr[data-address="${laptopIp}"]`).textContent()).toContain('pinned');
    await page.goto(`${URL}/reservations`);
    const row = page.locator(`[data-testid=reservations] tr[data-mac="${laptop.mac}"]`);
    expect(await row.locator('input[name=ip-address]').inputValue()).toBe(laptopIp);
    expect(await row.locator('input[name=hostname]').inputValue()).toBe('laptop');
    await browser!.screenshot('04-reservations');
    // What the running kea-dhcp4 was given.
    const included = JSON.parse(await readFile(`${server.dir}/etc/kea/reservations4.json`, 'utf8')) as { 'hw-address': string; 'ip-address': string }[];
    expect(included).toContainEqual(expect.objectContaining({ 'hw-address': laptop.mac, 'ip-address': laptopIp }));
    expect((await dhcpLease(lan, laptop, { hostname: 'laptop' })).ip).toBe(laptopIp);
  }, 60_000);

  it('adds, edits and removes a reservation', async () => {
    const included = async () => JSON.parse(await readFile(`${server.dir}/etc/kea/reservations4.json`, 'utf8')) as { 'hw-address': string; 'ip-address': string; hostname?: string }[];
    await page.goto(`${URL}/reservations`);
    const add = page.locator('[data-testid=add-reservation]');
    await add.locator('input[name=hw-address]').fill('02:00:5E:10:00:99');
    await add.locator('input[name=ip-address]').fill('10.93.0.60');
    await add.locator('input[name=hostname]').fill('printer');
    await add.locator('button').click();
    await page.waitForURL(`${URL}/reservations`);
    expect(await page.textContent('[role=status]')).toBe('Reserved: 02:00:5e:10:00:99 10.93.0.60 (printer).');
    expect(await included()).toContainEqual({ 'hw-address': '02:00:5e:10:00:99', 'ip-address': '10.93.0.60', hostname: 'printer' });

    // kea-dhcp4 reloads each edit makes: every reload in a pair restarts HA for a moment.
    const reloads = () => server.records.filter(byMsg('kea-dhcp4', /^kea-dhcp4 reloaded with/)).length;
    const reloadsOf = async (edit: () => Promise<void>) => {
      const before = reloads();
      await edit();
      await new Promise((resolve) => setTimeout(resolve, 300)); // the supervisor's records reach us through a pipe
      return reloads() - before;
    };
    const row = page.locator('[data-testid=reservations] tr[data-mac="02:00:5e:10:00:99"]');
    const save = async (address: string) => {
      await row.locator('input[name=ip-address]').fill(address);
      await row.locator('button', { hasText: 'Save' }).click();
      await page.waitForURL(`${URL}/reservations`);
    };
    expect(await reloadsOf(() => save('10.93.0.61'))).toBe(1);
    expect(await page.textContent('[role=status]')).toBe('Changed: 02:00:5e:10:00:99 10.93.0.60 (printer) is now 02:00:5e:10:00:99 10.93.0.61 (printer).');
    expect((await included()).filter((r) => r['hw-address'] === '02:00:5e:10:00:99')).toEqual([{ 'hw-address': '02:00:5e:10:00:99', 'ip-address': '10.93.0.61', hostname: 'printer' }]);

    // Saved as it was: nothing to apply.
    expect(await reloadsOf(() => save('10.93.0.61'))).toBe(0);
    expect(await page.textContent('[role=status]')).toBe('Unchanged: 02:00:5e:10:00:99 10.93.0.61 (printer).');

    // An edit the backend refuses (the laptop's pinned address) leaves the old one in place
    // and never reaches Kea.
    expect(await reloadsOf(() => save(laptopIp))).toBe(0);
    expect(await page.locator('.notice.error').textContent()).toMatch(/cannot reserve/);
    expect((await included()).filter((r) => r['hw-address'] === '02:00:5e:10:00:99')).toEqual([{ 'hw-address': '02:00:5e:10:00:99', 'ip-address': '10.93.0.61', hostname: 'printer' }]);

    await row.locator('button', { hasText: 'Remove' }).click();
    await page.waitForURL(`${URL}/reservations`);
    expect(await page.textContent('[role=status]')).toMatch(/^Removed: 02:00:5e:10:00:99 10\.93\.0\.61 \(printer\)\./);
    expect((await included()).some((r) => r['hw-address'] === '02:00:5e:10:00:99')).toBe(false);
    expect(await row.count()).toBe(0);
  }, 60_000);

  it('adds a static name that Knot then answers', async () => {
    await page.goto(`${URL}/names`);
    const form = page.locator('[data-testid=add-name]');
    await form.locator('input[name=name]').fill('nas');
    await form.locator('input[name=address]').fill('10.93.0.50');
    await form.locator('button').click();
    await page.waitForURL(`${URL}/names`);
    expect(await page.textContent('[role=status]')).toBe(`Added: nas.${DOMAIN} → 10.93.0.50 (and its reverse).`);
    expect(await page.locator(`[data-testid=names] tr[data-name="nas.${DOMAIN}"]`).textContent()).toContain('10.93.0.50');
    await browser!.screenshot('05-names');
    await until(async () => (await dig(lan, laptop.ip ? laptop : server.host, '127.0.0.1', `nas.${DOMAIN}`, 'A')).includes('10.93.0.50'), 5000, `nas.${DOMAIN} -> 10.93.0.50`);
    await until(async () => (await dig(lan, server.host, '127.0.0.1', '50.0.93.10.in-addr.arpa', 'PTR')).includes(`nas.${DOMAIN}.`), 5000, 'the PTR of nas');
  });

  it('renders markup typed into a form or written to a log as text, live in the log tail', async () => {
    await page.goto(`${URL}/names`);
    const form = page.locator('[data-testid=add-name]');
    await form.locator('input[name=name]').fill('<script>window.__xss=1</script>');
    await form.locator('input[name=address]').fill('10.93.0.51');
    await form.locator('button').click();
    await page.waitForURL(`${URL}/names`);
    expect(await page.textContent('[role=status]')).toContain('"<script>window.__xss=1</script>" is not a DNS name');
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();

    await page.goto(`${URL}/logs/kea-dhcp4`);
    await expect.poll(() => page.textContent('#log-status')).toBe('following');
    // Kea logs every command it receives (COMMAND_RECEIVED), by name: this one arrives by the stream.
    await logKeaCommands();
    await keaCommand('<img src=x onerror=window.__xss=2><script>window.__xss=3</script>');
    const log = page.locator('[data-testid=log]');
    await expect.poll(() => log.textContent(), { timeout: 10_000 }).toContain("Received command '<img src=x onerror=window.__xss=2><script>window.__xss=3</script>'");
    expect(await log.locator('img, script').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
    await browser!.screenshot('06-log-tail');
  });

  it('never shows the password, the API token or the TSIG key, not even when a daemon logs one', async () => {
    const tsig = /secret:\s*"?([A-Za-z0-9+/=]{16,})/.exec(await readFile(`${server.dir}/etc/knot/knot.conf`, 'utf8'))![1]!;
    await keaCommand(`token-${API_TOKEN}`);
    await until(async () => {
      await page.goto(`${URL}/logs/kea-dhcp4`);
      return (await page.textContent('[data-testid=log]'))!.includes("Received command 'token-[secret hidden]'");
    }, 10_000, 'the redacted command in the log');
    const pages = ['/', '/leases', '/reservations', '/names', ...['init', 'knot', 'kea-dhcp-ddns', 'kea-dhcp4', 'kea-ctrl-agent', 'kea-dhcp6'].map((s) => `/logs/${s}`)];
    for (const url of pages) {
      await page.goto(`${URL}${url}`);
      const content = await page.content();
      for (const secret of [PASSWORD, API_TOKEN, tsig]) expect(content, `${url} shows a secret`).not.toContain(secret);
    }
  });

  it('refuses a POST without the session\'s CSRF token, and logs out', async () => {
    // From the page itself (the browser sends the session cookie), without the token.
    await page.goto(`${URL}/names`);
    const forged = await page.evaluate(async () => (await fetch('/names', { method: 'POST', body: new URLSearchParams({ name: 'forged', address: '10.93.0.52' }) })).status);
    expect(forged).toBe(403);
    expect(await dig(lan, server.host, '127.0.0.1', `forged.${DOMAIN}`, 'A')).toEqual([]);
    await page.goto(`${URL}/`);
    await page.click('text=Log out');
    await page.waitForURL(`${URL}/login`);
    await page.goto(`${URL}/leases`);
    expect(new globalThis.URL(page.url()).pathname).toBe('/login');
  });
});
