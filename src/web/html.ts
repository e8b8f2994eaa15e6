/**
 * HTML built from tagged templates: every interpolated value is escaped unless it is
 * already Html (made by this tag or by `raw` for constant markup). Pages never
 * concatenate strings into markup, so a hostname or a log line holding `<script>`
 * renders as text.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string { return this.text; }
}

export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.text;
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i += 1) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Constant markup written in the source, never data. */
export function raw(text: string): Html {
  return new Html(text);
}
