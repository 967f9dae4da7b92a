import { describe, expect, it } from 'vitest';
import { makeStyle } from './style.js';

const tty = { isTTY: true } as NodeJS.WriteStream;
const pipe = { isTTY: false } as NodeJS.WriteStream;

describe('makeStyle', () => {
  it('colours a terminal', () => {
    expect(makeStyle(tty, {}).red('x')).toBe('\u001b[31mx\u001b[39m');
  });
  it('never colours with NO_COLOR set (https://no-color.org), even when forced', () => {
    expect(makeStyle(tty, { NO_COLOR: '1' }).red('x')).toBe('x');
    expect(makeStyle(tty, { NO_COLOR: '1', FORCE_COLOR: '1' }).red('x')).toBe('x');
  });
  it('does not colour a pipe unless FORCE_COLOR asks', () => {
    expect(makeStyle(pipe, {}).red('x')).toBe('x');
    expect(makeStyle(pipe, { FORCE_COLOR: '1' }).red('x')).toBe('\u001b[31mx\u001b[39m');
  });
});
