import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { compactTreeFromLastLeaf } from './log-reader.js';
import { CompactTree, leafHash } from './merkle.js';

/** RFC 6962 §2.1.1 PATH(m, D[n]), written from the RFC as an independent reference. */
function path(m: number, leaves: Uint8Array[]): Uint8Array[] {
  const n = leaves.length;
  if (n <= 1) return [];
  let k = 1;
  while (k * 2 < n) k *= 2;
  const mth = (d: Uint8Array[]): Uint8Array => {
    const t = new CompactTree();
    for (const h of d) t.append(h);
    return t.root();
  };
  return m < k
    ? [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))]
    : [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

describe('compactTreeFromLastLeaf', () => {
  it.each([...Array(70).keys()].map((i) => i + 1))(
    'rebuilds the compact tree of size %i from the last leaf’s audit path',
    (n) => {
      const leaves = [...Array(n).keys()].map((i) =>
        leafHash(createHash('sha256').update(`leaf ${i}`).digest()),
      );
      const expected = new CompactTree();
      for (const h of leaves) expected.append(h);
      const rebuilt = compactTreeFromLastLeaf(n, leaves[n - 1] as Uint8Array, path(n - 1, leaves));
      expect(rebuilt.toJSON()).toEqual(expected.toJSON());
      // And it keeps growing like the real one.
      const extra = leafHash(new Uint8Array([1, 2, 3]));
      rebuilt.append(extra);
      expected.append(extra);
      expect(Buffer.from(rebuilt.root()).equals(Buffer.from(expected.root()))).toBe(true);
    },
  );
});
