/** Lines longer than this are cut into pieces, so one runaway line cannot grow memory. */
export const DEFAULT_MAX_LINE_LENGTH = 16 * 1024;

const CR = 13;

/**
 * Cuts a stream of decoded text into lines. Lengths count UTF-16 code units, the unit
 * of JavaScript strings; a cut never separates the two halves of a surrogate pair.
 */
export class LineSplitter {
  readonly maxLineLength: number;
  #tail = '';

  constructor(options: { maxLineLength?: number } = {}) {
    this.maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    if (!Number.isInteger(this.maxLineLength) || this.maxLineLength < 2) {
      throw new RangeError(`maxLineLength must be an integer >= 2, got ${this.maxLineLength}`);
    }
  }

  /** The complete lines in `chunk` (without "\n" or "\r\n"); keeps the unterminated rest. */
  push(chunk: string): string[] {
    const lines: string[] = [];
    let newline = chunk.indexOf('\n');
    if (newline === -1) {
      this.#tail = this.#cutWhileLong(lines, this.#tail + chunk);
      return lines;
    }
    this.#addLine(lines, this.#tail + chunk.slice(0, newline));
    let start = newline + 1;
    while ((newline = chunk.indexOf('\n', start)) !== -1) {
      this.#addLine(lines, chunk.slice(start, newline));
      start = newline + 1;
    }
    this.#tail = this.#cutWhileLong(lines, chunk.slice(start));
    return lines;
  }

  /** The unterminated last line at end of stream, if any. */
  flush(): string | undefined {
    const tail = this.#tail;
    this.#tail = '';
    if (tail === '') return undefined;
    return tail.charCodeAt(tail.length - 1) === CR ? tail.slice(0, -1) : tail;
  }

  #addLine(lines: string[], line: string): void {
    const end = line.length > 0 && line.charCodeAt(line.length - 1) === CR ? line.length - 1 : line.length;
    if (end <= this.maxLineLength) {
      lines.push(end === line.length ? line : line.slice(0, end));
      return;
    }
    const rest = this.#cutWhileLong(lines, line.slice(0, end));
    if (rest !== '') lines.push(rest);
  }

  /** Pushes maxLineLength pieces of `text` while it is longer than that; returns the rest. */
  #cutWhileLong(lines: string[], text: string): string {
    while (text.length > this.maxLineLength) {
      let cut = this.maxLineLength;
      const last = text.charCodeAt(cut - 1);
      if (last >= 0xd800 && last <= 0xdbff) cut -= 1; // keep a surrogate pair together
      lines.push(text.slice(0, cut));
      text = text.slice(cut);
    }
    return text;
  }
}
