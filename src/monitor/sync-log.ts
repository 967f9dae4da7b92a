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
  LogMisbehaviourError,
  toStoredHead,
} from '../ct/index.js';
import type { LogInfo, LogReader, SignedTreeHead } from '../ct/index.js';
import type { IssuanceInput, LogCursor, Store, TreeState, WorkUnit } from '../store/index.js';
import { hostname } from 'node:os';
import { DEFAULT_LEASE_MS, DEFAULT_UNIT_SIZE, foldDoneUnits, processUnit, UNITS_IN_FLIGHT } from './units.js';
import type { UnitProgress } from './units.js';
import type { EntryExaminer } from './entry-pool.js';
import type { UnitSettings } from './units.js';
import { misbehaviourAlert } from './events.js';
import type { MonitorAlert } from './events.js';
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
  /** Entries per work unit (each committed as a whole); default 4096. */
  /**
   * Where leaf hashes and certificate names are computed (entry-pool.ts); default the process's
   * worker thread (`CERTVIGIL_ENTRY_WORKER=off`: the calling thread). Same results either way.
   */
  examiner?: EntryExaminer;
  commitEvery?: number;
  /** This process's name among the workers sharing the store (default host:pid). */
  workerId?: string;
  /** How long a claimed unit stays this worker's without a renewal (default 15 s). */
  unitLeaseMs?: number;
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

/** The work unit of a log that starts at `first`, if any (its state only: no leaf hashes). */
async function unitAt(store: Store, logId: string, first: number): Promise<WorkUnit | undefined> {
  return (await store.listUnits(logId)).find((u) => u.first === first);
}

function unitSettings(options: SyncOptions): UnitSettings {
  const leaseMs = options.unitLeaseMs ?? DEFAULT_LEASE_MS;
  return {
    workerId: options.workerId ?? `${hostname()}:${process.pid}`,
    unitSize: options.commitEvery ?? DEFAULT_UNIT_SIZE,
    leaseMs,
    pollMs: Math.min(1000, Math.max(20, Math.floor(leaseMs / 10))),
  };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/**
 * Claims up to UNITS_IN_FLIGHT units and works on them at once, claiming the next as soon as one
 * finishes, until no unit is claimable. Returns how many units were claimed. A failure stops new
 * claims; the units already in progress finish (or fail and give their unit back) before the
 * first error is thrown, so no unit is left claimed by a worker that stopped looking at it.
 */
async function processClaimedUnits(
  reader: LogReader,
  options: SyncOptions,
  settings: UnitSettings,
  result: SyncResult,
  progress: UnitProgress,
): Promise<number> {
  const { store } = options;
  const running = new Set<Promise<void>>();
  let claimed = 0;
  let failure: { err: unknown } | null = null;
  let exhausted = false;
  for (;;) {
    while (!exhausted && failure === null && running.size < UNITS_IN_FLIGHT && !options.signal?.aborted) {
      const unit = await store.claimUnit(reader.log.logId, settings.workerId, settings.leaseMs);
      if (unit === null) {
        exhausted = true;
        break;
      }
      claimed++;
      const work: Promise<void> = processUnit(reader, unit, options, settings, result, fromLog, progress)
        .then(
          (n) => {
            result.entriesRead += n;
          },
          (err: unknown) => {
            failure ??= { err };
          },
        )
        .finally(() => running.delete(work));
      running.add(work);
    }
    if (running.size === 0) break;
    await Promise.race(running);
  }
  if (failure !== null) throw (failure as { err: unknown }).err;
  return claimed;
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

  const settings = unitSettings(options);
  // Plan the units up to this head (idempotent; other workers may have planned them already).
  await store.planUnits(log.logId, sth.treeSize, settings.unitSize, sth.treeSize);
  let folded = { position: cursor.position, tree };
  const progress: UnitProgress = { inProgress: 0 };
  for (;;) {
    if (options.signal?.aborted) throw fromLog(options.signal.reason ?? new Error('aborted'));
    if ((await processClaimedUnits(reader, options, settings, result, progress)) > 0) continue;
    // Nothing claimable: fold what is done; if units below the head are still held by other
    // workers, wait for them (or for their leases to run out, when they become claimable).
    folded = await foldDoneUnits(store, log, sth.treeSize);
    result.position = folded.position;
    if (folded.position >= sth.treeSize) break;
    // The unit the fold stopped at says why (units cover the planned range without gaps).
    const blocking = await unitAt(store, log.logId, folded.position);
    if (blocking?.state === 'claimed') {
      // Another worker holds it: wait for its completion, or for its lease to run out (then it
      // is claimable and the next claim takes it over). Only the unit's state is polled; the
      // fold (which reads leaf hashes) runs again once it changed.
      while ((await unitAt(store, log.logId, folded.position))?.state === 'claimed') {
        await sleep(settings.pollMs, options.signal);
        if (options.signal?.aborted) throw fromLog(options.signal.reason ?? new Error('aborted'));
        const reclaimed = await store.claimUnit(log.logId, settings.workerId, settings.leaseMs);
        if (reclaimed !== null) {
          result.entriesRead += await processUnit(
            reader,
            reclaimed,
            options,
            settings,
            result,
            fromLog,
            progress,
          );
          break;
        }
      }
      continue;
    }
    if (blocking !== undefined) {
      // Done but reaching past this head: planned by a worker that saw a newer head, which folds
      // and verifies it; this worker is finished with this head.
      if (blocking.state === 'done' && blocking.last > sth.treeSize) break;
      // Done or open since our fold and claim (another worker completed or released it): again.
      continue;
    }
    // Another worker may have folded past our position meanwhile: look again from there.
    const now = await store.getCursor(log.logId);
    if (now !== null && now.position > folded.position) continue;
    // A real gap without a holder (units dropped by a rewind elsewhere): plan them again.
    if ((await store.planUnits(log.logId, sth.treeSize, settings.unitSize, sth.treeSize)) === 0)
      throw new CertvigilError(
        'MONITOR_INTERNAL',
        `${log.url}: entries ${folded.position}..${sth.treeSize} are neither planned nor done`,
      );
  }
  // Another worker may have folded past this head (it saw a newer one and verifies that one).
  if (folded.position !== sth.treeSize) {
    const now = await store.getCursor(log.logId);
    result.verifiedSize = now?.verified?.treeSize ?? result.verifiedSize;
    return result;
  }
  const position = folded.position;
  const tree2 = folded.tree;
  if (!hashEquals(tree2.root(), sth.rootHash)) {
    const computed = b64(tree2.root());
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
      await store.dropUnitsAfter(log.logId, to.position);
      result.position = to.position;
    }
    return { ...result, status: 'misbehaving', message };
  }
  await store.setVerifiedHead(log.logId, toStoredHead(sth), tree2.toJSON());
  result.verifiedSize = sth.treeSize;
  return result;
}
