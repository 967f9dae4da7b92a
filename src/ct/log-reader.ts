/**
 * @module ct/log-reader
 * One interface over both kinds of log: an RFC 6962 log (get-sth + get-entries) and a
 * static-ct-api "tiled" log (signed checkpoint + data tiles). Everything above this module —
 * auditing, `ct entries`, the monitor — reads logs only through `LogReader`, and never trusts a
 * tree head whose signature has not been verified with the key from the log list.
 */
import type { KeyObject } from 'node:crypto';
import { verifyCheckpoint } from './checkpoint.js';
import { parseRawEntry } from './entry.js';
import type { CtHttpClient } from './http.js';
import { Rfc6962LogClient } from './rfc6962-client.js';
import { publicKeyFromSpki, verifyDigitallySigned } from './signature.js';
import { StaticCtLogClient } from './static-client.js';
import { treeHeadSignatureInput } from './sth.js';
import { parseDataTile } from './tiles.js';
import type { LogInfo, RawLogEntry, SignedTreeHead } from './types.js';

/** A log proved to misbehave: the evidence is in `heads` (signed by the log) and `detail`. */
export class LogMisbehaviourError extends Error {
  readonly code = 'CT_LOG_MISBEHAVIOUR';
  constructor(
    message: string,
    readonly kind: 'bad-signature',
    readonly heads: SignedTreeHead[] = [],
  ) {
    super(message);
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
}

export function isMalformed(e: RawLogEntry | MalformedEntry): e is MalformedEntry {
  return (e as MalformedEntry).malformed === true;
}

export interface LogReader {
  readonly log: LogInfo;
  /** The current tree head, its signature verified (throws LogMisbehaviourError if it is not). */
  treeHead(): Promise<SignedTreeHead>;
  /** Entries [start, end) of a tree of at least `end` entries, in order, each exactly once. */
  entries(start: number, end: number, treeSize: number, signal?: AbortSignal): AsyncIterable<EntryBatch>;
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
    throw new Error(`log list key of ${log.description} is not a usable public key`, { cause });
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
    for await (const e of this.client.entriesRange(start, end - 1, {
      batchSize: this.options.batchSize ?? 256,
      concurrency: this.options.concurrency ?? 4,
      signal,
    })) {
      try {
        batch.push(parseRawEntry(e.index, e.leafInput, e.extraData));
      } catch (err) {
        batch.push({
          index: e.index,
          malformed: true,
          error: (err as Error).message,
          leafInput: e.leafInput,
        });
      }
      if (batch.length >= flushAt) {
        yield { start: batchStart, entries: batch };
        batchStart += batch.length;
        batch = [];
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
      throw new LogMisbehaviourError(
        `checkpoint does not verify with the log list key (${String(cause)})`,
        'bad-signature',
      );
    }
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
        throw new Error(`data tile ${tile.tileIndex} is malformed: ${(err as Error).message}`, {
          cause: err,
        });
      }
      if (parsed.length !== tile.width) {
        throw new Error(`data tile ${tile.tileIndex} holds ${parsed.length} entries, expected ${tile.width}`);
      }
      const lo = Math.max(start, first);
      const hi = Math.min(end, first + parsed.length);
      yield { start: lo, entries: parsed.slice(lo - first, hi - first) };
    }
  }
}
