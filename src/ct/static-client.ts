/**
 * @module ct/static-client
 * The monitoring side of a static-ct-api log (c2sp.org/static-ct-api): the checkpoint, hash tiles,
 * data tiles and issuers, all plain GETs under the monitoring prefix. Paths and widths come from
 * `ct/tiles` (pure); this module adds the fetching, the partial-tile fallback, gunzip of data
 * tiles, and the checks that need no parsing (hash-tile length, issuer fingerprint).
 *
 * Parsing tiles and verifying the checkpoint belong to `ct/tiles` and `ct/checkpoint`.
 */
import { CertvigilError } from '../errors.js';
import { sha256Hex } from '../hash.js';
import { CtHttpError } from './http.js';
import type { CtHttpClient } from './http.js';
import { RESPONSE_LIMITS, withCap } from './http-limits.js';
import type { CtGetOptions } from './http-limits.js';
import { mapOrdered } from './rate-limit.js';
import { dataTilesForRange, TILE_WIDTH, TileError, tilePath } from './tiles.js';
import type { TileRef } from './tiles.js';

const HASH_SIZE = 32;

/** A data tile as fetched: `width` is the number of entries `bytes` holds, from `tileIndex * 256`. */
export interface DataTile {
  tileIndex: number;
  /** Entries in `bytes`: the width asked for, or 256 when a vanished partial tile was replaced. */
  width: number;
  /** Decompressed `TileLeaf` records. */
  bytes: Uint8Array;
}

export interface DataTilesOptions {
  /** Tiles downloaded at once (the HTTP client's own limit still applies). Default 4. */
  concurrency?: number;
  signal?: AbortSignal;
}

/** Runs a `ct/tiles` helper, turning its range/path errors into our argument error. */
function tiles<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof TileError)
      throw new CertvigilError('CT_INVALID_ARGUMENT', err.message, { cause: err });
    throw err;
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof CtHttpError && err.code === 'CT_HTTP' && err.status === 404;
}

/**
 * Client for one static-ct-api log's monitoring prefix.
 *
 * @example
 * const log = new StaticCtLogClient('https://navigli2025h2.sunlight.geomys.org/', http);
 * const note = await log.getCheckpoint();          // verify it before trusting its size
 * for await (const t of log.dataTilesForRange(0, size, size)) parseDataTile(t.bytes, t.tileIndex * 256);
 */
export class StaticCtLogClient {
  /** The monitoring prefix, with a trailing slash. */
  readonly prefix: string;

  constructor(
    monitoringPrefix: string,
    private readonly http: CtHttpClient,
  ) {
    let url: URL;
    try {
      url = new URL(monitoringPrefix);
    } catch (cause) {
      throw new CertvigilError('CT_INVALID_ARGUMENT', `not a URL: ${monitoringPrefix}`, { cause });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new CertvigilError(
        'CT_INVALID_ARGUMENT',
        `monitoring prefix must be http(s): ${monitoringPrefix}`,
      );
    }
    url.search = '';
    url.hash = '';
    this.prefix = url.href.endsWith('/') ? url.href : `${url.href}/`;
  }

  private url(path: string): URL {
    return new URL(path, this.prefix);
  }

  /** `<prefix>/checkpoint`: the signed note text, unverified. Mutable: never cache it long. */
  async getCheckpoint(options: CtGetOptions = {}): Promise<string> {
    return this.http.getText(this.url('checkpoint'), withCap(options, RESPONSE_LIMITS.treeHead));
  }

  /**
   * Hash tile `tile/<level>/<index>[.p/<width>]`, exactly `width` hashes (32·width bytes). Only ask
   * for a partial width that a verified checkpoint implies ("Clients MUST NOT fetch arbitrary
   * partial tiles without verifying a checkpoint with a size that requires their existence").
   */
  async getHashTile(
    level: number,
    index: number,
    width = TILE_WIDTH,
    options: CtGetOptions = {},
  ): Promise<Uint8Array> {
    const ref: TileRef = { level, index, width };
    const { bytes, width: got } = await this.fetchTile(ref, options, false);
    const expected = got * HASH_SIZE;
    if (bytes.length !== expected) {
      // "Full tiles MUST be exactly 256 hashes wide, or 8,192 bytes"; a partial one is W hashes.
      const url = this.url(tilePath({ level, index, width: got })).href;
      throw new CtHttpError('CT_BAD_RESPONSE', `GET ${url}: ${bytes.length} bytes, expected ${expected}`, {
        url,
        status: 200,
      });
    }
    // A full tile standing in for a vanished partial one: its first `width` hashes are the partial
    // tile (tiles only ever grow to the right).
    return got === width ? bytes : bytes.subarray(0, width * HASH_SIZE);
  }

  /** Data tile `tile/data/<index>[.p/<width>]`, decompressed; see `fetchDataTile` for its width. */
  async getDataTile(index: number, width = TILE_WIDTH, options: CtGetOptions = {}): Promise<Uint8Array> {
    return (await this.fetchDataTile(index, width, options)).bytes;
  }

  /**
   * Data tile with the number of entries it actually holds: `width`, or 256 when the partial tile
   * was gone and the full one was fetched instead (a parser must then keep only what it needs).
   */
  async fetchDataTile(index: number, width = TILE_WIDTH, options: CtGetOptions = {}): Promise<DataTile> {
    const { bytes, width: got } = await this.fetchTile({ level: 'data', index, width }, options, true);
    return { tileIndex: index, width: got, bytes };
  }

  /**
   * `<prefix>/issuer/<fingerprint>`: the DER issuer certificate whose SHA-256 is `fingerprintHex`
   * (checked: the spec says the response "MUST be a single ASN.1-encoded issuing certificate,
   * hashing to the fingerprint").
   */
  async getIssuer(fingerprintHex: string, options: CtGetOptions = {}): Promise<Uint8Array> {
    if (!/^[0-9a-fA-F]{64}$/.test(fingerprintHex)) {
      throw new CertvigilError('CT_INVALID_ARGUMENT', `not a hex SHA-256 fingerprint: ${fingerprintHex}`);
    }
    const fingerprint = fingerprintHex.toLowerCase(); // "lowercase hex-encoded SHA-256 hash"
    const res = await this.http.get(
      this.url(`issuer/${fingerprint}`),
      withCap(options, RESPONSE_LIMITS.issuer),
    );
    const actual = sha256Hex(res.body);
    if (actual !== fingerprint) {
      throw new CtHttpError(
        'CT_BAD_RESPONSE',
        `GET ${res.url}: body hashes to ${actual}, not to its fingerprint`,
        {
          url: res.url,
          status: res.status,
        },
      );
    }
    return res.body;
  }

  /**
   * The data tiles holding entries `[start, endExclusive)` of a tree of `treeSize` entries (from a
   * verified checkpoint), in order: full tiles, and the partial rightmost tile (width
   * `treeSize % 256`) only if the range reaches into it. `concurrency` tiles are fetched at once.
   */
  async *dataTilesForRange(
    start: number,
    endExclusive: number,
    treeSize: number,
    options: DataTilesOptions = {},
  ): AsyncGenerator<DataTile, void, undefined> {
    const refs = tiles(() => dataTilesForRange(start, endExclusive, treeSize));
    const fetchOne = (ref: TileRef, signal: AbortSignal): Promise<DataTile> =>
      this.fetchDataTile(ref.index, ref.width, { signal });
    yield* mapOrdered(refs, options.concurrency ?? 4, fetchOne, options.signal);
  }

  /**
   * GETs a tile. A partial tile may legitimately be gone once the log has filled the full one
   * ("Once a corresponding full tile is made available, logs MAY omit any partial tiles"): on 404
   * the full tile is fetched instead, as the spec tells clients to.
   * DEVIATION: the spec suggests fetching the full tile "in parallel"; asking only after a 404
   * costs one round trip in that rare race and halves the requests in the common case.
   */
  private async fetchTile(
    ref: TileRef,
    options: CtGetOptions,
    dataTile: boolean,
  ): Promise<{ bytes: Uint8Array; width: number }> {
    const path = tiles(() => tilePath(ref));
    // Data tiles are gzip'ed on the wire, sometimes without Content-Encoding. A data tile starts
    // with a uint64 millisecond timestamp, whose first byte is 0x00, so it can never look like gzip;
    // hash tiles are random bytes and must never be sniffed.
    // Caps by width: a hash tile is exactly 32 bytes per hash, a data tile holds `width` entries.
    const cap = (width: number): number =>
      width * (dataTile ? RESPONSE_LIMITS.dataTileEntry : RESPONSE_LIMITS.hashTileHash);
    const get = (width: number): CtGetOptions => ({ ...withCap(options, cap(width)), sniffGzip: dataTile });
    try {
      return { bytes: (await this.http.get(this.url(path), get(ref.width))).body, width: ref.width };
    } catch (err) {
      if (ref.width === TILE_WIDTH || !isNotFound(err)) throw err;
      const full = tiles(() => tilePath({ ...ref, width: TILE_WIDTH }));
      return { bytes: (await this.http.get(this.url(full), get(TILE_WIDTH))).body, width: TILE_WIDTH };
    }
  }
}
