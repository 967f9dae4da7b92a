/**
 * @module ct/tiles
 * c2sp.org/static-ct-api (and the c2sp.org/tlog-tiles layout it shares): tile paths, which tiles
 * hold which entries, data-tile and hash-tile decoding, and the tree hash from tiles. Pure: the
 * HTTP client fetches (and gunzips) the bytes, this module only reads them.
 *
 * A tile is 256 consecutive hashes of one level: level 0 holds leaf hashes, level l ≥ 1 holds the
 * roots of the full tiles of level l − 1, i.e. MTH(D[(n·256 + i)·256^l : (n·256 + i + 1)·256^l]).
 * The rightmost tile of each level is usually partial (`.p/<W>`, 1 ≤ W ≤ 255).
 */
import { CtError } from './errors.js';
import type { RawLogEntry } from './types.js';
import { EntryError, leafIndexExtension, readAsn1Cert, readTimestampedEntry } from './entry.js';
import { CompactTree, HASH_SIZE } from './merkle.js';
import { TlsDecodeError, TlsReader } from './tls.js';
import type { TileErrorCode } from './errors.js';

/** static-ct-api: "Full tiles MUST be exactly 256 hashes wide". */
export const TILE_WIDTH = 256;
/** Levels of the Merkle tree one tile spans (256 = 2^8). */
export const TILE_HEIGHT = 8;
/** tlog-tiles allows levels 0–63 (static-ct-api logs only need 0–5). */
const MAX_LEVEL = 63;

export class TileError extends CtError<TileErrorCode> {}

/** One tile: `level` is a tree level or `'data'`; `width` is 256 for a full tile. */
export interface TileRef {
  level: number | 'data';
  index: number;
  width: number;
}

function checkIndex(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new TileError('TILE_BAD_RANGE', `${what} must be a non-negative safe integer`);
}

/**
 * static-ct-api `<N>`: "a non-negative integer encoded into 3-digit path elements. All but the last
 * path element MUST begin with an x" — 1234067 → `x001/x234/067`, 5 → `005`.
 */
export function encodeTileIndex(n: number): string {
  checkIndex(n, 'tile index');
  const groups: string[] = [];
  let rest = n;
  do {
    groups.unshift(String(rest % 1000).padStart(3, '0'));
    rest = Math.floor(rest / 1000);
  } while (rest > 0);
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

/** `tile/<L>/<N>[.p/<W>]` or `tile/data/<N>[.p/<W>]`, relative to the monitoring prefix. */
export function tilePath(tile: TileRef): string {
  const { level, index, width } = tile;
  if (level !== 'data' && (!Number.isInteger(level) || level < 0 || level > MAX_LEVEL)) {
    throw new TileError('TILE_BAD_PATH', `bad tile level ${level}`);
  }
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH)
    throw new TileError('TILE_BAD_PATH', `bad tile width ${width}`);
  const base = `tile/${level}/${encodeTileIndex(index)}`;
  return width === TILE_WIDTH ? base : `${base}.p/${width}`;
}

const PATH = /^tile\/(data|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*)([0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;

/** Inverse of `tilePath`, strictly (no leading zeros, no `x000` lead group). Throws `TILE_BAD_PATH`. */
export function parseTilePath(path: string): TileRef {
  const m = PATH.exec(path);
  const bad = (): never => {
    throw new TileError('TILE_BAD_PATH', `not a tile path: ${path}`);
  };
  if (m === null) return bad();
  const [, levelText = '', xs = '', lastGroup = '', widthText] = m;
  const groups = [
    ...xs
      .split('/')
      .filter((g) => g !== '')
      .map((g) => g.slice(1)),
    lastGroup,
  ];
  // A leading group of 000 would make two paths for one index ("x000/005" vs "005").
  if (groups.length > 1 && groups[0] === '000') return bad();
  let index = 0;
  for (const g of groups) index = index * 1000 + Number(g);
  const width = widthText === undefined ? TILE_WIDTH : Number(widthText);
  const level = levelText === 'data' ? 'data' : Number(levelText);
  if (!Number.isSafeInteger(index) || (level !== 'data' && level > MAX_LEVEL)) return bad();
  // A full tile has no `.p/` suffix, so `.p/256` is not another name for it.
  if (widthText !== undefined && width >= TILE_WIDTH) return bad();
  return { level, index, width };
}

/**
 * Width of tile `index` at `level` in a tree of `treeSize` leaves: 256 for a full tile, else the
 * partial width `floor(s / 256^l) mod 256` of the rightmost one. Throws `TILE_BAD_RANGE` for a tile
 * that does not exist at this size ("Empty tiles MUST NOT be served").
 */
export function tileWidth(level: number, index: number, treeSize: number): number {
  checkIndex(treeSize, 'tree size');
  checkIndex(index, 'tile index');
  const hashes = Math.floor(treeSize / TILE_WIDTH ** level); // hashes that exist at this level
  const full = Math.floor(hashes / TILE_WIDTH);
  if (index < full) return TILE_WIDTH;
  const partial = hashes % TILE_WIDTH;
  if (index === full && partial > 0) return partial;
  throw new TileError('TILE_BAD_RANGE', `tile ${level}/${index} does not exist at tree size ${treeSize}`);
}

/**
 * The data tiles that hold entries `[start, end)` of a tree of `treeSize` entries, in order: full
 * tiles, and the partial rightmost tile when `end` reaches into it. Each tile's first entry is
 * `index * 256`; the caller keeps the entries of the range.
 */
export function dataTilesForRange(start: number, end: number, treeSize: number): TileRef[] {
  checkIndex(start, 'start');
  checkIndex(end, 'end');
  checkIndex(treeSize, 'tree size');
  if (start > end || end > treeSize)
    throw new TileError('TILE_BAD_RANGE', `[${start}, ${end}) not within a tree of ${treeSize}`);
  const tiles: TileRef[] = [];
  if (start === end) return tiles;
  const last = Math.floor((end - 1) / TILE_WIDTH);
  for (let index = Math.floor(start / TILE_WIDTH); index <= last; index++) {
    tiles.push({ level: 'data', index, width: tileWidth(0, index, treeSize) });
  }
  return tiles;
}

/**
 * The hash tiles whose prefixes make up the compact range of `[0, treeSize)`: at each level l, the
 * rightmost tile, of which the first `floor(s / 256^l) mod 256` hashes are the roots of the perfect
 * subtrees not yet covered by the levels above (skipped when that count is 0). Highest level first.
 * A size-1024 tree needs `tile/1/000.p/4`; size 778 needs `tile/1/000.p/3` and `tile/0/003.p/10`.
 */
export function tilesForCompactRange(treeSize: number): TileRef[] {
  checkIndex(treeSize, 'tree size');
  const tiles: TileRef[] = [];
  for (let level = 0; TILE_WIDTH ** level <= treeSize; level++) {
    const hashes = Math.floor(treeSize / TILE_WIDTH ** level);
    const width = hashes % TILE_WIDTH;
    if (width > 0) tiles.unshift({ level, index: Math.floor(hashes / TILE_WIDTH), width });
  }
  return tiles;
}

/**
 * Builds the `CompactTree` of `[0, treeSize)` from the tiles `tilesForCompactRange(treeSize)` names,
 * given in the same order. A tile may be wider than needed (the full tile, when the partial one is
 * gone); its prefix is used. `.root()` is then the tree hash to compare with a checkpoint — and a
 * matching root authenticates every hash taken from the tiles.
 */
export function compactTreeFromTiles(treeSize: number, tiles: readonly Uint8Array[]): CompactTree {
  const refs = tilesForCompactRange(treeSize);
  if (tiles.length !== refs.length) {
    throw new TileError('TILE_BAD_RANGE', `size ${treeSize} needs ${refs.length} tiles, got ${tiles.length}`);
  }
  const tree = new CompactTree();
  refs.forEach((ref, i) => {
    const hashes = parseHashTile(tiles[i] as Uint8Array);
    if (hashes.length < ref.width) {
      throw new TileError('TILE_WRONG_WIDTH', `tile ${tilePath(ref)} has only ${hashes.length} hashes`);
    }
    const height = (ref.level as number) * TILE_HEIGHT;
    for (let j = 0; j < ref.width; j++) tree.appendSubtree(hashes[j] as Uint8Array, height);
  });
  return tree;
}

/**
 * A hash tile: 1–256 concatenated 32-byte hashes (views into `bytes`). With `width`, the tile must
 * hold exactly that many. Throws `TILE_MALFORMED` / `TILE_WRONG_WIDTH`.
 */
export function parseHashTile(bytes: Uint8Array, width?: number): Uint8Array[] {
  const n = bytes.length / HASH_SIZE;
  if (!Number.isInteger(n) || n < 1 || n > TILE_WIDTH) {
    throw new TileError('TILE_MALFORMED', `hash tile of ${bytes.length} bytes is not 1-256 hashes`);
  }
  if (width !== undefined && n !== width)
    throw new TileError('TILE_WRONG_WIDTH', `hash tile has ${n} hashes, expected ${width}`);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(bytes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
  return out;
}

/**
 * Decodes a data tile whose first entry is `firstIndex` (a multiple of 256): a sequence of
 * static-ct-api `TileLeaf { TimestampedEntry timestamped_entry; select (entry_type) { precert_entry:
 * ASN.1Cert pre_certificate }; Fingerprint certificate_chain<0..2^16-1> }`.
 *
 * Each entry's `leafInput` is the RFC 6962 §3.4 MerkleTreeLeaf rebuilt as
 * `00 (v1) || 00 (timestamped_entry) || timestamped_entry` (a new buffer), so `leafHash(leafInput)`
 * is the level-0 hash. Its `leaf_index` extension must equal its position. `chain` is left empty
 * (fingerprints resolve to `<monitoring prefix>/issuer/<hex>`); `chainFingerprints` and, for
 * precerts, `preCertificate` are views into `bytes`. With `width`, the count must match.
 */
export function parseDataTile(bytes: Uint8Array, firstIndex: number, width?: number): RawLogEntry[] {
  checkIndex(firstIndex, 'first index');
  if (firstIndex % TILE_WIDTH !== 0)
    throw new TileError('TILE_BAD_RANGE', `first index ${firstIndex} is not a tile boundary`);
  const r = new TlsReader(bytes, 'TileLeaf');
  const entries: RawLogEntry[] = [];
  while (r.remaining > 0) {
    const index = firstIndex + entries.length;
    if (entries.length === TILE_WIDTH)
      throw new TileError('TILE_WRONG_WIDTH', 'data tile holds more than 256 entries');
    const start = r.offset;
    let entry: RawLogEntry;
    try {
      const leaf = readTimestampedEntry(r);
      const leafEnd = r.offset;
      const preCertificate = leaf.entryType === 'precert' ? readAsn1Cert(r, 'pre_certificate') : undefined;
      const fp = r.vector(2, 'certificate_chain');
      if (fp.remaining % HASH_SIZE !== 0) fp.fail(`fingerprint list of ${fp.remaining} bytes`);
      const chainFingerprints: Uint8Array[] = [];
      while (fp.remaining > 0) chainFingerprints.push(fp.fixed(HASH_SIZE, 'fingerprint'));
      const leafInput = new Uint8Array(2 + leafEnd - start); // [0] = v1, [1] = timestamped_entry
      leafInput.set(bytes.subarray(start, leafEnd), 2);
      entry = { index, leafInput, leaf, chain: [], chainFingerprints };
      if (preCertificate !== undefined) entry.preCertificate = preCertificate;
    } catch (err) {
      if (!(err instanceof TlsDecodeError)) throw err;
      throw new TileError('TILE_MALFORMED', `entry ${index}: ${err.message}`, { cause: err });
    }
    checkLeafIndex(entry);
    entries.push(entry);
  }
  if (width !== undefined && entries.length !== width) {
    throw new TileError('TILE_WRONG_WIDTH', `data tile has ${entries.length} entries, expected ${width}`);
  }
  if (entries.length === 0) throw new TileError('TILE_MALFORMED', 'empty data tile');
  return entries;
}

/** static-ct-api: every entry carries a `leaf_index` extension equal to its 0-based log index. */
function checkLeafIndex(entry: RawLogEntry): void {
  let got: number | undefined;
  try {
    got = leafIndexExtension(entry.leaf.extensions);
  } catch (err) {
    if (!(err instanceof EntryError)) throw err;
    throw new TileError('TILE_MALFORMED', `entry ${entry.index}: ${err.message}`, { cause: err });
  }
  if (got !== entry.index) {
    throw new TileError('TILE_LEAF_INDEX', `entry ${entry.index} has leaf_index ${got ?? 'missing'}`);
  }
}
