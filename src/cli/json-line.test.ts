import { describe, expect, it } from 'vitest';
import { jsonLine } from './json-line.js';

describe('jsonLine', () => {
  it.each([
    ['plain', { a: 'www.example.test' }, '{"a":"www.example.test"}'],
    ['bidi override', { a: 'evil\u202etset' }, '{"a":"evil\\u202etset"}'],
    ['C1 CSI', ['\u009b31m'], '["\\u009b31m"]'],
    ['line separator', 'a\u2028b', '"a\\u2028b"'],
    ['astral format char (tag)', '\u{E0001}', '"\\udb40\\udc01"'],
    ['C0 (JSON.stringify already)', '\u001b[2J', '"\\u001b[2J"'],
  ])('%s', (_name, value, expected) => {
    const line = jsonLine(value);
    expect(line).toBe(expected);
    expect(JSON.parse(line)).toEqual(value);
  });
});
