/**
 * @module monitor/sync-log
 * One log, caught up to its current signed tree head: download every new entry, match it against
 * the watch list, and commit the matches together with the new position in one transaction; then
 * compare the rebuilt tree with the signed root. Two cursors, as certspotter keeps them: the
 * download position moves with every commit, the verified head only once a root matched.
 *
 * On a root mismatch the download position is rewound to the verified one (certspotter's
 * `rewindDownloadPosition`): the entries after it are unverified and are read again on the next
 * attempt; the evidence raises one alert (its key is the evidence) however often it is seen.
 *
 * Failures are told apart: `unreachable` (the log could not be read: network, HTTP, unusable
 * answers), `misbehaving` (cryptographic evidence against the log) and `internal` (our bug or the
 * store; the error is returned so the caller can log its stack).
 *
 * Crash safety: nothing is committed except by `store.commitBatch`, which stores the batch's
 * issuances, malformed entries, alerts, the tree state AND the new position atomically. A process
 * killed at any moment restarts from a position whose entries are all stored, and none twice.
 */
import { CertvigilError, errorMessage } from '../errors.js';
import {
  CompactTree,
  CtHttpError,
  fromStoredHead,
  hashEquals,
  isMalformed,
  leafHash,
  LogMisbehaviourError,
  toStoredHead,
} from '../ct/index.js';
import type { LogInfo, LogReader, MalformedEntry, RawLogEntry, SignedTreeHead } from '../ct/index.js';
import type { IssuanceInput, LogCursor, MalformedInput, Store, TreeState } from '../store/index.js';
import { summarizeEntry } from './entry-summary.js';
import { malformedAlert, misbehaviourAlert } from './events.js';
import type { MonitorAlert } from './events.js';
import { issuanceInput } from './issuance.js';
import type { WatchList } from './watchlist.js';

/** The certificate bytes of a matched entry, for the alert (hook scripts' CERT_FILENAME). */
export interface MatchedCertificate {
  der: Uint8Array;
  chain: Uint8Array[];
}

export interface SyncOptions {
  store: Store;
  watch: WatchList;
  /** Builds the alerts for a batch's matched issuances (classification needs history and DNS). */
  alertsFor(
    issuances: IssuanceInput[],
    certificates: Map<string, MatchedCertificate>,
  ): Promise<MonitorAlert[]>;
  /** First run on a log: start at its current end instead of its first entry. */
  startAtEnd: boolean;
  /** Commit at least every this many entries (and at the end). */
  commitEvery?: number;
  onProgress?: (done: number, total: number) => void;
  /** Called after every commit that stored alerts: the outbox can be drained now. */
  onCommit?: () => void;
  signal?: AbortSignal;
}

export type SyncStatus = 'ok' | 'misbehaving' | 'unreachable' | 'internal';

export interface SyncResult {
  status: SyncStatus;
  treeSize: number | null;
  /** Timestamp of the log's current signed tree head (ms), when it could be read. */
  treeHeadTimestamp: number | null;
  position: number;
  /** Size of the last verified head after this attempt, if any. */
  verifiedSize: number | null;
  entriesRead: number;
  matched: number;
  malformed: number;
  message: string | null;
  /** The log answered at least once with a valid signed head in this attempt. */
  contacted: boolean;
  /** The log asked us to wait (Retry-After of a 429/503), ms. */
  retryAfterMs: number | null;
  /** `internal` only: the error, for a log line with its stack. */
  error?: Error;
}

/**
 * A failure of the log (or the way to it), as opposed to one of ours: `MONITOR_LOG_UNREADABLE`,
 * with the ct error (`CtHttpError` and its Retry-After, a bad response) as `cause`.
 */
export class LogReadError extends CertvigilError {
  declare readonly cause: unknown;

  constructor(cause: unknown) {
    super('MONITOR_LOG_UNREADABLE', errorMessage(cause), { cause });
    this.name = 'LogReadError';
  }
}

function fromLog(err: unknown): Error {
  return err instanceof LogMisbehaviourError || err instanceof LogReadError ? err : new LogReadError(err);
}

async function logCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw fromLog(err);
  }
}

/** The reader's entries, with every error it throws marked as the log's (not ours). */
async function* logEntries<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      let r: IteratorResult<T>;
      try {
        r = await it.next();
      } catch (err) {
        throw fromLog(err);
      }
      if (r.done === true) return;
      yield r.value;
    }
  } finally {
    await it.return?.().catch(() => undefined);
  }
}

/** `unreachable` / `misbehaving` / `internal`, from what was thrown. */
export function classifyFailure(err: unknown): {
  status: Exclude<SyncStatus, 'ok'>;
  retryAfterMs: number | null;
} {
  if (err instanceof LogMisbehaviourError) return { status: 'misbehaving', retryAfterMs: null };
  if (err instanceof LogReadError) {
    const retryAfterMs = err.cause instanceof CtHttpError ? (err.cause.retryAfterMs ?? null) : null;
    return { status: 'unreachable', retryAfterMs };
  }
  return { status: 'internal', retryAfterMs: null };
}

const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');

/** Enqueues the evidence's alert; the evidence is recorded only the first time it is seen. */
async function reportMisbehaviour(
  store: Store,
  log: LogInfo,
  alert: MonitorAlert,
  heads: unknown[],
): Promise<void> {
  if (await store.enqueueAlert(alert)) {
    const message = alert.payload.type === 'log-misbehaviour' ? alert.payload.message : '';
    await store.recordMisbehaviour(log.logId, { log: log.url, message, heads });
  }
}

/** Where a first-seen log starts: at 0, or (start-at-end) at the verified end of its tree. */
async function firstCursor(
  reader: LogReader,
  sth: SignedTreeHead,
  startAtEnd: boolean,
  store: Store,
): Promise<LogCursor> {
  const log = reader.log;
  const tree = startAtEnd ? await logCall(() => reader.compactTreeAt(sth)) : new CompactTree();
  const cursor = await store.ensureCursor({
    logId: log.logId,
    url: log.url,
    kind: log.kind,
    description: log.description,
    position: tree.size,
    tree: tree.toJSON(),
  });
  if (startAtEnd && cursor.position === sth.treeSize)
    await store.setVerifiedHead(log.logId, toStoredHead(sth), tree.toJSON());
  return (await store.getCursor(log.logId)) ?? cursor;
}

/**
 * Where a root mismatch rewinds to: the verified head's tree; the start of the log when nothing
 * was verified yet; for a head verified by an older certvigil (tree not kept) the tree is rebuilt
 * from the log's own hashes, checked against that verified root — or null (cannot rewind now).
 */
async function rewindTarget(
  reader: LogReader,
  cursor: LogCursor,
): Promise<{ position: number; tree: TreeState } | null> {
  const v = cursor.verified;
  if (v === null) return { position: 0, tree: new CompactTree().toJSON() };
  if (cursor.verifiedTree !== undefined) return { position: v.treeSize, tree: cursor.verifiedTree };
  try {
    const tree = await reader.compactTreeAt(fromStoredHead(v));
    return { position: v.treeSize, tree: tree.toJSON() };
  } catch {
    return null;
  }
}

/** The result of an attempt before anything happened: nothing read, nothing learned, no contact. */
export function emptySyncResult(): SyncResult {
  return {
    status: 'ok',
    treeSize: null,
    treeHeadTimestamp: null,
    position: 0,
    verifiedSize: null,
    entriesRead: 0,
    matched: 0,
    malformed: 0,
    message: null,
    contacted: false,
    retryAfterMs: null,
  };
}

export async function syncLog(reader: LogReader, options: SyncOptions): Promise<SyncResult> {
  const result = emptySyncResult();
  try {
    return await sync(reader, options, result);
  } catch (err) {
    const { status, retryAfterMs } = classifyFailure(err);
    const message = err instanceof LogReadError ? err.message : (err as Error).message;
    if (status === 'misbehaving' && err instanceof LogMisbehaviourError) {
      const heads = err.heads.map(toStoredHead);
      await reportMisbehaviour(
        options.store,
        reader.log,
        misbehaviourAlert(reader.log, err.kind, err.message, heads),
        heads,
      ).catch(() => undefined);
    }
    return {
      ...result,
      status,
      retryAfterMs,
      message,
      ...(status === 'internal' ? { error: err instanceof Error ? err : new Error(String(err)) } : {}),
    };
  }
}

async function sync(reader: LogReader, options: SyncOptions, result: SyncResult): Promise<SyncResult> {
  const { store } = options;
  const log = reader.log;

  const sth = await logCall(() => reader.treeHead());
  result.contacted = true;
  result.treeSize = sth.treeSize;
  result.treeHeadTimestamp = sth.timestamp;
  const cursor =
    (await store.getCursor(log.logId)) ?? (await firstCursor(reader, sth, options.startAtEnd, store));
  result.position = cursor.position;
  result.verifiedSize = cursor.verified?.treeSize ?? null;

  // A head of the size we verified before, with another root: the log forked (split view).
  const verified = cursor.verified;
  if (verified && verified.treeSize === sth.treeSize && verified.rootHash !== b64(sth.rootHash)) {
    const message = `two signed tree heads of size ${sth.treeSize} with different roots (${verified.rootHash} and ${b64(sth.rootHash)})`;
    const heads = [verified, toStoredHead(sth)];
    await reportMisbehaviour(store, log, misbehaviourAlert(log, 'fork', message, heads), heads);
    return { ...result, status: 'misbehaving', message };
  }
  if (sth.treeSize < cursor.position) {
    // An older head than what we already hold: nothing to read. Not proof of anything by itself
    // (a lagging frontend), but worth a look if it persists.
    return {
      ...result,
      message: `the log presents ${sth.treeSize} entries, ${cursor.position} were already read`,
    };
  }
  if (!cursor.tree)
    throw new CertvigilError('MONITOR_INTERNAL', `no tree state stored for ${log.url}: cannot verify`);
  const tree = CompactTree.fromJSON(cursor.tree);
  if (tree.size !== cursor.position)
    throw new CertvigilError(
      'MONITOR_INTERNAL',
      `stored tree (${tree.size}) and position (${cursor.position}) disagree`,
    );

  const commitEvery = options.commitEvery ?? 4096;
  let pending: {
    issuances: IssuanceInput[];
    malformed: MalformedInput[];
    malformedAlerts: MonitorAlert[];
    certificates: Map<string, MatchedCertificate>;
    count: number;
  } = { issuances: [], malformed: [], malformedAlerts: [], certificates: new Map(), count: 0 };
  let position = cursor.position;
  const commit = async (): Promise<void> => {
    if (pending.count === 0) return;
    const alerts = [
      ...(await options.alertsFor(pending.issuances, pending.certificates)),
      ...pending.malformedAlerts,
    ];
    await store.commitBatch({
      logId: log.logId,
      expectedPosition: position,
      newPosition: position + pending.count,
      tree: tree.toJSON(),
      issuances: pending.issuances,
      malformed: pending.malformed,
      alerts,
    });
    position += pending.count;
    result.position = position;
    pending = { issuances: [], malformed: [], malformedAlerts: [], certificates: new Map(), count: 0 };
    if (alerts.length > 0) options.onCommit?.();
  };

  /** An entry the reader could not parse, or whose certificate does not parse: kept, alerted, skipped. */
  const recordMalformed = (entry: RawLogEntry | MalformedEntry, error: string): void => {
    pending.malformed.push({ logId: log.logId, index: entry.index, error });
    pending.malformedAlerts.push(
      malformedAlert(log, {
        index: entry.index,
        error,
        ...(entry.leafInput ? { leafInput: entry.leafInput } : {}),
        ...(entry.extraData ? { extraData: entry.extraData } : {}),
      }),
    );
    result.malformed++;
  };

  try {
    for await (const batch of logEntries(
      reader.entries(cursor.position, sth.treeSize, sth.treeSize, options.signal),
    )) {
      if (batch.start !== position + pending.count)
        throw new LogReadError(
          new CertvigilError('CT_BAD_RESPONSE', `entries out of order at ${batch.start}`),
        );
      for (const entry of batch.entries) {
        if (isMalformed(entry) && !entry.leafInput)
          throw new LogReadError(
            new CertvigilError('CT_BAD_RESPONSE', `entry ${entry.index} cannot be hashed: ${entry.error}`),
          );
        // The tree and the pending count move together, so a commit always matches its tree state.
        tree.append(leafHash(entry.leafInput as Uint8Array));
        pending.count++;
        result.entriesRead++;
        if (isMalformed(entry)) {
          recordMalformed(entry, entry.error);
          continue;
        }
        const s = summarizeEntry(entry);
        if ('malformed' in s) {
          recordMalformed(entry, s.error);
          continue;
        }
        if (!s.dnsNames.some((n) => options.watch.matches(n))) continue;
        result.matched++;
        pending.issuances.push(issuanceInput(s, log.logId, entry.index));
        const der = entry.leaf.certificate ?? entry.preCertificate;
        if (der) pending.certificates.set(s.tbsSha256, { der, chain: entry.chain });
      }
      if (pending.count >= commitEvery) await commit();
      options.onProgress?.(position + pending.count, sth.treeSize);
    }
    await commit();
  } catch (err) {
    // What was downloaded and hashed is committed (when our side works); the next attempt resumes
    // at `position`.
    if (err instanceof LogReadError || err instanceof LogMisbehaviourError)
      await commit().catch(() => undefined);
    throw err;
  }

  if (!hashEquals(tree.root(), sth.rootHash)) {
    const computed = b64(tree.root());
    const message = `the log's ${sth.treeSize} entries hash to ${computed}, but it signed ${b64(sth.rootHash)}`;
    const heads = [toStoredHead(sth)];
    await reportMisbehaviour(
      store,
      log,
      misbehaviourAlert(log, 'root-mismatch', message, heads, computed),
      heads,
    );
    // The entries after the verified head are not verified: read them again next time, instead of
    // building on a tree the log never signed (which would mismatch forever).
    const to = await rewindTarget(reader, cursor);
    if (to !== null) {
      await store.rewindCursor(log.logId, position, to);
      result.position = to.position;
    }
    return { ...result, status: 'misbehaving', message };
  }
  await store.setVerifiedHead(log.logId, toStoredHead(sth), tree.toJSON());
  result.verifiedSize = sth.treeSize;
  return result;
}
