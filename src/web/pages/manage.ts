import type { LeaseListing } from '../../kea/leases.js';
import type { StaticName } from '../../knot/names.js';
import type { Reservation } from '../../reservations/reservation.js';
import { html, type Html } from '../html.js';
import { csrfField, duration } from '../layout.js';

/** Reservations are IPv4: a DHCPv6 lease has no Pin button. */
export function leasesMain(csrf: string, { leases, dns, dhcp6 }: LeaseListing, search: string, reserved: ReadonlySet<string>, now: number): Html {
  const showNode = leases.some((l) => l.node !== null);
  return html`<h1>Leases</h1>
<section><form class="row" method="get" action="/leases"><label>Search address, MAC or name <input type="search" name="search" value="${search}"></label><button type="submit">Search</button></form></section>
${dns.checked ? '' : html`<div class="notice error">DNS could not be read: ${dns.error ?? ''}</div>`}
${dhcp6?.checked === false ? html`<div class="notice error">DHCPv6 leases could not be read: ${dhcp6.error ?? ''}</div>` : ''}
<section><table data-testid="leases"><thead><tr><th>address</th><th>MAC</th><th>name</th><th>in DNS</th><th>state</th><th>ends in</th>${showNode ? html`<th>pool of</th>` : ''}<th></th></tr></thead><tbody>
${leases.length === 0 ? html`<tr><td colspan="8" class="muted">No lease${search ? ' matches' : ' yet'}.</td></tr>` : ''}
${leases.map((l) => html`<tr data-address="${l.address}"><td>${l.address}</td><td>${l.mac}</td><td>${l.hostname ?? ''}</td>
<td>${l.dns === null ? '?' : l.dns ? html`<span class="good">yes</span>` : 'no'}</td><td>${l.state}</td><td>${l.expires > now ? duration(l.expires - now) : 'ended'}</td>${showNode ? html`<td>${l.node ?? ''}</td>` : ''}
<td>${reserved.has(l.address) ? html`<span class="muted">pinned</span>` : l.mac === '' || l.address.includes(':') ? '' : html`<form class="inline" method="post" action="/leases/pin">${csrfField(csrf)}<input type="hidden" name="address" value="${l.address}"><button type="submit" class="plain" title="Reserve this address for this MAC">Pin</button></form>`}</td></tr>`)}
</tbody></table></section>`;
}

export function reservationsMain(csrf: string, reservations: readonly Reservation[]): Html {
  return html`<h1>Reservations</h1>
<section><h2>Add</h2><form class="row" method="post" action="/reservations" data-testid="add-reservation">${csrfField(csrf)}
<label>MAC <input name="hw-address" required placeholder="52:54:00:12:34:56"></label>
<label>Address <input name="ip-address" required placeholder="192.168.1.20"></label>
<label>Name (optional) <input name="hostname" placeholder="printer"></label>
<button type="submit">Add</button></form>
<p class="muted">Each change is checked and applied to the running kea-dhcp4 (a reload); a device takes a changed address when it renews.</p></section>
<section><table data-testid="reservations"><thead><tr><th>MAC</th><th>address</th><th>name</th><th></th></tr></thead><tbody>
${reservations.length === 0 ? html`<tr><td colspan="4" class="muted">No reservation yet. Pin a lease on the Leases page, or add one above.</td></tr>` : ''}
${reservations.map((r) => html`<tr data-mac="${r['hw-address']}"><td>${r['hw-address']}</td>
<td colspan="2"><form class="row" method="post" action="/reservations/edit">${csrfField(csrf)}<input type="hidden" name="old" value="${r['hw-address']}"><input type="hidden" name="hw-address" value="${r['hw-address']}">
<input name="ip-address" value="${r['ip-address']}" aria-label="address" required><input name="hostname" value="${r.hostname ?? ''}" aria-label="name"><button type="submit" class="plain">Save</button></form></td>
<td><form class="inline" method="post" action="/reservations/remove">${csrfField(csrf)}<input type="hidden" name="key" value="${r['hw-address']}"><button type="submit" class="plain">Remove</button></form></td></tr>`)}
</tbody></table></section>`;
}

export function namesMain(csrf: string, names: readonly StaticName[]): Html {
  return html`<h1>DNS names</h1>
<section><h2>Add a name</h2><form class="row" method="post" action="/names" data-testid="add-name">${csrfField(csrf)}
<label>Name <input name="name" required placeholder="nas"></label>
<label>Address <input name="address" required placeholder="192.168.1.10"></label>
<button type="submit">Add</button></form>
<p class="muted">For devices that keep a fixed address of their own. DHCP clients get their names from their leases (or a reservation's name).</p></section>
<section><table data-testid="names"><thead><tr><th>name</th><th>address</th><th>reverse</th><th></th></tr></thead><tbody>
${names.length === 0 ? html`<tr><td colspan="4" class="muted">No static name yet.</td></tr>` : ''}
${names.map((n) => html`<tr data-name="${n.name}"><td>${n.name}</td><td>${n.address}</td><td>${n.reverse ?? ''}</td>
<td><form class="inline" method="post" action="/names/remove">${csrfField(csrf)}<input type="hidden" name="name" value="${n.name}"><button type="submit" class="plain">Remove</button></form></td></tr>`)}
</tbody></table></section>`;
}
