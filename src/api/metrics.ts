import type { Gauge, Registry } from 'prom-client';
import { DropWatch, summarise } from '../kea/statistics.js';
import { keaTargets } from '../kea/targets.js';
import type { LogOutput } from '../logs/output.js';
import type { ServiceState } from '../supervisor/lifecycle.js';
import type { Supervisor } from '../supervisor/supervisor.js';

const STATES: readonly (ServiceState | 'disabled')[] = ['stopped', 'starting', 'ready', 'backoff', 'stopping', 'exited', 'failed', 'disabled'];

/** What the API's /metrics route needs: a prom-client Registry has this shape. */
export interface MetricsSource {
  /** The Content-Type of what metrics() returns. */
  readonly contentType: string;
  /** The exposition text. */
  metrics(): Promise<string>;
}

/** prom-client's Registry.PROMETHEUS_CONTENT_TYPE, known before prom-client is loaded. */
const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Prometheus metrics, computed from the supervisor at scrape time (nothing to keep in step).
 * prom-client is loaded at the first scrape: a supervisor nobody scrapes does not carry it.
 * Kea's drop counters are also looked at between scrapes (until the supervisor shuts
 * down), so that a growing one is logged even when nobody scrapes.
 */
export function createMetrics(supervisor: Supervisor, output: LogOutput, options: { dropPollMs?: number } = {}): MetricsSource {
  let loading: Promise<Registry> | undefined;
  let registry: Registry | undefined;
  const drops = new DropWatch({
    targets: () => keaTargets(supervisor),
    logFor: (service) => output.forService(service),
    ...(options.dropPollMs === undefined ? {} : { intervalMs: options.dropPollMs }),
  });
  drops.start();
  supervisor.once('shutdown', () => drops.stop());
  return {
    contentType: PROMETHEUS_CONTENT_TYPE, // the registry is built with the default
    async metrics() {
      if (registry === undefined) {
        loading ??= import('prom-client').then((promClient) => buildRegistry(promClient, supervisor, output, drops));
        try {
          registry = await loading;
        } finally {
          loading = undefined; // a failed import is tried again at the next scrape
        }
      }
      return registry.metrics();
    },
  };
}

function buildRegistry(promClient: typeof import('prom-client'), supervisor: Supervisor, output: LogOutput, drops: DropWatch): Registry {
  const { Counter, Gauge, Registry } = promClient;
  const registry = new Registry();
  // The two HA gauges are collected together (prom-client collects all at once): one
  // status-get per Kea daemon a scrape, shared by both.
  let haScrape: ReturnType<Supervisor['statusWithHa']> | undefined;
  const haStatus = () => (haScrape ??= supervisor.statusWithHa().finally(() => { haScrape = undefined; }));
  const each = (gauge: Gauge<string>, value: (s: ReturnType<Supervisor['status']>[number]) => number | null) => {
    gauge.reset();
    for (const status of supervisor.status()) {
      const v = value(status);
      if (v !== null) gauge.set({ service: status.name }, v);
    }
  };
  new Gauge({
    name: 'kea_knot_service_state', help: '1 for the state each service is in, 0 for the others', labelNames: ['service', 'state'], registers: [registry],
    collect() {
      this.reset();
      for (const status of supervisor.status()) {
        for (const state of STATES) this.set({ service: status.name, state }, status.state === state ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'kea_knot_service_restarts', help: 'automatic restarts since the supervisor started', labelNames: ['service'], registers: [registry],
    collect() { each(this, (s) => s.restarts); },
  });
  new Gauge({
    name: 'kea_knot_service_uptime_seconds', help: 'seconds since the service became ready (absent when not ready)', labelNames: ['service'], registers: [registry],
    collect() { each(this, (s) => (s.state === 'ready' ? s.forMs / 1000 : null)); },
  });
  new Gauge({
    name: 'kea_knot_service_last_reload_success', help: '1 when the last reload succeeded, 0 when it failed (absent before the first)', labelNames: ['service'], registers: [registry],
    collect() { each(this, (s) => (s.lastReload ? Number(s.lastReload.ok) : null)); },
  });
  new Gauge({
    name: 'kea_knot_ha_state', help: "1 for the HA state each Kea daemon is in (absent without HA); partner: what it believes of its partner", labelNames: ['service', 'state', 'partner'], registers: [registry],
    async collect() {
      this.reset();
      for (const status of await haStatus()) {
        if (status.ha) this.set({ service: status.name, state: status.ha.state, partner: status.ha.partner.state ?? 'unknown' }, 1);
      }
    },
  });
  new Gauge({
    name: 'kea_knot_ha_serving', help: '1 while the Kea daemon serves DHCP in its HA state, 0 while it waits, syncs or is terminated', labelNames: ['service'], registers: [registry],
    async collect() {
      this.reset();
      for (const status of await haStatus()) if (status.ha) this.set({ service: status.name }, Number(status.ha.serving));
    },
  });
  new Counter({
    name: 'kea_knot_kea_packets_dropped_total', help: "packets a Kea daemon received and dropped, by Kea's statistic (pkt4-parse-failed: malformed; pkt4-receive-drop: every drop)", labelNames: ['service', 'statistic'], registers: [registry],
    // One statistic-get-all per Kea daemon a scrape; a growing count is also logged.
    async collect() {
      this.reset();
      for (const { service, counts } of await drops.read()) {
        for (const [statistic, count] of counts) this.inc({ service, statistic }, count);
      }
    },
  });
  // The same statistic-get-all as the drops (one per Kea daemon a scrape), summarised.
  const summaries = async () => (await drops.read()).map(({ service, statistics }) => ({ service, ...summarise(statistics) }));
  new Counter({
    name: 'kea_knot_kea_packets_received_total', help: 'DHCP packets a Kea server received (pkt4-received, pkt6-received)', labelNames: ['service'], registers: [registry],
    async collect() {
      this.reset();
      for (const s of await summaries()) if (s.received !== null) this.inc({ service: s.service }, s.received);
    },
  });
  new Gauge({
    name: 'kea_knot_kea_subnet_addresses', help: "a subnet's addresses by Kea's statistics: total (in its pools), assigned (leased), declined", labelNames: ['service', 'subnet_id', 'kind'], registers: [registry],
    async collect() {
      this.reset();
      for (const s of await summaries()) {
        for (const u of s.subnets) {
          for (const kind of ['total', 'assigned', 'declined'] as const) this.set({ service: s.service, subnet_id: String(u.subnetId), kind }, u[kind]);
        }
      }
    },
  });
  new Gauge({
    name: 'kea_knot_kea_pool_utilisation', help: "assigned / total addresses of a subnet's pools (in a pair each node counts both halves)", labelNames: ['service', 'subnet_id'], registers: [registry],
    async collect() {
      this.reset();
      for (const s of await summaries()) for (const u of s.subnets) if (u.total > 0) this.set({ service: s.service, subnet_id: String(u.subnetId) }, u.assigned / u.total);
    },
  });
  new Counter({
    name: 'kea_knot_ddns_failures_total', help: 'DNS updates kea-dhcp-ddns gave up on: timeout (no answer from Knot) or error (Knot refused, e.g. a name owned by another client)', labelNames: ['service', 'reason'], registers: [registry],
    async collect() {
      this.reset();
      for (const s of await summaries()) {
        if (s.ddnsFailures) for (const reason of ['timeout', 'error'] as const) this.inc({ service: s.service, reason }, s.ddnsFailures[reason]);
      }
    },
  });
  new Gauge({
    name: 'kea_knot_log_lines_dropped', help: 'lines not written to stdout because it was not read fast enough', labelNames: ['service'], registers: [registry],
    collect() {
      this.reset();
      for (const [service, count] of output.droppedTotals()) this.set({ service }, count);
    },
  });
  return registry;
}
