/**
 * Tile-built inclusion proofs against the independent Merkle tree of the CT log fixture
 * (test/fixtures/ct-log/tree.ts, which shares no code with src/): for many sizes and indices —
 * partial tiles, tile boundaries, level-1 and level-2 tiles — the audit path built from tiles must
 * equal the fixture's RFC 6962 §2.1.1 PATH, and verify against its root with `ct/merkle`.
 */
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { MerkleTree } from '../../test/fixtures/ct-log/index.js';
import { verifyInclusion } from './merkle.js';
import {
  hashTileKey,
  inclusionProofFromTiles,
  inclusionProofRanges,
  tilesForInclusionProof,
} from './tile-proof.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** The tiles a log of `tree`'s first `size` leaves would serve for these refs. */
function tilesFor(tree: MerkleTree, leafIndex: number, size: number): Map<string, Uint8Array> {
  const tiles = new Map<string, Uint8Array>();
  for (const ref of tilesForInclusionProof(leafIndex, size)) {
    tiles.set(hashTileKey(ref.level, ref.index), tree.levelSlice(8 * ref.level, ref.index * 256, ref.width));
  }
  return tiles;
}

function check(tree: MerkleTree, leafIndex: number, size: number): void {
  const proof = inclusionProofFromTiles(leafIndex, size, tilesFor(tree, leafIndex, size));
  const expected = tree.inclusionProof(leafIndex, size);
  expect(proof.auditPath.map(hex), `leaf ${leafIndex} of ${size}`).toEqual(expected.map(hex));
  expect(hex(proof.leafHash)).toBe(hex(tree.leafHash(leafIndex)));
  verifyInclusion(leafIndex, size, proof.leafHash, proof.auditPath, tree.root(size));
}

// 2 × 256² + 5 leaves: level-2 tiles exist (a level-2 hash covers 65,536 leaves), plus partial
// tiles at every level. Random leaf hashes are enough: tiles hold hashes, not entries.
const BIG = 2 * 256 * 256 + 5;
let tree: MerkleTree;

beforeAll(() => {
  tree = new MerkleTree();
  const bytes = randomBytes(BIG * 32);
  for (let i = 0; i < BIG; i++) tree.append(bytes.subarray(i * 32, (i + 1) * 32));
});

describe('inclusionProofRanges', () => {
  it('is empty for a one-leaf tree and splits at the largest power of two', () => {
    expect(inclusionProofRanges(0, 1)).toEqual([]);
    // RFC 6962 §2.1.3 example tree of 7 leaves: PATH(0) = [b, h, l] = [1,2), [2,4), [4,7).
    expect(inclusionProofRanges(0, 7)).toEqual([
      [1, 2],
      [2, 4],
      [4, 7],
    ]);
    // PATH(6) = [j, i] = [4,6), [0,4).
    expect(inclusionProofRanges(6, 7)).toEqual([
      [4, 6],
      [0, 4],
    ]);
  });

  it('refuses indices outside the tree', () => {
    expect(() => inclusionProofRanges(7, 7)).toThrow(/not in a tree of 7/);
    expect(() => tilesForInclusionProof(0, 0)).toThrow(/positive integer/);
  });
});

describe('tilesForInclusionProof', () => {
  it('names partial tiles with the width the tree size implies', () => {
    // 778 leaves = 3 full level-0 tiles + 10; level 1 holds 3 hashes.
    expect(tilesForInclusionProof(5, 778)).toEqual([
      { level: 0, index: 0, width: 256 },
      { level: 0, index: 3, width: 10 },
      { level: 1, index: 0, width: 3 },
    ]);
    expect(tilesForInclusionProof(777, 778)).toEqual([
      { level: 0, index: 3, width: 10 },
      { level: 1, index: 0, width: 3 },
    ]);
  });

  it('needs a level-2 tile beyond 65,536 leaves', () => {
    const refs = tilesForInclusionProof(BIG - 1, BIG);
    expect(refs.some((r) => r.level === 2 && r.width === 2)).toBe(true);
  });
});

describe('inclusionProofFromTiles', () => {
  it('matches the fixture tree for every leaf of small trees', () => {
    for (const size of [1, 2, 3, 4, 5, 7, 8, 9, 31, 255, 256, 257, 300]) {
      for (let i = 0; i < size; i++) check(tree, i, size);
    }
  });

  it('matches at tile boundaries and partial tiles of larger trees', () => {
    const sizes = [511, 512, 513, 778, 1000, 4096, 65_535, 65_536, 65_537, 65_792, 70_000, 131_071, BIG];
    for (const size of sizes) {
      const indices = new Set([0, 1, 255, 256, 257, size - 1, size - 2, Math.floor(size / 2), size - 257]);
      for (let k = 0; k < 8; k++) indices.add(Math.floor(Math.random() * size));
      for (const i of indices) if (i >= 0 && i < size) check(tree, i, size);
    }
  });

  it('accepts a full tile in place of a vanished partial one (only its prefix is used)', () => {
    const size = 300; // tile 0/001 is partial (44 hashes) at this size
    const tiles = tilesFor(tree, 260, size);
    tiles.set(hashTileKey(0, 1), tree.levelSlice(0, 256, 256));
    const proof = inclusionProofFromTiles(260, size, tiles);
    verifyInclusion(260, size, proof.leafHash, proof.auditPath, tree.root(size));
  });

  it('reports a missing or short tile as CT_BAD_RESPONSE', () => {
    const tiles = tilesFor(tree, 5, 778);
    tiles.delete(hashTileKey(1, 0));
    expect(() => inclusionProofFromTiles(5, 778, tiles)).toThrow(
      expect.objectContaining({ code: 'CT_BAD_RESPONSE' }) as Error,
    );
    const short = tilesFor(tree, 5, 778);
    short.set(hashTileKey(0, 3), tree.levelSlice(0, 768, 4));
    expect(() => inclusionProofFromTiles(770, 778, short)).toThrow(/need/);
    const ragged = tilesFor(tree, 5, 778);
    ragged.set(hashTileKey(0, 0), new Uint8Array(33));
    expect(() => inclusionProofFromTiles(5, 778, ragged)).toThrow(/whole hashes/);
  });

  it('yields a proof that fails against another root when a tile lies', () => {
    const tiles = tilesFor(tree, 5, 778);
    const forged = Buffer.from(tree.levelSlice(8, 0, 3));
    forged[40] = (forged[40] as number) ^ 1;
    tiles.set(hashTileKey(1, 0), forged);
    const proof = inclusionProofFromTiles(5, 778, tiles);
    expect(() => verifyInclusion(5, 778, proof.leafHash, proof.auditPath, tree.root(778))).toThrow(
      /another root/,
    );
  });
});
