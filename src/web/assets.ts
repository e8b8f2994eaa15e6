import { createHash } from 'node:crypto';

/**
 * The dashboard's only stylesheet and script, kept as strings so that `tsc` alone builds
 * them into dist (no bundler, no copy step). Served under a name holding their digest, so
 * browsers may keep them for good; the Content-Security-Policy allows only these.
 */
const CSS = `
:root { color-scheme: light dark; --fg: #1d2430; --muted: #5c6675; --bg: #f6f7f9; --card: #fff; --line: #d9dde3; --accent: #1f6feb; --bad: #c62828; --warn: #b26a00; --good: #2e7d32; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e9ee; --muted: #9aa4b2; --bg: #14171c; --card: #1c2027; --line: #30363f; --accent: #5b9cff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; align-items: center; gap: .25rem 1rem; padding: .6rem 1rem; background: var(--card); border-bottom: 1px solid var(--line); }
header .brand { font-weight: 700; margin-right: .5rem; }
nav a { margin-right: .8rem; color: var(--fg); text-decoration: none; }
nav a[aria-current="page"] { color: var(--accent); font-weight: 600; }
header form { margin-left: auto; }
main { padding: 1rem; max-width: 1100px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem; margin-bottom: 1rem; overflow-x: auto; }
h1 { font-size: 1.3rem; margin: 0 0 .8rem; } h2 { font-size: 1.05rem; margin: 0 0 .6rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .3rem .6rem .3rem 0; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: .85rem; }
.state-ready, .state-exited, .good { color: var(--good); } .state-failed, .bad { color: var(--bad); } .state-backoff, .state-starting, .state-stopping, .warn { color: var(--warn); }
.muted { color: var(--muted); }
progress { width: 8rem; vertical-align: middle; }
.notice { white-space: pre-line; padding: .5rem .8rem; border-radius: 4px; margin-bottom: 1rem; border: 1px solid var(--line); }
.notice.error { border-color: var(--bad); color: var(--bad); } .notice.ok { border-color: var(--good); color: var(--good); }
input, select, button { font: inherit; padding: .3rem .5rem; border: 1px solid var(--line); border-radius: 4px; background: var(--bg); color: var(--fg); }
button { cursor: pointer; background: var(--accent); color: #fff; border-color: var(--accent); }
button.plain { background: transparent; color: var(--fg); border-color: var(--line); }
form.inline { display: inline; }
form.row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; }
form.row label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); }
.login { max-width: 22rem; margin: 4rem auto; }
.login label { display: block; margin-bottom: .6rem; } .login input { width: 100%; }
pre.log { margin: 0; min-height: 20rem; max-height: 70vh; overflow: auto; font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap; word-break: break-all; }
pre.log .l40 { color: var(--warn); } pre.log .l50, pre.log .l60 { color: var(--bad); }
.tabs a { margin-right: .6rem; }
`;

const JS = `
'use strict';
(function () {
  var csrf = (document.querySelector('meta[name="csrf"]') || {}).content || '';
  // Parts of a page that refresh themselves: the server renders (and escapes) them.
  document.querySelectorAll('[data-refresh]').forEach(function (el) {
    var url = el.getAttribute('data-refresh');
    var every = Number(el.getAttribute('data-every') || 5000);
    var busy = false;
    setInterval(function () {
      if (busy || document.hidden) return;
      busy = true;
      fetch(url, { headers: { 'x-partial': '1' }, credentials: 'same-origin' }).then(function (r) {
        if (r.status === 401) { location.reload(); return ''; }
        return r.ok ? r.text() : '';
      }).then(function (text) { if (text) el.innerHTML = text; }).catch(function () {}).then(function () { busy = false; });
    }, every);
  });
  // A live log tail: every line is set as text, never as markup.
  var log = document.querySelector('pre[data-stream]');
  if (log) {
    var status = document.getElementById('log-status');
    var max = Number(log.getAttribute('data-max') || 2000);
    var source = new EventSource(log.getAttribute('data-stream'));
    var add = function (entry) {
      var atEnd = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
      var line = document.createElement('div');
      line.className = 'l' + entry.level + ' ' + entry.stream;
      line.textContent = new Date(entry.time).toLocaleTimeString() + '  ' + entry.msg;
      log.appendChild(line);
      while (log.childNodes.length > max) log.removeChild(log.firstChild);
      if (atEnd) log.scrollTop = log.scrollHeight;
    };
    source.addEventListener('line', function (e) { add(JSON.parse(e.data)); });
    source.addEventListener('open', function () { if (status) status.textContent = 'following'; });
    source.addEventListener('error', function () { if (status) status.textContent = 'reconnecting…'; });
    log.scrollTop = log.scrollHeight;
  }
  // Forms that ask first.
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (e) { if (!confirm(form.getAttribute('data-confirm'))) e.preventDefault(); });
  });
  window.keaKnotCsrf = csrf;
})();
`;

function asset(text: string, type: string, ext: string) {
  const body = Buffer.from(text.trim() + '\n');
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { path: `/assets/app.${hash}.${ext}`, body, type };
}

export const STYLESHEET = asset(CSS, 'text/css; charset=utf-8', 'css');
export const SCRIPT = asset(JS, 'text/javascript; charset=utf-8', 'js');
export const ASSETS = [STYLESHEET, SCRIPT];
