import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CompactTree,
  EMPTY_ROOT,
  leafHash,
  MerkleError,
  nodeHash,
  rootFromInclusionProof,
  rootFromLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';
import type { MerkleErrorCode } from './errors.js';

const VECTORS = new URL('../../test/vectors/ct/merkle/', import.meta.url);
const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

function codeOf(fn: () => unknown): MerkleErrorCode | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof MerkleError) return err.code;
    throw err;
  }
}

/** Every `*.json` under a `testdata/<kind>` folder, as [relative path, parsed] rows. */
function probes<T>(kind: string): [string, T][] {
  const root = new URL(`testdata/${kind}/`, VECTORS);
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f, JSON.parse(readFileSync(new URL(f, root), 'utf8')) as T]);
}

const hashes = JSON.parse(readFileSync(new URL('extracted/tree-hashes.json', VECTORS), 'utf8')) as {
  leaf_inputs: string[];
  node_hashes_by_level: string[][];
  root_hash_by_tree_size: string[];
  hasher: { desc: string; leaf_hex?: string; left_hex?: string; right_hex?: string; want: string }[];
};

// --- RFC 6962 §2.1 reference definitions, written recursively straight from the text ---------------

function mth(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leafHash(leaves[0] as Uint8Array);
  const k = 2 ** Math.floor(Math.log2(leaves.length - 1)); // largest power of two < n
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

/** RFC 6962 §2.1.1 PATH(m, D[n]). */
function path(m: number, leaves: readonly Uint8Array[]): Uint8Array[] {
  if (leaves.length <= 1) return [];
  const k = 2 ** Math.floor(Math.log2(leaves.length - 1));
  return m < k
    ? [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))]
    : [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

/** RFC 6962 §2.1.2 PROOF(m, D[n]) = SUBPROOF(m, D[n], true). */
function subproof(m: number, leaves: readonly Uint8Array[], b: boolean): Uint8Array[] {
  const n = leaves.length;
  if (m === n) return b ? [] : [mth(leaves)];
  const k = 2 ** Math.floor(Math.log2(n - 1));
  return m <= k
    ? [...subproof(m, leaves.slice(0, k), b), mth(leaves.slice(k))]
    : [...subproof(m - k, leaves.slice(k), false), mth(leaves.slice(0, k))];
}

describe('hasher and tree hashes (merkle/extracted/tree-hashes.json)', () => {
  const leaves = hashes.leaf_inputs.map(unhex);

  it.each(hashes.hasher)('$desc', (row) => {
    if (row.leaf_hex !== undefined) expect(hex(leafHash(unhex(row.leaf_hex)))).toBe(row.want);
    else if (row.left_hex !== undefined) {
      expect(hex(nodeHash(unhex(row.left_hex), unhex(row.right_hex ?? '')))).toBe(row.want);
    } else expect(hex(EMPTY_ROOT)).toBe(row.want);
  });

  it.each(hashes.root_hash_by_tree_size.map((want, n) => [n, want]))(
    'root of the first %i leaves',
    (n, want) => {
      const hs = leaves.slice(0, n).map(leafHash);
      expect(hex(rootFromLeafHashes(hs))).toBe(want);
      const t = new CompactTree();
      t.appendMany(hs);
      expect(t.size).toBe(n);
      expect(hex(t.root())).toBe(want);
      expect(hex(mth(leaves.slice(0, n)))).toBe(want);
    },
  );

  it.each(
    hashes.node_hashes_by_level.flatMap((row, level) => row.map((want, i) => [level, i, want] as const)),
  )('node hash at level %i index %i', (level, i, want) => {
    const w = 2 ** level;
    expect(hex(rootFromLeafHashes(leaves.slice(i * w, (i + 1) * w).map(leafHash)))).toBe(want);
  });
});

interface InclusionProbe {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

interface ConsistencyProbe {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

// subtreeinclusion/ and subtreeconsistency/ are skipped on purpose: they test
// draft-ietf-plants-merkle-tree-certs subtrees, which a CT client never verifies (README §1).
describe('inclusion proofs (merkle/testdata/inclusion)', () => {
  const rows = probes<InclusionProbe>('inclusion');

  it('has the 98 probes the README lists, 6 of them valid', () => {
    expect(rows).toHaveLength(98);
    expect(rows.filter(([, p]) => !p.wantErr)).toHaveLength(6);
  });

  it.each(rows)('%s', (_file, p) => {
    const code = codeOf(() =>
      verifyInclusion(p.leafIdx, p.treeSize, b64(p.leafHash), (p.proof ?? []).map(b64), b64(p.root)),
    );
    if (p.wantErr) expect(code).not.toBe('ok');
    else expect(code).toBe('ok');
  });
});

describe('consistency proofs (merkle/testdata/consistency)', () => {
  const rows = probes<ConsistencyProbe>('consistency');

  it('has the 98 probes the README lists, 6 of them valid', () => {
    expect(rows).toHaveLength(98);
    expect(rows.filter(([, p]) => !p.wantErr)).toHaveLength(6);
  });

  it.each(rows)('%s', (_file, p) => {
    const code = codeOf(() =>
      verifyConsistency(p.size1, p.size2, b64(p.root1), b64(p.root2), (p.proof ?? []).map(b64)),
    );
    if (p.wantErr) expect(code).not.toBe('ok');
    else expect(code).toBe('ok');
  });
});

describe('verification edge cases', () => {
  const leaves = Array.from({ length: 7 }, (_, i) => new Uint8Array([i]));
  const root7 = mth(leaves);
  const lh = (i: number): Uint8Array => leafHash(leaves[i] as Uint8Array);

  it.each<[string, () => void, MerkleErrorCode]>([
    ['index = size', () => verifyInclusion(7, 7, lh(0), path(0, leaves), root7), 'MERKLE_BAD_SIZE'],
    ['negative index', () => verifyInclusion(-1, 7, lh(0), [], root7), 'MERKLE_BAD_SIZE'],
    ['fractional size', () => verifyInclusion(0, 7.5, lh(0), [], root7), 'MERKLE_BAD_SIZE'],
    ['unsafe size', () => verifyInclusion(0, 2 ** 53, lh(0), [], root7), 'MERKLE_BAD_SIZE'],
    [
      '31-byte leaf hash',
      () => verifyInclusion(0, 7, lh(0).subarray(1), path(0, leaves), root7),
      'MERKLE_BAD_HASH_LENGTH',
    ],
    [
      'short proof',
      () => verifyInclusion(0, 7, lh(0), path(0, leaves).slice(1), root7),
      'MERKLE_WRONG_PROOF_LENGTH',
    ],
    ['wrong leaf', () => verifyInclusion(0, 7, lh(1), path(0, leaves), root7), 'MERKLE_ROOT_MISMATCH'],
    ['size2 < size1', () => verifyConsistency(3, 2, root7, root7, []), 'MERKLE_BAD_SIZE'],
    ['from empty tree', () => verifyConsistency(0, 7, EMPTY_ROOT, root7, []), 'MERKLE_BAD_SIZE'],
    [
      'empty proof',
      () => verifyConsistency(3, 7, mth(leaves.slice(0, 3)), root7, []),
      'MERKLE_WRONG_PROOF_LENGTH',
    ],
    ['equal sizes, proof', () => verifyConsistency(7, 7, root7, root7, [root7]), 'MERKLE_WRONG_PROOF_LENGTH'],
    [
      'equal sizes, roots differ',
      () => verifyConsistency(7, 7, root7, EMPTY_ROOT, []),
      'MERKLE_ROOT_MISMATCH',
    ],
    [
      'wrong root1',
      () => verifyConsistency(3, 7, root7, root7, subproof(3, leaves, true)),
      'MERKLE_ROOT_MISMATCH',
    ],
  ])('%s → %s', (_name, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });

  it('does tree arithmetic beyond 2^32 without 32-bit wrap-around', () => {
    // Leaf 2^40 of a tree of 2^40 + 1: the proof is the single root of the left perfect subtree.
    const left = leafHash(new Uint8Array([1]));
    const leaf = lh(0);
    expect(hex(rootFromInclusionProof(2 ** 40, 2 ** 40 + 1, leaf, [left]))).toBe(hex(nodeHash(left, leaf)));
    expect(codeOf(() => rootFromInclusionProof(2 ** 40, 2 ** 40 + 1, leaf, []))).toBe(
      'MERKLE_WRONG_PROOF_LENGTH',
    );
    // Leaf 0 of a tree of 2^33 + 1 needs 33 inner nodes and one border node.
    expect(codeOf(() => rootFromInclusionProof(0, 2 ** 33 + 1, leaf, Array(34).fill(left)))).toBe('ok');
    expect(codeOf(() => rootFromInclusionProof(0, 2 ** 33 + 1, leaf, Array(33).fill(left)))).toBe(
      'MERKLE_WRONG_PROOF_LENGTH',
    );
  });

  it('verifies RFC 6962 §2.1.1/§2.1.2 reference proofs for every index and size pair up to 40', () => {
    const all = Array.from({ length: 40 }, (_, i) => new TextEncoder().encode(`leaf ${i}`));
    for (let n = 1; n <= all.length; n++) {
      const d = all.slice(0, n);
      const root = mth(d);
      for (let m = 0; m < n; m++) verifyInclusion(m, n, leafHash(d[m] as Uint8Array), path(m, d), root);
      for (let m = 1; m <= n; m++) verifyConsistency(m, n, mth(d.slice(0, m)), root, subproof(m, d, true));
    }
  });
});

describe('property: proofs of random trees', () => {
  const tree = fc
    .integer({ min: 1, max: 300 })
    .chain((n) => fc.tuple(fc.constant(n), fc.nat({ max: n - 1 }), fc.integer({ min: 1, max: n })));

  it('valid proofs verify; a flipped bit or shifted index does not', () => {
    fc.assert(
      fc.property(tree, fc.nat(), ([n, m, m1], bit) => {
        const d = Array.from({ length: n }, (_, i) => new Uint8Array([i & 0xff, i >> 8]));
        const root = mth(d);
        const proof = path(m, d);
        expect(codeOf(() => verifyInclusion(m, n, leafHash(d[m] as Uint8Array), proof, root))).toBe('ok');
        if (n > 1) {
          expect(
            codeOf(() => verifyInclusion((m + 1) % n, n, leafHash(d[m] as Uint8Array), proof, root)),
          ).not.toBe('ok');
        }
        const cproof = subproof(m1, d, true);
        const root1 = mth(d.slice(0, m1));
        expect(codeOf(() => verifyConsistency(m1, n, root1, root, cproof))).toBe('ok');
        if (cproof.length > 0) {
          const i = bit % cproof.length;
          const bad = cproof.map((h, j) => (j === i ? h.map((b, k) => (k === bit % 32 ? b ^ 1 : b)) : h));
          expect(codeOf(() => verifyConsistency(m1, n, root1, root, bad))).toBe('MERKLE_ROOT_MISMATCH');
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('CompactTree', () => {
  const leaves = Array.from({ length: 70 }, (_, i) => leafHash(new Uint8Array([i])));

  it('matches MTH at every size, and resumes from toJSON()/fromJSON() at any size', () => {
    const t = new CompactTree();
    for (let n = 0; n <= leaves.length; n++) {
      const want = hex(rootFromLeafHashes(leaves.slice(0, n)));
      expect(hex(t.root())).toBe(want);
      const saved = JSON.parse(JSON.stringify(t)) as unknown;
      const resumed = CompactTree.fromJSON(saved);
      resumed.appendMany(leaves.slice(n));
      expect(hex(resumed.root())).toBe(hex(rootFromLeafHashes(leaves)));
      if (n < leaves.length) t.append(leaves[n] as Uint8Array);
    }
  });

  it('keeps one hash per set bit of the size', () => {
    const t = new CompactTree();
    t.appendMany(leaves.slice(0, 0b1011));
    expect(t.toJSON().hashes).toHaveLength(3);
  });

  it('appends aligned perfect subtrees, and refuses unaligned ones', () => {
    const t = new CompactTree();
    t.appendSubtree(rootFromLeafHashes(leaves.slice(0, 64)), 6);
    t.appendSubtree(rootFromLeafHashes(leaves.slice(64, 68)), 2);
    t.append(leaves[68] as Uint8Array);
    expect(t.size).toBe(69);
    expect(hex(t.root())).toBe(hex(rootFromLeafHashes(leaves.slice(0, 69))));
    expect(codeOf(() => t.appendSubtree(leaves[0] as Uint8Array, 1))).toBe('MERKLE_BAD_SIZE');
    expect(codeOf(() => t.append(new Uint8Array(31)))).toBe('MERKLE_BAD_HASH_LENGTH');
  });

  it('clone() is independent', () => {
    const t = new CompactTree();
    t.appendMany(leaves.slice(0, 5));
    const c = t.clone();
    c.append(leaves[5] as Uint8Array);
    expect(t.size).toBe(5);
    expect(hex(t.root())).toBe(hex(rootFromLeafHashes(leaves.slice(0, 5))));
  });

  const h = Buffer.from(leaves[0] as Uint8Array).toString('base64');
  it.each<[string, unknown]>([
    ['null', null],
    ['string', 'x'],
    ['negative size', { size: -1, hashes: [] }],
    ['fractional size', { size: 1.5, hashes: [h] }],
    ['too few hashes', { size: 3, hashes: [h] }],
    ['too many hashes', { size: 2, hashes: [h, h] }],
    ['short hash', { size: 1, hashes: ['AAAA'] }],
    ['invalid base64', { size: 1, hashes: ['!'.repeat(44)] }],
    ['non-string hash', { size: 1, hashes: [1] }],
    ['no hashes', { size: 1 }],
  ])('fromJSON refuses %s', (_name, state) => {
    expect(codeOf(() => CompactTree.fromJSON(state))).toBe('MERKLE_BAD_STATE');
  });
});
