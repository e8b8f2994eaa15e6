import { html, type Html } from '../html.js';
import { page } from '../layout.js';

export function loginPage(loginCsrf: string, error?: string): Html {
  return page({
    title: 'Log in',
    notice: error === undefined ? undefined : { kind: 'error', text: error },
    body: html`<section class="login"><h1>kea-knot</h1>
<form method="post" action="/login">
<input type="hidden" name="_csrf" value="${loginCsrf}">
<label>Password <input type="password" name="password" autocomplete="current-password" required autofocus></label>
<button type="submit">Log in</button>
</form></section>`,
  });
}
