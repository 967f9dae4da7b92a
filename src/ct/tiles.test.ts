import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMerkleTreeLeaf } from './entry.js';
import { leafHash, rootFromLeafHashes } from './merkle.js';
import {
  compactTreeFromTiles,
  dataTilesForRange,
  encodeTileIndex,
  parseDataTile,
  parseHashTile,
  parseTilePath,
  TileError,
  tilePath,
  tilesForCompactRange,
  tileWidth,
} from './tiles.js';
import type { TileErrorCode } from './errors.js';
import type { TileRef } from './tiles.js';
import type { RawLogEntry } from './types.js';

const CT = new URL('../../test/vectors/ct/', import.meta.url);
const NAVIGLI = new URL('sunlight/testdata/navigli2025h2/', CT);
const tile = (path: string): Uint8Array => new Uint8Array(readFileSync(new URL(path, NAVIGLI)));
const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');
const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');

const derived = JSON.parse(readFileSync(new URL('derived/navigli2025h2-derived.json', CT), 'utf8')) as {
  rfc6962_root_b64_by_tree_size: Record<string, string>;
  'level8_hashes_hex (what tile/1/000 entries 0..3 would hold)': string[];
  first_entry: {
    leaf_index: number;
    timestamp: number;
    leaf_hash_hex: string;
    issuer_key_hash_hex: string;
    chain_fingerprints_hex: string[];
  };
  last_entry: { leaf_index: number; timestamp: number; leaf_hash_hex: string };
};

function codeOf(fn: () => unknown): TileErrorCode | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof TileError) return err.code;
    throw err;
  }
}

describe('tile paths (static-ct-api §Merkle Tree)', () => {
  it.each<[number, string]>([
    [0, '000'],
    [5, '005'],
    [999, '999'],
    [1000, 'x001/000'],
    [1234067, 'x001/x234/067'],
    [2 ** 40, 'x001/x099/x511/x627/776'],
  ])('index %i → %s', (n, want) => {
    expect(encodeTileIndex(n)).toBe(want);
  });

  it.each<[TileRef, string]>([
    [{ level: 0, index: 1234067, width: 256 }, 'tile/0/x001/x234/067'],
    [{ level: 'data', index: 3, width: 10 }, 'tile/data/003.p/10'],
    [{ level: 1, index: 0, width: 4 }, 'tile/1/000.p/4'],
    [{ level: 5, index: 1000, width: 255 }, 'tile/5/x001/000.p/255'],
  ])('%j ↔ %s', (ref, path) => {
    expect(tilePath(ref)).toBe(path);
    expect(parseTilePath(path)).toEqual(ref);
  });

  it.each([
    'tile/0/x000/005', // leading zero group
    'tile/00/000',
    'tile/0/05',
    'tile/0/0005',
    'tile/0/000.p/256',
    'tile/0/000.p/0',
    'tile/0/000.p/010',
    'tile/data/x1/000',
    'tile/0/000/',
    '/tile/0/000',
    'tile/names/000',
    'tile/64/000',
  ])('refuses %s', (path) => {
    expect(codeOf(() => parseTilePath(path))).toBe('TILE_BAD_PATH');
  });

  it.each<[TileRef]>([
    [{ level: 0, index: -1, width: 256 }],
    [{ level: 0, index: 0, width: 0 }],
    [{ level: 0, index: 0, width: 257 }],
    [{ level: -1, index: 0, width: 256 }],
  ])('tilePath refuses %j', (ref) => {
    expect(codeOf(() => tilePath(ref))).not.toBe('ok');
  });

  it('property: parseTilePath(tilePath(x)) = x', () => {
    const ref = fc.record({
      level: fc.oneof(fc.constant('data' as const), fc.integer({ min: 0, max: 63 })),
      index: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
      width: fc.integer({ min: 1, max: 256 }),
    });
    fc.assert(
      fc.property(ref, (r) => {
        expect(parseTilePath(tilePath(r))).toEqual(r);
      }),
    );
  });
});

describe('which tiles exist and cover a range', () => {
  it('the static-ct-api example: a tree of 70,000', () => {
    expect(tileWidth(0, 272, 70000)).toBe(256);
    expect(tileWidth(0, 273, 70000)).toBe(112);
    expect(codeOf(() => tileWidth(0, 274, 70000))).toBe('TILE_BAD_RANGE');
    expect(tileWidth(1, 0, 70000)).toBe(256);
    expect(tileWidth(1, 1, 70000)).toBe(17);
    expect(tileWidth(2, 0, 70000)).toBe(1);
    expect(tilesForCompactRange(70000)).toEqual([
      { level: 2, index: 0, width: 1 },
      { level: 1, index: 1, width: 17 },
      { level: 0, index: 273, width: 112 },
    ]);
  });

  it('a tree of 256: one full level-0 tile and a level-1 tile of width 1', () => {
    expect(tileWidth(0, 0, 256)).toBe(256);
    expect(tileWidth(1, 0, 256)).toBe(1);
    expect(tilesForCompactRange(256)).toEqual([{ level: 1, index: 0, width: 1 }]);
    expect(tilesForCompactRange(0)).toEqual([]);
  });

  it.each<[number, number, number, [number, number][]]>([
    [0, 0, 10, []],
    [0, 1, 10, [[0, 10]]],
    [0, 256, 256, [[0, 256]]],
    [
      255,
      257,
      1000,
      [
        [0, 256],
        [1, 256],
      ],
    ],
    [
      300,
      778,
      778,
      [
        [1, 256],
        [2, 256],
        [3, 10],
      ],
    ],
    [768, 778, 1024, [[3, 256]]],
  ])('entries [%i, %i) of %i', (start, end, size, want) => {
    expect(dataTilesForRange(start, end, size).map((t) => [t.index, t.width])).toEqual(want);
    expect(dataTilesForRange(start, end, size).every((t) => t.level === 'data')).toBe(true);
  });

  it.each<[number, number, number]>([
    [2, 1, 10],
    [0, 11, 10],
    [-1, 1, 10],
  ])('refuses [%i, %i) of %i', (start, end, size) => {
    expect(codeOf(() => dataTilesForRange(start, end, size))).toBe('TILE_BAD_RANGE');
  });
});

describe('navigli2025h2 tiles (README §3 items 1–4 and 8)', () => {
  const full = [0, 1, 2, 3].map((n) => parseDataTile(tile(`tile/data/00${n}`), n * 256, 256));
  const all = full.flat();
  const level0 = [0, 1, 2, 3].map((n) => tile(`tile/0/00${n}`));

  it('1: every full data tile has 256 entries, the partial one 10', () => {
    expect(full.map((t) => t.length)).toEqual([256, 256, 256, 256]);
    expect(parseDataTile(tile('tile/data/003.p/10'), 768, 10)).toHaveLength(10);
  });

  it('2: every leaf_index extension is the entry’s position (checked by the parser)', () => {
    expect(all.map((e) => e.index)).toEqual(Array.from({ length: 1024 }, (_, i) => i));
    expect(codeOf(() => parseDataTile(tile('tile/data/001'), 0))).toBe('TILE_LEAF_INDEX');
  });

  it('3: SHA-256(0x00 || MTL) of entry i is bytes [32i, 32i+32) of the level-0 tile', () => {
    for (const e of all) {
      const t = level0[Math.floor(e.index / 256)] as Uint8Array;
      const i = e.index % 256;
      expect(hex(leafHash(e.leafInput))).toBe(hex(t.subarray(32 * i, 32 * i + 32)));
    }
  });

  it('3: the rebuilt leafInput is a MerkleTreeLeaf that parses back to the same leaf', () => {
    for (const e of all.slice(0, 16)) {
      expect(hex(e.leafInput.subarray(0, 2))).toBe('0000');
      const leaf = parseMerkleTreeLeaf(e.leafInput);
      expect(leaf.timestamp).toBe(e.leaf.timestamp);
      expect(hex(leaf.tbsCertificate ?? new Uint8Array())).toBe(
        hex(e.leaf.tbsCertificate ?? new Uint8Array(1)),
      );
    }
  });

  it.each(['data', '0', 'names'])('4: partial %s tile 003.p/10 is a prefix of the full tile 003', (kind) => {
    const partial = tile(`tile/${kind}/003.p/10`);
    expect(hex(tile(`tile/${kind}/003`).subarray(0, partial.length))).toBe(hex(partial));
  });

  it('4: the partial data tile decodes to the first 10 entries of tile 3', () => {
    const partial = parseDataTile(tile('tile/data/003.p/10'), 768);
    expect(partial.map((e) => hex(e.leafInput))).toEqual(full[3]?.slice(0, 10).map((e) => hex(e.leafInput)));
  });

  it('8: first and last entries', () => {
    const first = all[0] as RawLogEntry;
    const last = all[1023] as RawLogEntry;
    expect([first.index, first.leaf.timestamp]).toEqual([0, derived.first_entry.timestamp]);
    expect([last.index, last.leaf.timestamp]).toEqual([1023, 1746292689102]);
    expect(hex(leafHash(first.leafInput))).toBe(derived.first_entry.leaf_hash_hex);
    expect(hex(leafHash(last.leafInput))).toBe(derived.last_entry.leaf_hash_hex);
    expect(hex(first.leaf.issuerKeyHash ?? new Uint8Array())).toBe(derived.first_entry.issuer_key_hash_hex);
    expect(first.chainFingerprints?.map(hex)).toEqual(derived.first_entry.chain_fingerprints_hex);
  });

  it('every entry is a precert with its pre_certificate; chain left for issuer resolution', () => {
    expect(all.every((e) => e.leaf.entryType === 'precert' && e.preCertificate?.[0] === 0x30)).toBe(true);
    expect(all.every((e) => e.chain.length === 0 && (e.chainFingerprints?.length ?? 0) > 0)).toBe(true);
  });

  it('names tile timestamps match the data tile, line by line', () => {
    for (let n = 0; n < 4; n++) {
      const lines = Buffer.from(tile(`tile/names/00${n}`))
        .toString('utf8')
        .trimEnd()
        .split('\n');
      expect(lines.map((l) => (JSON.parse(l) as { Timestamp: number }).Timestamp)).toEqual(
        full[n]?.map((e) => e.leaf.timestamp),
      );
    }
  });

  it('the level-8 hashes are the roots of the full level-0 tiles', () => {
    const level8 = level0.map((t) => hex(rootFromLeafHashes(parseHashTile(t, 256))));
    expect(level8).toEqual(derived['level8_hashes_hex (what tile/1/000 entries 0..3 would hold)']);
  });

  it.each([1024, 778])('tree root at %i equals derived/navigli2025h2-derived.json', (size) => {
    const want = derived.rfc6962_root_b64_by_tree_size[String(size)];
    // From every leaf hash:
    expect(b64(rootFromLeafHashes(all.slice(0, size).map((e) => leafHash(e.leafInput))))).toBe(want);
    // From the compact-range tiles only: the level-1 tile is rebuilt from the level-0 tiles,
    // as a log would serve it.
    const level1 = new Uint8Array(Buffer.concat(level0.map((t) => rootFromLeafHashes(parseHashTile(t)))));
    const tiles = tilesForCompactRange(size).map((ref) =>
      ref.level === 1 ? level1 : tile(`tile/0/00${ref.index}`),
    );
    expect(tilesForCompactRange(size).map(tilePath)).toEqual(
      size === 1024 ? ['tile/1/000.p/4'] : ['tile/1/000.p/3', 'tile/0/003.p/10'],
    );
    expect(b64(compactTreeFromTiles(size, tiles).root())).toBe(want);
    // The partial tile as served works the same as the full one.
    if (size === 778) {
      expect(b64(compactTreeFromTiles(778, [level1, tile('tile/0/003.p/10')]).root())).toBe(want);
    }
  });

  it('compactTreeFromTiles refuses too few tiles or too narrow ones', () => {
    expect(codeOf(() => compactTreeFromTiles(778, [tile('tile/0/003.p/10')]))).toBe('TILE_BAD_RANGE');
    expect(codeOf(() => compactTreeFromTiles(1024, [tile('tile/0/003.p/10').subarray(0, 96)]))).toBe(
      'TILE_WRONG_WIDTH',
    );
  });
});

describe('malformed tiles', () => {
  const data3p = tile('tile/data/003.p/10');
  const firstLen = parseDataTile(data3p, 768)[0]?.leafInput.length ?? 0;

  it.each<[string, () => unknown, TileErrorCode]>([
    [
      'truncated data tile',
      () => parseDataTile(data3p.subarray(0, data3p.length - 1), 768),
      'TILE_MALFORMED',
    ],
    ['empty data tile', () => parseDataTile(new Uint8Array(0), 0), 'TILE_MALFORMED'],
    ['wrong width', () => parseDataTile(data3p, 768, 11), 'TILE_WRONG_WIDTH'],
    ['first index not a tile boundary', () => parseDataTile(data3p, 769), 'TILE_BAD_RANGE'],
    [
      'more than 256 entries',
      () => parseDataTile(new Uint8Array(Buffer.concat([tile('tile/data/000'), tile('tile/data/001')])), 0),
      'TILE_WRONG_WIDTH',
    ],
    [
      'unknown entry type',
      () => {
        const b = data3p.slice();
        b[9] = 7; // entry_type low byte of the first TileLeaf
        return parseDataTile(b, 768);
      },
      'TILE_MALFORMED',
    ],
    [
      'leaf_index changed',
      () => {
        const b = data3p.slice();
        const at = firstLen - 2 - 1; // last byte of the first entry's uint40 leaf_index
        b[at] = (b[at] as number) ^ 1;
        return parseDataTile(b, 768);
      },
      'TILE_LEAF_INDEX',
    ],
    ['hash tile of 33 bytes', () => parseHashTile(new Uint8Array(33)), 'TILE_MALFORMED'],
    ['hash tile of 257 hashes', () => parseHashTile(new Uint8Array(32 * 257)), 'TILE_MALFORMED'],
    ['empty hash tile', () => parseHashTile(new Uint8Array(0)), 'TILE_MALFORMED'],
    ['hash tile of the wrong width', () => parseHashTile(tile('tile/0/003.p/10'), 256), 'TILE_WRONG_WIDTH'],
    [
      'skylight placeholder level-0 tile',
      () =>
        parseHashTile(
          new Uint8Array(readFileSync(new URL('sunlight/cmd/skylight/testdata/tree/tile/0/000', CT))),
        ),
      'TILE_MALFORMED',
    ],
  ])('%s → %s', (_n, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });

  it('a fingerprint list that is not a multiple of 32 bytes', () => {
    // One x509 TileLeaf: ts, entry_type 0, 1-byte cert, leaf_index 0, a 31-byte fingerprint list.
    const leaf = Buffer.from(
      '0000000000000001' + '0000' + '00000130' + '0008' + '0000050000000000' + '001f',
      'hex',
    );
    expect(codeOf(() => parseDataTile(new Uint8Array(Buffer.concat([leaf, Buffer.alloc(31)])), 0))).toBe(
      'TILE_MALFORMED',
    );
    const ok = Buffer.from(
      '0000000000000001' + '0000' + '00000130' + '0008' + '0000050000000000' + '0020',
      'hex',
    );
    const [e] = parseDataTile(new Uint8Array(Buffer.concat([ok, Buffer.alloc(32, 0xee)])), 0);
    expect(e?.chainFingerprints?.map(hex)).toEqual(['ee'.repeat(32)]);
    expect(e?.preCertificate).toBeUndefined();
    expect(hex(e?.leafInput ?? new Uint8Array())).toBe(
      '0000' + '0000000000000001' + '0000' + '00000130' + '0008' + '0000050000000000',
    );
    expect(
      hex(
        createHash('sha256')
          .update(Buffer.concat([Buffer.from([0]), e?.leafInput ?? new Uint8Array()]))
          .digest(),
      ),
    ).toBe(hex(leafHash(e?.leafInput ?? new Uint8Array())));
  });

  it('property: mutated data tiles fail only with TileError', () => {
    const base = data3p.subarray(0, firstLen * 2); // keep it small: about two entries
    fc.assert(
      fc.property(fc.nat(), fc.nat(255), fc.nat(base.length), fc.boolean(), (at, value, cut, truncate) => {
        const b = truncate ? base.slice(0, cut) : base.map((x, i) => (i === at % base.length ? value : x));
        try {
          parseDataTile(b, 768);
        } catch (err) {
          expect(err).toBeInstanceOf(TileError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
