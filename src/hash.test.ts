import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from './hash.js';

describe('sha256Hex', () => {
  it.each([
    ['empty', new Uint8Array(0), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    [
      'abc (FIPS 180-4 example)',
      new TextEncoder().encode('abc'),
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    ],
  ])('%s', (_name, data, want) => {
    expect(sha256Hex(data)).toBe(want);
  });

  it('agrees with createHash on a large buffer', () => {
    const data = new Uint8Array(100_000).map((_, i) => i & 0xff);
    expect(sha256Hex(data)).toBe(createHash('sha256').update(data).digest('hex'));
  });
});
