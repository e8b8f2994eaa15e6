import { StringDecoder } from 'node:string_decoder';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../../src/logs/line-splitter.js';

function splitAll(chunks: readonly string[], maxLineLength?: number): string[] {
  const splitter = new LineSplitter(maxLineLength === undefined ? {} : { maxLineLength });
  const lines = chunks.flatMap((chunk) => splitter.push(chunk));
  const last = splitter.flush();
  return last === undefined ? lines : [...lines, last];
}

describe('LineSplitter', () => {
  it('yields complete lines and keeps the partial tail across chunks', () => {
    const splitter = new LineSplitter();
    expect(splitter.push('one\ntw')).toEqual(['one']);
    expect(splitter.push('o')).toEqual([]);
    expect(splitter.push('\nthree\nfour\n')).toEqual(['two', 'three', 'four']);
    expect(splitter.flush()).toBeUndefined();
  });

  it('keeps empty lines', () => {
    expect(splitAll(['a\n\nb\n', '\n'])).toEqual(['a', '', 'b', '']);
  });

  it('strips CR of CRLF, also when CR and LF arrive in different chunks', () => {
    expect(splitAll(['a\r\nb\r', '\nc\r\n'])).toEqual(['a', 'b', 'c']);
    expect(splitAll(['a\rb\n'])).toEqual(['a\rb']);
  });

  it('returns the unterminated last line on flush, once', () => {
    const splitter = new LineSplitter();
    expect(splitter.push('done\npartial')).toEqual(['done']);
    expect(splitter.flush()).toBe('partial');
    expect(splitter.flush()).toBeUndefined();
    expect(splitAll(['last\r'])).toEqual(['last']);
  });

  it('cuts over-long lines into pieces', () => {
    expect(splitAll(['abcdefghij\n'], 4)).toEqual(['abcd', 'efgh', 'ij']);
    expect(splitAll(['abcdefgh\r\n'], 4)).toEqual(['abcd', 'efgh']);
  });

  it('bounds an unterminated line while it is still arriving', () => {
    const splitter = new LineSplitter({ maxLineLength: 4 });
    expect(splitter.push('abc')).toEqual([]);
    expect(splitter.push('defghi')).toEqual(['abcd', 'efgh']);
    expect(splitter.push('j\nk')).toEqual(['ij']);
    expect(splitter.flush()).toBe('k');
  });

  it('never cuts a surrogate pair in half', () => {
    const lines = splitAll(['abc😀def\n'], 4);
    expect(lines).toEqual(['abc', '😀de', 'f']);
    expect(lines.join('')).toBe('abc😀def');
  });

  it('gets whole characters when a chunk ends mid-character (utf8 decoding)', () => {
    const bytes = Buffer.from('größe: 1\nnäme: 😀 ok\n', 'utf8');
    const decoder = new StringDecoder('utf8');
    const splitter = new LineSplitter();
    const lines: string[] = [];
    for (let i = 0; i < bytes.length; i += 1) lines.push(...splitter.push(decoder.write(bytes.subarray(i, i + 1))));
    expect(lines).toEqual(['größe: 1', 'näme: 😀 ok']);
  });

  it('rejects a useless maximum', () => {
    expect(() => new LineSplitter({ maxLineLength: 1 })).toThrow(RangeError);
  });
});
