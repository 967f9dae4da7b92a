/**
 * @module ct/rfc6962-client
 * The RFC 6962 §4 read API of one log: get-sth, get-sth-consistency, get-proof-by-hash,
 * get-entries, get-entry-and-proof, get-roots. Responses are validated by the strict parsers of
 * `ct/sth` and come back as plain objects with base64 already decoded.
 *
 * What this layer checks is what the JSON itself can show: types, base64, 32-byte hashes, a
 * well-formed `DigitallySigned` with no trailing bytes, no more entries than asked for. It does not
 * decode leaves (`ct/entry`), verify signatures (`ct/signature`, `ct/sth`) or proofs (`ct/merkle`).
 *
 * `entriesRange` is the download loop a monitor needs: parallel batches, short responses resumed
 * where they stopped (§4.6 lets a log return fewer entries than asked), every entry yielded once,
 * in order.
 */
import { z } from 'zod';
import { CertvigilError } from '../errors.js';
import { CtHttpError } from './http.js';
import type { CtHttpClient } from './http.js';
import { RESPONSE_LIMITS, withCap } from './http-limits.js';
import type { CtGetOptions } from './http-limits.js';
import { scanGetEntries } from './get-entries-scan.js';
import { mapOrdered } from './rate-limit.js';
import { encodeDigitallySigned } from './signature.js';
import {
  parseConsistencyProofJson,
  parseEntryAndProofJson,
  parseGetEntriesJson,
  parseGetRootsJson,
  parseProofByHashJson,
  parseSthJson,
} from './sth.js';
import type { SignedTreeHead } from './types.js';

const HASH_SIZE = 32;

/** get-sth: the tree head with its signature split out, and the signature's exact bytes. */
export interface GetSthResult extends SignedTreeHead {
  /** `tree_head_signature` as sent: a TLS `DigitallySigned`. */
  treeHeadSignature: Uint8Array;
}

/** One get-entries item, numbered from the request's `start`; bytes not decoded. */
export interface Rfc6962Entry {
  index: number;
  /** The `MerkleTreeLeaf` (RFC 6962 §3.4). */
  leafInput: Uint8Array;
  /** §4.6: the certificate chain (x509) or `PrecertChainEntry` (precert). */
  extraData: Uint8Array;
}

export interface AuditProof {
  leafIndex: number;
  auditPath: Uint8Array[];
}

export interface EntryAndProof {
  leafInput: Uint8Array;
  extraData: Uint8Array;
  auditPath: Uint8Array[];
}

export interface EntriesRangeOptions {
  /** Entries asked for per get-entries request. Default 256 (the common log maximum). */
  batchSize?: number;
  /** Batches downloaded at once (the HTTP client's own limit still applies). Default 4. */
  concurrency?: number;
  /** Re-asks when a log answers a non-empty request with no entries, before giving up. Default 3. */
  emptyRetries?: number;
  signal?: AbortSignal;
}

function invalidArgument(message: string): CertvigilError {
  return new CertvigilError('CT_INVALID_ARGUMENT', message);
}

function checkIndex(n: number, name: string): void {
  if (!Number.isSafeInteger(n) || n < 0)
    throw invalidArgument(`${name} must be a non-negative integer, not ${n}`);
}

function checkRange(start: number, end: number): void {
  // The Go client's checks (client/logclient.go GetRawEntries): "end should be >= 0", "start should be <= end".
  if (!Number.isSafeInteger(end) || end < 0)
    throw invalidArgument(`end must be a non-negative integer, not ${end}`);
  checkIndex(start, 'start');
  if (start > end) throw invalidArgument(`start (${start}) must be <= end (${end})`);
}

function checkPositive(n: number, name: string): void {
  if (!Number.isSafeInteger(n) || n < 1)
    throw invalidArgument(`${name} must be a positive integer, not ${n}`);
}

/**
 * Client for one RFC 6962 log.
 *
 * @example
 * const log = new Rfc6962LogClient('https://ct.googleapis.com/logs/us1/argon2026h1/', http);
 * const sth = await log.getSth();
 * for await (const e of log.entriesRange(0, sth.treeSize - 1)) handle(e.index, e.leafInput, e.extraData);
 */
export class Rfc6962LogClient {
  /** The URL prefix, with a trailing slash; endpoints are `<prefix>ct/v1/<name>`. */
  readonly prefix: string;

  constructor(
    urlPrefix: string,
    private readonly http: CtHttpClient,
  ) {
    let url: URL;
    try {
      url = new URL(urlPrefix);
    } catch (cause) {
      throw new CertvigilError('CT_INVALID_ARGUMENT', `not a URL: ${urlPrefix}`, { cause });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw invalidArgument(`log URL must be http(s): ${urlPrefix}`);
    }
    url.search = '';
    url.hash = '';
    this.prefix = url.href.endsWith('/') ? url.href : `${url.href}/`;
  }

  /** GETs JSON and hands it to one of `ct/sth`'s strict parsers; a shape error is CT_BAD_RESPONSE. */
  private async getParsed<T>(url: URL, parse: (json: unknown) => T, options: CtGetOptions): Promise<T> {
    const json: unknown = await this.http.getJson(url, z.unknown(), options);
    return this.parsedOrBadResponse(url, () => parse(json));
  }

  /** `parse()`'s result; its shape error (a `CtResponseError`) becomes `CT_BAD_RESPONSE` for `url`. */
  private parsedOrBadResponse<T>(url: URL, parse: () => T): T {
    try {
      return parse();
    } catch (cause) {
      if (cause instanceof CtHttpError) throw cause;
      throw new CtHttpError('CT_BAD_RESPONSE', `GET ${url.href}: ${(cause as Error).message}`, {
        url: url.href,
        status: 200,
        cause,
      });
    }
  }

  private endpoint(name: string, params: Record<string, string | number> = {}): URL {
    const url = new URL(`ct/v1/${name}`, this.prefix);
    // URLSearchParams percent-encodes '+', '/' and '=' of base64 hashes (a bare '+' would be a space).
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, String(v));
    return url;
  }

  /** §4.3: the latest signed tree head. The signature is split (strictly) but not verified. */
  async getSth(options: CtGetOptions = {}): Promise<GetSthResult> {
    const sth = await this.getParsed(
      this.endpoint('get-sth'),
      parseSthJson,
      withCap(options, RESPONSE_LIMITS.treeHead),
    );
    return { ...sth, treeHeadSignature: encodeDigitallySigned(sth.signature) };
  }

  /** §4.4: the consistency proof between tree sizes `first` ≤ `second`. */
  async getSthConsistency(first: number, second: number, options: CtGetOptions = {}): Promise<Uint8Array[]> {
    checkIndex(first, 'first');
    checkIndex(second, 'second');
    if (first > second) throw invalidArgument(`first (${first}) must be <= second (${second})`);
    const url = this.endpoint('get-sth-consistency', { first, second });
    return this.getParsed(url, parseConsistencyProofJson, withCap(options, RESPONSE_LIMITS.proof));
  }

  /** §4.5: the audit path of the leaf whose Merkle leaf hash is `leafHash`, in a tree of `treeSize`. */
  async getProofByHash(
    leafHash: Uint8Array,
    treeSize: number,
    options: CtGetOptions = {},
  ): Promise<AuditProof> {
    if (leafHash.length !== HASH_SIZE)
      throw invalidArgument(`leaf hash must be ${HASH_SIZE} bytes, not ${leafHash.length}`);
    checkPositive(treeSize, 'tree_size');
    const hashB64 = Buffer.from(leafHash.buffer, leafHash.byteOffset, leafHash.length).toString('base64');
    const url = this.endpoint('get-proof-by-hash', { hash: hashB64, tree_size: treeSize });
    const raw = await this.getParsed(url, parseProofByHashJson, withCap(options, RESPONSE_LIMITS.proof));
    if (raw.leafIndex >= treeSize) {
      throw new CtHttpError(
        'CT_BAD_RESPONSE',
        `GET ${url.href}: leaf_index ${raw.leafIndex} is not in a tree of ${treeSize}`,
        {
          url: url.href,
          status: 200,
        },
      );
    }
    return raw;
  }

  /**
   * §4.6: entries `start..end` (inclusive). The log may return fewer (never more: that is
   * `CT_BAD_RESPONSE`), even none; see `entriesRange` for a complete download.
   */
  async getEntries(start: number, end: number, options: CtGetOptions = {}): Promise<Rfc6962Entry[]> {
    checkRange(start, end);
    const url = this.endpoint('get-entries', { start, end });
    const asked = end - start + 1;
    // Bounded by what was asked for: a log may send fewer entries, never more (§4.6).
    const cap = RESPONSE_LIMITS.entriesOverhead + Math.min(asked, 1 << 16) * RESPONSE_LIMITS.entryJson;
    const res = await this.http.get(url, withCap(options, cap));
    // The log encoder's exact form is read from the bytes; anything else the general way.
    const entries =
      scanGetEntries(res.body, start) ??
      this.parsedOrBadResponse(url, () => parseGetEntriesJson(this.http.parseJson(res), start));
    if (entries.length > asked) {
      throw new CtHttpError(
        'CT_BAD_RESPONSE',
        `GET ${url.href}: ${entries.length} entries for a range of ${asked}`,
        { url: url.href, status: 200 },
      );
    }
    return entries;
  }

  /** §4.8: one entry and its audit path in a tree of `treeSize`. */
  async getEntryAndProof(
    leafIndex: number,
    treeSize: number,
    options: CtGetOptions = {},
  ): Promise<EntryAndProof> {
    checkIndex(leafIndex, 'leaf_index');
    checkPositive(treeSize, 'tree_size');
    if (leafIndex >= treeSize)
      throw invalidArgument(`leaf_index ${leafIndex} is not in a tree of ${treeSize}`);
    const url = this.endpoint('get-entry-and-proof', { leaf_index: leafIndex, tree_size: treeSize });
    return this.getParsed(
      url,
      parseEntryAndProofJson,
      withCap(options, RESPONSE_LIMITS.entryJson + RESPONSE_LIMITS.proof),
    );
  }

  /** §4.7: the DER certificates the log accepts as roots (not parsed here). */
  async getRoots(options: CtGetOptions = {}): Promise<Uint8Array[]> {
    return this.getParsed(
      this.endpoint('get-roots'),
      parseGetRootsJson,
      withCap(options, RESPONSE_LIMITS.roots),
    );
  }

  /**
   * Every entry `start..endInclusive`, in order, each exactly once. Batches of `batchSize` are
   * downloaded `concurrency` at a time; a batch the log answers only in part is resumed from the
   * first missing entry. A response with more entries than asked is `CT_BAD_RESPONSE`; an empty
   * one is re-asked `emptyRetries` times (after a backoff), then `CT_BAD_RESPONSE`.
   * Stopping the iteration early cancels the downloads still running.
   */
  async *entriesRange(
    start: number,
    endInclusive: number,
    options: EntriesRangeOptions = {},
  ): AsyncGenerator<Rfc6962Entry, void, undefined> {
    for await (const batch of this.entryBatches(start, endInclusive, options)) yield* batch;
  }

  /**
   * `entriesRange` a batch at a time (each batch complete, in order). The log reader iterates
   * these: one await per batch instead of one per entry (the per-entry async generator step was
   * ~4 % of `monitor --once`'s CPU profile).
   */
  async *entryBatches(
    start: number,
    endInclusive: number,
    options: EntriesRangeOptions = {},
  ): AsyncGenerator<Rfc6962Entry[], void, undefined> {
    checkRange(start, endInclusive);
    const batchSize = options.batchSize ?? 256;
    const concurrency = options.concurrency ?? 4;
    const emptyRetries = options.emptyRetries ?? 3;
    checkPositive(batchSize, 'batchSize');
    checkPositive(concurrency, 'concurrency');
    checkIndex(emptyRetries, 'emptyRetries');
    function* batches(): Generator<[number, number]> {
      for (let s = start; s <= endInclusive; s += batchSize)
        yield [s, Math.min(s + batchSize - 1, endInclusive)];
    }
    const fetchBatch = ([from, to]: [number, number], signal: AbortSignal): Promise<Rfc6962Entry[]> =>
      this.fetchBatch(from, to, emptyRetries, signal);
    yield* mapOrdered(batches(), concurrency, fetchBatch, options.signal);
  }

  /** All of `from..to`: keeps asking from the first entry not yet received. */
  private async fetchBatch(
    from: number,
    to: number,
    emptyRetries: number,
    signal: AbortSignal,
  ): Promise<Rfc6962Entry[]> {
    const out: Rfc6962Entry[] = [];
    let next = from;
    let empties = 0;
    while (next <= to) {
      const got = await this.getEntries(next, to, { signal });
      if (got.length === 0) {
        // §4.6 allows fewer entries, not none: an empty answer for entries the STH covers is a
        // log fault (or a lagging replica); ask again a few times, then report it.
        if (++empties > emptyRetries) {
          throw new CertvigilError(
            'CT_BAD_RESPONSE',
            `${this.prefix}: get-entries ${next}..${to} returned no entries ${empties} times`,
          );
        }
        await this.http.sleep(this.http.backoffMs(empties), signal);
        continue;
      }
      empties = 0;
      for (const e of got) out.push(e);
      next += got.length;
    }
    return out;
  }
}
