/**
 * @module ct/tile-proof
 * Inclusion proofs for static-ct-api logs. A tiled log has no get-proof-by-hash endpoint
 * (c2sp.org/static-ct-api: "there are no dynamic endpoints"); a client builds the RFC 6962 §2.1.1
 * audit path PATH(m, D[0:n]) itself from hash tiles (c2sp.org/tlog-tiles), then checks it against a
 * verified checkpoint with `ct/merkle`. This module is the pure half: which tiles a proof needs, and
 * the proof from those tiles. Fetching them is the caller's business (`StaticCtLogClient.getHashTile`).
 *
 * Every node of PATH(m, D[0:n]) is MTH(D[a:b]) for a range that splits into aligned perfect
 * subtrees (RFC 9162 §2.1.1's split at the largest power of two). A perfect subtree of height h is
 * 2^(h mod 8) consecutive hashes of tile level ⌊h/8⌋ (level-l tiles hold the roots of perfect
 * subtrees of height 8·l), all inside one tile because 2^(h mod 8) divides 256. Nothing in the
 * tiles is trusted: the proof is only as good as the root it leads to, which the caller compares
 * with the checkpoint's.
 */
import { CertvigilError } from '../errors.js';
import { HASH_SIZE, nodeHash } from './merkle.js';
import { parseHashTile, TILE_HEIGHT, TILE_WIDTH, tilePath, tileWidth } from './tiles.js';

/** A hash tile to fetch: `level` ≥ 0, `width` as a tree of the proof's size implies it. */
export interface HashTileRef {
  level: number;
  index: number;
  width: number;
}

/** An aligned perfect subtree: leaves `[index·2^height, (index+1)·2^height)`. */
interface PerfectSubtree {
  height: number;
  index: number;
}

function checkArgs(leafIndex: number, treeSize: number): void {
  if (!Number.isSafeInteger(treeSize) || treeSize < 1)
    throw new CertvigilError('CT_INVALID_ARGUMENT', `tree size must be a positive integer, not ${treeSize}`);
  if (!Number.isSafeInteger(leafIndex) || leafIndex < 0 || leafIndex >= treeSize) {
    throw new CertvigilError(
      'CT_INVALID_ARGUMENT',
      `leaf index ${leafIndex} is not in a tree of ${treeSize}`,
    );
  }
}

/** Largest power of two strictly below `n` (n ≥ 2): RFC 6962 §2.1's k. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * RFC 6962 §2.1.1 PATH(m, D[0:n]) as leaf ranges `[start, end)`, leaf level first: the same
 * recursion as the RFC, so the order is the audit path's.
 */
export function inclusionProofRanges(leafIndex: number, treeSize: number): [number, number][] {
  checkArgs(leafIndex, treeSize);
  const out: [number, number][] = [];
  let m = leafIndex;
  let start = 0;
  let n = treeSize;
  // Walk down iteratively, collecting the siblings top-down, then reverse (leaf level first).
  while (n > 1) {
    const k = splitPoint(n);
    if (m < k) {
      out.push([start + k, start + n]);
      n = k;
    } else {
      out.push([start, start + k]);
      m -= k;
      start += k;
      n -= k;
    }
  }
  return out.reverse();
}

/** `[start, end)` as aligned perfect subtrees, left to right (largest first for ranges of a path). */
function perfectSubtrees(start: number, end: number): PerfectSubtree[] {
  const out: PerfectSubtree[] = [];
  let a = start;
  while (a < end) {
    let size = 1;
    let height = 0;
    // Grow while the doubled subtree stays aligned at `a` and inside the range.
    while (a % (size * 2) === 0 && a + size * 2 <= end) {
      size *= 2;
      height++;
    }
    out.push({ height, index: a / size });
    a += size;
  }
  return out;
}

/** Where a perfect subtree's hashes live: `count` hashes of tile level `level` from `first`. */
function tileSpan(s: PerfectSubtree): { level: number; first: number; count: number } {
  const level = Math.floor(s.height / TILE_HEIGHT);
  const count = 2 ** (s.height % TILE_HEIGHT);
  return { level, first: s.index * count, count };
}

const refKey = (level: number, index: number): string => `${level}/${index}`;

/**
 * The hash tiles that `inclusionProofFromTiles(leafIndex, treeSize, …)` needs, each once, lowest
 * level first. Includes the level-0 tile holding the leaf itself (to read the hash logged there).
 * Widths are those a tree of `treeSize` implies (partial for the rightmost tile of a level), so a
 * client may fetch them once it has verified a checkpoint of that size.
 */
export function tilesForInclusionProof(leafIndex: number, treeSize: number): HashTileRef[] {
  checkArgs(leafIndex, treeSize);
  const refs = new Map<string, HashTileRef>();
  const need = (level: number, hashIndex: number): void => {
    const index = Math.floor(hashIndex / TILE_WIDTH);
    const key = refKey(level, index);
    if (!refs.has(key)) refs.set(key, { level, index, width: tileWidth(level, index, treeSize) });
  };
  need(0, leafIndex);
  for (const [a, b] of inclusionProofRanges(leafIndex, treeSize)) {
    for (const s of perfectSubtrees(a, b)) {
      const span = tileSpan(s);
      need(span.level, span.first);
    }
  }
  return [...refs.values()].sort((x, y) => x.level - y.level || x.index - y.index);
}

/** Hash tiles by `level/index`, as fetched (a tile may be wider than asked: the full one). */
export type HashTiles = ReadonlyMap<string, Uint8Array>;

/** The key `inclusionProofFromTiles` looks tiles up by. */
export function hashTileKey(level: number, index: number): string {
  return refKey(level, index);
}

/** MTH of `count` (a power of two ≤ 256) consecutive hashes, pairing bottom-up. */
function perfectRoot(hashes: Uint8Array[]): Uint8Array {
  let layer = hashes;
  while (layer.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < layer.length; i += 2)
      next.push(nodeHash(layer[i] as Uint8Array, layer[i + 1] as Uint8Array));
    layer = next;
  }
  return layer[0] as Uint8Array;
}

export interface TileInclusionProof {
  /** The level-0 hash the log stores at `leafIndex`. */
  leafHash: Uint8Array;
  /** RFC 6962 §2.1.1 audit path, leaf level first (what get-proof-by-hash would return). */
  auditPath: Uint8Array[];
}

/**
 * Builds the audit path of `leafIndex` in a tree of `treeSize` from the tiles named by
 * `tilesForInclusionProof` (keyed by `hashTileKey`). Throws `CT_BAD_RESPONSE` when a tile is
 * missing, malformed, or too narrow. The result is unverified: check it with `verifyInclusion`
 * against a verified checkpoint's root.
 */
export function inclusionProofFromTiles(
  leafIndex: number,
  treeSize: number,
  tiles: HashTiles,
): TileInclusionProof {
  checkArgs(leafIndex, treeSize);
  const parsed = new Map<string, Uint8Array[]>();
  const hashesOf = (level: number, first: number, count: number): Uint8Array[] => {
    const index = Math.floor(first / TILE_WIDTH);
    const key = refKey(level, index);
    let hashes = parsed.get(key);
    if (hashes === undefined) {
      const bytes = tiles.get(key);
      const path = tilePath({ level, index, width: tileWidth(level, index, treeSize) });
      if (bytes === undefined) throw new CertvigilError('CT_BAD_RESPONSE', `tile ${path} is missing`);
      if (bytes.length % HASH_SIZE !== 0 || bytes.length === 0)
        throw new CertvigilError(
          'CT_BAD_RESPONSE',
          `tile ${path} is ${bytes.length} bytes, not whole hashes`,
        );
      hashes = parseHashTile(bytes);
      parsed.set(key, hashes);
    }
    const offset = first - index * TILE_WIDTH;
    if (offset + count > hashes.length) {
      throw new CertvigilError(
        'CT_BAD_RESPONSE',
        `tile ${level}/${index} has ${hashes.length} hashes, need ${offset + count}`,
      );
    }
    return hashes.slice(offset, offset + count);
  };
  const subtreeHash = (s: PerfectSubtree): Uint8Array => {
    const span = tileSpan(s);
    return perfectRoot(hashesOf(span.level, span.first, span.count));
  };
  const auditPath = inclusionProofRanges(leafIndex, treeSize).map(([a, b]) => {
    const parts = perfectSubtrees(a, b).map(subtreeHash);
    // RFC 6962 §2.1: MTH of a non-perfect range splits at the largest power of two, i.e. the
    // subtrees fold from the right.
    let r = parts[parts.length - 1] as Uint8Array;
    for (let i = parts.length - 2; i >= 0; i--) r = nodeHash(parts[i] as Uint8Array, r);
    return r;
  });
  const [leafHash] = hashesOf(0, leafIndex, 1) as [Uint8Array];
  return { leafHash, auditPath };
}
