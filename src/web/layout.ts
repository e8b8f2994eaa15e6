import { SCRIPT, STYLESHEET } from './assets.js';
import { html, type Html, type HtmlValue } from './html.js';

export interface NavItem { readonly path: string; readonly label: string }

export interface PageOptions {
  readonly title: string;
  /** The nav path to mark as current. */
  readonly current?: string;
  /** The session's CSRF token (absent on the login page). */
  readonly csrf?: string;
  readonly nav?: readonly NavItem[];
  readonly notice?: { readonly kind: 'ok' | 'error'; readonly text: string } | undefined;
  readonly body: HtmlValue;
}

/** The shell of every page: one stylesheet, one script, no inline code (the CSP forbids it). */
export function page(options: PageOptions): Html {
  const nav = options.nav ?? [];
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · kea-knot</title>
<link rel="stylesheet" href="${STYLESHEET.path}">
${options.csrf === undefined ? '' : html`<meta name="csrf" content="${options.csrf}">`}
<script src="${SCRIPT.path}" defer></script>
</head><body>
${options.csrf === undefined ? '' : html`<header><span class="brand">kea-knot</span>
<nav>${nav.map((item) => html`<a href="${item.path}"${item.path === options.current ? html` aria-current="page"` : ''}>${item.label}</a>`)}</nav>
<form method="post" action="/logout"><input type="hidden" name="_csrf" value="${options.csrf}"><button class="plain" type="submit">Log out</button></form>
</header>`}
<main>
${options.notice ? html`<div class="notice ${options.notice.kind}" role="status">${options.notice.text}</div>` : ''}
${options.body}
</main></body></html>
`;
}

/** A hidden CSRF field for a form. */
export const csrfField = (csrf: string): Html => html`<input type="hidden" name="_csrf" value="${csrf}">`;

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}
