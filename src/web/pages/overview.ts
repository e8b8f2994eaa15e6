import type { HaView } from '../../kea/ha-status.js';
import type { StatusWithHa } from '../../supervisor/runner.js';
import type { Readiness } from '../../supervisor/supervisor.js';
import { html, type Html } from '../html.js';
import { duration } from '../layout.js';
import type { PoolUse } from '../pool-use.js';

export interface OverviewData {
  readonly readiness: Readiness;
  readonly services: readonly StatusWithHa[];
  readonly pools: readonly PoolUse[];
}

/** The part of the overview that refreshes itself (also sent alone, for data-refresh). */
export function overviewBody(data: OverviewData): Html {
  const ha = data.services.filter((s): s is StatusWithHa & { ha: HaView } => s.ha !== undefined && s.ha !== null);
  return html`<section><h2>Health</h2>
${data.readiness.ready
    ? html`<p class="good" data-testid="health">Serving: every service is ready.</p>`
    : html`<p class="bad" data-testid="health">Not ready:</p><ul>${data.readiness.reasons.map((r) => html`<li>${r}</li>`)}</ul>`}
</section>
<section><h2>Services</h2>
<table data-testid="services"><thead><tr><th>service</th><th>state</th><th>for</th><th>pid</th><th>restarts</th><th>last exit</th><th>last error</th><th></th></tr></thead><tbody>
${data.services.map((s) => html`<tr data-service="${s.name}"><td>${s.name}</td><td class="state-${s.state}">${s.state}</td><td>${duration(s.forMs)}</td><td>${s.pid ?? ''}</td><td>${s.restarts}</td>
<td>${s.lastExit ? (s.lastExit.signal ?? `code ${s.lastExit.code}`) : ''}</td><td class="bad">${s.lastError ?? ''}</td><td><a href="/logs/${encodeURIComponent(s.name)}">logs</a></td></tr>`)}
</tbody></table></section>
<section><h2>High availability</h2>
${ha.length === 0
    ? html`<p class="muted" data-testid="ha">This node runs alone (no HA pair).</p>`
    : html`<table data-testid="ha"><thead><tr><th>daemon</th><th>mode</th><th>this node</th><th>partner</th><th>in touch</th><th>partner seen</th></tr></thead><tbody>
${ha.map((s) => html`<tr><td>${s.name}</td><td>${s.ha.mode}</td><td class="${s.ha.serving ? 'good' : 'warn'}">${s.ha.state}</td><td>${s.ha.partner.state ?? 'unknown'}</td>
<td>${s.ha.partner.inTouch === null ? '' : s.ha.partner.inTouch ? 'yes' : html`<span class="bad">no</span>`}</td><td>${s.ha.partner.ageSeconds === null ? '' : `${s.ha.partner.ageSeconds} s ago`}</td></tr>`)}
</tbody></table>`}
</section>
<section><h2>Pool use</h2>
${data.pools.length === 0
    ? html`<p class="muted">No DHCP daemon answers now.</p>`
    : html`<table data-testid="pools"><thead><tr><th>daemon</th><th>subnet</th><th>in use</th><th>declined</th></tr></thead><tbody>
${data.pools.map((p) => {
      const percent = p.total > 0 ? Math.min(100, (100 * p.assigned) / p.total) : 0;
      return html`<tr><td>${p.service}</td><td>${p.subnet || `#${p.subnetId}`}</td>
<td><progress max="${p.total}" value="${p.assigned}"></progress> ${p.assigned} of ${p.total} (${percent.toFixed(percent < 10 ? 1 : 0)} %)</td><td>${p.declined}</td></tr>`;
    })}
</tbody></table>`}
</section>`;
}

export function overviewMain(data: OverviewData): Html {
  return html`<h1>Overview</h1><div data-refresh="/?partial=1" data-every="5000">${overviewBody(data)}</div>`;
}
