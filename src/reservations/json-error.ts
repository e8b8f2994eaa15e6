/**
 * Where JSON.parse gave up, as line and column: V8 names no position for most errors
 * ("Unexpected token ','"), and a hand-edited file needs its line. A strict JSON
 * recogniser that stops at the first character that cannot continue the document.
 */
export function jsonErrorAt(text: string): { line: number; column: number; found: string } | undefined {
  let p = 0;
  const space = () => { while (/[ \t\r\n]/.test(text[p] ?? '')) p += 1; };
  const literal = (word: string) => { if (!text.startsWith(word, p)) throw p; p += word.length; };
  const string = () => {
    p += 1;
    for (;;) {
      const c = text[p];
      if (c === undefined || c < ' ') throw p;
      if (c === '"') { p += 1; return; }
      if (c === '\\') {
        if (text[p + 1] === 'u' && /^[0-9a-f]{4}$/i.test(text.slice(p + 2, p + 6))) p += 6;
        else if ('"\\/bfnrt'.includes(text[p + 1] ?? 'x')) p += 2;
        else throw p + 1;
      } else p += 1;
    }
  };
  const value = (): void => {
    space();
    const c = text[p];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      p += 1;
      space();
      if (text[p] === close) { p += 1; return; }
      for (;;) {
        if (close === '}') {
          space();
          if (text[p] !== '"') throw p;
          string();
          space();
          literal(':');
        }
        value();
        space();
        if (text[p] === close) { p += 1; return; }
        literal(',');
      }
    }
    if (c === '"') return string();
    const number = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    number.lastIndex = p;
    if (number.test(text)) { p = number.lastIndex; return; }
    for (const word of ['true', 'false', 'null']) if (text.startsWith(word, p)) { p += word.length; return; }
    throw p;
  };
  try {
    value();
    space();
    if (p === text.length) return undefined;
  } catch (at) {
    if (typeof at !== 'number') throw at;
    p = at;
  }
  const before = text.slice(0, p).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1, found: p < text.length ? JSON.stringify(text[p]) : 'the end of the file' };
}
