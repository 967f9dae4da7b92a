/**
 * @module ct/log-reader
 * One interface over both kinds of log: an RFC 6962 log (get-sth + get-entries) and a
 * static-ct-api "tiled" log (signed checkpoint + data tiles). Everything above this module —
 * auditing, `ct entries`, the monitor — reads logs only through `LogReader`, and never trusts a
 * tree head whose signature has not been verified with the key from the log list.
 */
import { CertvigilError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import type { KeyObject } from 'node:crypto';
import { verifyCheckpoint } from './checkpoint.js';
import { CompactTree, hashEquals, leafHash, nodeHash } from './merkle.js';
import { parseRawEntry } from './entry.js';
import type { CtHttpClient } from './http.js';
import { Rfc6962LogClient } from './rfc6962-client.js';
import { publicKeyFromSpki, verifyDigitallySigned } from './signature.js';
import { StaticCtLogClient } from './static-client.js';
import { treeHeadSignatureInput } from './sth.js';
import { compactTreeFromTiles, parseDataTile, tilesForCompactRange } from './tiles.js';
import type { LogInfo, RawLogEntry, SignedTreeHead } from './types.js';

/**
 * A log proved to misbehave: the evidence is in `heads` (signed by the log) and `message`. `kind`
 * names the proof: a head whose signature does not verify, a proof that contradicts the signed
 * head (RFC 6962 §4.5 get-proof-by-hash answering for another leaf), or hashes that do not lead to
 * the signed root.
 */
export class LogMisbehaviourError extends CertvigilError {
  constructor(
    message: string,
    readonly kind: 'bad-signature' | 'bad-proof' | 'root-mismatch',
    readonly heads: SignedTreeHead[] = [],
  ) {
    super('CT_LOG_MISBEHAVIOUR', message);
    this.name = 'LogMisbehaviourError';
  }
}

/** A batch of consecutive entries, or entries the log served in a form that cannot be read. */
export type EntryBatch = { start: number; entries: (RawLogEntry | MalformedEntry)[] };

/** An entry whose bytes could not be parsed. Its raw leaf input is kept so the tree still verifies. */
export interface MalformedEntry {
  index: number;
  malformed: true;
  error: string;
  /** Present when the leaf input itself was readable (RFC 6962) so it can still be hashed. */
  leafInput?: Uint8Array;
  /** RFC 6962 `extra_data` as served, when known (certspotter hooks write it to ENTRY_FILENAME). */
  extraData?: Uint8Array;
}

export function isMalformed(e: RawLogEntry | MalformedEntry): e is MalformedEntry {
  return (e as MalformedEntry).malformed === true;
}

export interface LogReader {
  readonly log: LogInfo;
  /** The current tree head, its signature verified (throws LogMisbehaviourError if it is not). */
  treeHead(): Promise<SignedTreeHead>;
  /**
   * Entries [start, end) of a tree of at least `end` entries, in order, each exactly once. Never
   * throws LogMisbehaviourError: entries are unsigned bytes, so a wrong one is proved only by the
   * root they hash to (the caller's check), and a failure to read them means "cannot check".
   * `treeSize` is the size of the verified head the range is read under: a static-ct-api log serves
   * entries in data tiles whose path depends on it (the last tile of a tree is partial, `<N>.p/<W>`,
   * static-ct-api "Data tiles"). RFC 6962 get-entries (§4.6) addresses entries by index alone, so
   * that reader ignores it.
   */
  entries(start: number, end: number, treeSize: number, signal?: AbortSignal): AsyncIterable<EntryBatch>;
  /**
   * The compact tree of `[0, sth.treeSize)` without downloading the entries (to start monitoring at
   * the end of a log), checked against the verified head: throws LogMisbehaviourError if the
   * log's own hashes do not lead to its signed root.
   */
  compactTreeAt(sth: SignedTreeHead): Promise<CompactTree>;
}

function checkedTree(tree: CompactTree, sth: SignedTreeHead, what: string): CompactTree {
  if (tree.size !== sth.treeSize || !hashEquals(tree.root(), sth.rootHash)) {
    throw new LogMisbehaviourError(
      `${what} do not lead to the signed root of size ${sth.treeSize}`,
      'root-mismatch',
      [sth],
    );
  }
  return tree;
}

/**
 * The compact tree from the audit path of the LAST leaf (RFC 6962 §2.1.1): inside the smallest
 * perfect subtree holding that leaf every sibling is a left sibling; above it, the path holds the
 * roots of the other perfect subtrees of the compact range, smallest first.
 */
export function compactTreeFromLastLeaf(
  treeSize: number,
  lastLeafHash: Uint8Array,
  auditPath: readonly Uint8Array[],
): CompactTree {
  const lowBit = treeSize & -treeSize;
  const inner = Math.log2(lowBit);
  if (!Number.isInteger(inner) || auditPath.length < inner)
    throw new CertvigilError('CT_BAD_RESPONSE', `audit path too short for a tree of ${treeSize}`);
  let h = lastLeafHash;
  for (let i = 0; i < inner; i++) h = nodeHash(auditPath[i] as Uint8Array, h);
  const hashes = [...auditPath.slice(inner)].reverse().concat([h]);
  return CompactTree.fromJSON({
    size: treeSize,
    hashes: hashes.map((x) => Buffer.from(x).toString('base64')),
  });
}

export interface ReaderOptions {
  http: CtHttpClient;
  /** Parallel get-entries / data-tile requests per log. */
  concurrency?: number;
  /** RFC 6962 get-entries batch size asked for (the log may return fewer). */
  batchSize?: number;
}

function logKey(log: LogInfo): KeyObject {
  try {
    return publicKeyFromSpki(log.key);
  } catch (cause) {
    throw new CertvigilError(
      'LOGLIST_INVALID',
      `log list key of ${log.description} is not a usable public key`,
      {
        cause,
      },
    );
  }
}

export function createLogReader(log: LogInfo, options: ReaderOptions): LogReader {
  return log.kind === 'rfc6962' ? new Rfc6962Reader(log, options) : new StaticReader(log, options);
}

class Rfc6962Reader implements LogReader {
  private readonly client: Rfc6962LogClient;
  private readonly key: KeyObject;

  constructor(
    readonly log: LogInfo,
    private readonly options: ReaderOptions,
  ) {
    this.client = new Rfc6962LogClient(log.url, options.http);
    this.key = logKey(log);
  }

  async treeHead(): Promise<SignedTreeHead> {
    const { treeSize, timestamp, rootHash, signature } = await this.client.getSth();
    const sth: SignedTreeHead = { treeSize, timestamp, rootHash, signature };
    try {
      // RFC 6962 §3.5: the STH signature covers version, type, timestamp, size and root.
      verifyDigitallySigned(this.key, treeHeadSignatureInput(sth), sth.signature);
    } catch (cause) {
      throw new LogMisbehaviourError(
        `STH signature does not verify with the log list key (${String(cause)})`,
        'bad-signature',
        [sth],
      );
    }
    return sth;
  }

  async compactTreeAt(sth: SignedTreeHead): Promise<CompactTree> {
    if (sth.treeSize === 0) return new CompactTree();
    const [last] = await this.client.getEntries(sth.treeSize - 1, sth.treeSize - 1);
    if (!last) throw new CertvigilError('CT_BAD_RESPONSE', `the log returned no entry ${sth.treeSize - 1}`);
    const hash = leafHash(last.leafInput);
    const proof = await this.client.getProofByHash(hash, sth.treeSize);
    if (proof.leafIndex !== sth.treeSize - 1) {
      throw new LogMisbehaviourError(
        `get-proof-by-hash placed the last leaf at ${proof.leafIndex}`,
        'bad-proof',
        [sth],
      );
    }
    return checkedTree(
      compactTreeFromLastLeaf(sth.treeSize, hash, proof.auditPath),
      sth,
      'the last leaf and its audit path',
    );
  }

  async *entries(
    start: number,
    end: number,
    _treeSize: number,
    signal?: AbortSignal,
  ): AsyncIterable<EntryBatch> {
    if (end <= start) return;
    let batch: (RawLogEntry | MalformedEntry)[] = [];
    let batchStart = start;
    const flushAt = this.options.batchSize ?? 256;
    for await (const got of this.client.entryBatches(start, end - 1, {
      batchSize: this.options.batchSize ?? 256,
      concurrency: this.options.concurrency ?? 4,
      signal,
    })) {
      for (const e of got) {
        try {
          batch.push({ ...parseRawEntry(e.index, e.leafInput, e.extraData), extraData: e.extraData });
        } catch (err) {
          batch.push({
            index: e.index,
            malformed: true,
            error: (err as Error).message,
            leafInput: e.leafInput,
            extraData: e.extraData,
          });
        }
        if (batch.length >= flushAt) {
          yield { start: batchStart, entries: batch };
          batchStart += batch.length;
          batch = [];
        }
      }
    }
    if (batch.length > 0) yield { start: batchStart, entries: batch };
  }
}

/** static-ct-api: the checkpoint origin is the submission prefix without scheme or trailing slash. */
export function checkpointOrigin(log: LogInfo): string {
  const source = log.submissionUrl ?? log.url;
  return source.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
}

class StaticReader implements LogReader {
  private readonly client: StaticCtLogClient;
  private readonly key: KeyObject;

  constructor(
    readonly log: LogInfo,
    private readonly options: ReaderOptions,
  ) {
    this.client = new StaticCtLogClient(log.url, options.http);
    this.key = logKey(log);
  }

  async treeHead(): Promise<SignedTreeHead> {
    const text = await this.client.getCheckpoint();
    try {
      return verifyCheckpoint(text, {
        origin: checkpointOrigin(this.log),
        key: this.key,
        spki: this.log.key,
      });
    } catch (cause) {
      // A note that does not even parse (a size past 2^53, a broken line) is unsigned bytes from
      // somewhere on the path, not a statement of the log: "cannot check", never "misbehaves".
      if ((cause as { code?: unknown }).code === 'CHECKPOINT_MALFORMED')
        throw new CertvigilError(
          'CT_BAD_RESPONSE',
          `checkpoint is malformed: ${sanitizeText((cause as Error).message, { maxLength: 300 })}`,
          { cause },
        );
      throw new LogMisbehaviourError(
        `checkpoint does not verify with the log list key (${String(cause)})`,
        'bad-signature',
      );
    }
  }

  async compactTreeAt(sth: SignedTreeHead): Promise<CompactTree> {
    const tiles = await Promise.all(
      tilesForCompactRange(sth.treeSize).map((ref) =>
        this.client.getHashTile(ref.level as number, ref.index, ref.width),
      ),
    );
    return checkedTree(compactTreeFromTiles(sth.treeSize, tiles), sth, 'the hash tiles');
  }

  async *entries(
    start: number,
    end: number,
    treeSize: number,
    signal?: AbortSignal,
  ): AsyncIterable<EntryBatch> {
    if (end <= start) return;
    for await (const tile of this.client.dataTilesForRange(start, end, treeSize, {
      concurrency: this.options.concurrency ?? 4,
      signal,
    })) {
      const first = tile.tileIndex * 256;
      let parsed: RawLogEntry[];
      try {
        parsed = parseDataTile(tile.bytes, first);
      } catch (err) {
        // A data tile that cannot be parsed cannot be hashed either. Unsigned bytes prove nothing
        // against the log (they may have been damaged on the way), so this means "cannot check".
        throw new CertvigilError(
          'CT_BAD_RESPONSE',
          `data tile ${tile.tileIndex} is malformed: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
      if (parsed.length !== tile.width) {
        throw new CertvigilError(
          'CT_BAD_RESPONSE',
          `data tile ${tile.tileIndex} holds ${parsed.length} entries, expected ${tile.width}`,
        );
      }
      const lo = Math.max(start, first);
      const hi = Math.min(end, first + parsed.length);
      yield { start: lo, entries: parsed.slice(lo - first, hi - first) };
    }
  }
}
