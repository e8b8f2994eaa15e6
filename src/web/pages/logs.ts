import type { LogEntry } from '../../logs/history.js';
import { html, type Html } from '../html.js';

/** Lines rendered with the page; newer ones come through the stream. */
export const PAGE_LINES = 200;
/** Lines the browser keeps (older ones scroll away). */
export const BROWSER_LINES = 2000;

export function logsMain(services: readonly string[], current: string, recent: readonly LogEntry[]): Html {
  return html`<h1>Logs</h1>
<p class="tabs">${services.map((name) => html`<a href="/logs/${encodeURIComponent(name)}"${name === current ? html` aria-current="page"` : ''}>${name}</a>`)}</p>
<section><h2>${current} <span class="muted" id="log-status">connecting…</span></h2>
<pre class="log" data-testid="log" data-stream="/logs/${encodeURIComponent(current)}/stream" data-max="${BROWSER_LINES}">${recent.map((entry) => html`<div class="l${entry.level} ${entry.stream}">${new Date(entry.time).toISOString().slice(11, 19)}  ${entry.msg}</div>`)}</pre>
</section>`;
}
