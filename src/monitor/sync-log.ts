/**
 * @module monitor/sync-log
 * One log, caught up to its current signed tree head: download every new entry, match it against
 * the watch list, and commit the matches together with the new position in one transaction; then
 * compare the rebuilt tree with the signed root. Two cursors, as certspotter keeps them: the
 * download position moves with every commit, the verified head only once a root matched.
 *
 * Crash safety: nothing is committed except by `store.commitBatch`, which stores the batch's
 * issuances, malformed entries, alerts, the tree state AND the new position atomically. A process
 * killed at any moment restarts from a position whose entries are all stored, and none twice.
 */
import { toStoredHead } from '../ct/head-store.js';
import { isMalformed, LogMisbehaviourError } from '../ct/log-reader.js';
import type { LogReader } from '../ct/log-reader.js';
import { CompactTree, hashEquals, leafHash } from '../ct/merkle.js';
import type { LogInfo, SignedTreeHead } from '../ct/types.js';
import type { AlertInput, IssuanceInput, LogCursor, MalformedInput, Store } from '../store/types.js';
import { summarizeEntry } from './entry-summary.js';
import type { WatchList } from './watchlist.js';

export interface SyncOptions {
  store: Store;
  watch: WatchList;
  /** Builds the alerts for a batch's matched issuances (classification needs history and DNS). */
  alertsFor(issuances: IssuanceInput[], certificates: Map<string, Uint8Array>): Promise<AlertInput[]>;
  /** First run on a log: start at its current end instead of its first entry. */
  startAtEnd: boolean;
  /** Commit at least every this many entries (and at the end). */
  commitEvery?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface SyncResult {
  status: 'ok' | 'misbehaving' | 'unreachable';
  treeSize: number | null;
  /** Timestamp of the log's current signed tree head (ms), when it could be read. */
  treeHeadTimestamp: number | null;
  position: number;
  entriesRead: number;
  matched: number;
  malformed: number;
  message: string | null;
}

const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');

function misbehaviourAlert(log: LogInfo, message: string, heads: SignedTreeHead[]): AlertInput {
  const evidence = heads.map(toStoredHead);
  const key = `misbehaviour:${log.logId}:${evidence.map((h) => `${h.treeSize}/${h.rootHash}`).join('|')}`;
  return {
    key,
    kind: 'misbehaviour',
    payload: { type: 'log-misbehaviour', severity: 'critical', log: log.url, message, evidence },
  };
}

async function reportMisbehaviour(
  store: Store,
  log: LogInfo,
  message: string,
  heads: SignedTreeHead[],
): Promise<void> {
  await store.recordMisbehaviour(log.logId, { log: log.url, message, heads: heads.map(toStoredHead) });
  await store.enqueueAlert(misbehaviourAlert(log, message, heads));
}

/** Where a first-seen log starts: at 0, or (start-at-end) at the verified end of its tree. */
async function firstCursor(
  reader: LogReader,
  sth: SignedTreeHead,
  startAtEnd: boolean,
  store: Store,
): Promise<LogCursor> {
  const log = reader.log;
  const tree = startAtEnd ? await reader.compactTreeAt(sth) : new CompactTree();
  const cursor = await store.ensureCursor({
    logId: log.logId,
    url: log.url,
    kind: log.kind,
    description: log.description,
    position: tree.size,
    tree: tree.toJSON(),
  });
  if (startAtEnd && cursor.position === sth.treeSize)
    await store.setVerifiedHead(log.logId, toStoredHead(sth));
  return (await store.getCursor(log.logId)) ?? cursor;
}

export async function syncLog(reader: LogReader, options: SyncOptions): Promise<SyncResult> {
  const { store } = options;
  const log = reader.log;
  const result: SyncResult = {
    status: 'ok',
    treeSize: null,
    treeHeadTimestamp: null,
    position: 0,
    entriesRead: 0,
    matched: 0,
    malformed: 0,
    message: null,
  };

  let sth: SignedTreeHead;
  let cursor: LogCursor;
  try {
    sth = await reader.treeHead();
    result.treeSize = sth.treeSize;
    result.treeHeadTimestamp = sth.timestamp;
    cursor =
      (await store.getCursor(log.logId)) ?? (await firstCursor(reader, sth, options.startAtEnd, store));
  } catch (err) {
    if (err instanceof LogMisbehaviourError) {
      await reportMisbehaviour(store, log, err.message, err.heads);
      return { ...result, status: 'misbehaving', message: err.message };
    }
    return { ...result, status: 'unreachable', message: (err as Error).message };
  }
  result.position = cursor.position;

  // A head of the size we verified before, with another root: the log forked (split view).
  const verified = cursor.verified;
  if (verified && verified.treeSize === sth.treeSize && verified.rootHash !== b64(sth.rootHash)) {
    const message = `two signed tree heads of size ${sth.treeSize} with different roots (${verified.rootHash} and ${b64(sth.rootHash)})`;
    await store.recordMisbehaviour(log.logId, {
      log: log.url,
      message,
      heads: [verified, toStoredHead(sth)],
    });
    await store.enqueueAlert({
      key: `misbehaviour:${log.logId}:fork:${sth.treeSize}:${verified.rootHash}:${b64(sth.rootHash)}`,
      kind: 'misbehaviour',
      payload: {
        type: 'log-misbehaviour',
        severity: 'critical',
        log: log.url,
        message,
        evidence: [verified, toStoredHead(sth)],
      },
    });
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
  if (!cursor.tree) throw new Error(`no tree state stored for ${log.url}: cannot verify`);
  const tree = CompactTree.fromJSON(cursor.tree);
  if (tree.size !== cursor.position)
    throw new Error(`stored tree (${tree.size}) and position (${cursor.position}) disagree`);

  const commitEvery = options.commitEvery ?? 4096;
  let pending: {
    issuances: IssuanceInput[];
    malformed: MalformedInput[];
    certificates: Map<string, Uint8Array>;
    count: number;
  } = {
    issuances: [],
    malformed: [],
    certificates: new Map(),
    count: 0,
  };
  let position = cursor.position;
  const commit = async (): Promise<void> => {
    if (pending.count === 0) return;
    const alerts = await options.alertsFor(pending.issuances, pending.certificates);
    for (const m of pending.malformed) {
      alerts.push({
        key: `malformed:${log.logId}:${m.index}`,
        kind: 'malformed',
        payload: { type: 'malformed', severity: 'info', log: log.url, index: m.index, error: m.error },
      });
    }
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
    pending = { issuances: [], malformed: [], certificates: new Map(), count: 0 };
  };

  try {
    for await (const batch of reader.entries(cursor.position, sth.treeSize, sth.treeSize, options.signal)) {
      if (batch.start !== position + pending.count) throw new Error(`entries out of order at ${batch.start}`);
      for (const entry of batch.entries) {
        if (isMalformed(entry) && !entry.leafInput)
          throw new Error(`entry ${entry.index} cannot be hashed: ${entry.error}`);
        // The tree and the pending count move together, so a commit always matches its tree state.
        tree.append(leafHash(entry.leafInput as Uint8Array));
        pending.count++;
        result.entriesRead++;
        if (isMalformed(entry)) {
          pending.malformed.push({ logId: log.logId, index: entry.index, error: entry.error });
          result.malformed++;
          continue;
        }
        const s = summarizeEntry(entry);
        if ('malformed' in s) {
          pending.malformed.push({ logId: log.logId, index: entry.index, error: s.error });
          result.malformed++;
          continue;
        }
        if (!s.dnsNames.some((n) => options.watch.matches(n))) continue;
        result.matched++;
        pending.issuances.push({
          tbsSha256: s.tbsSha256,
          certSha256: s.certSha256,
          type: s.type,
          dnsNames: s.dnsNames,
          ipAddresses: s.ipAddresses,
          issuer: s.issuer,
          serial: s.serial,
          notBefore: s.notBefore,
          notAfter: s.notAfter,
          spkiSha256: s.spkiSha256,
          keyType: s.keyType,
          logId: log.logId,
          index: entry.index,
          timestamp: s.timestamp,
        });
        const der = entry.leaf.certificate ?? entry.preCertificate;
        if (der) pending.certificates.set(s.tbsSha256, der);
      }
      if (pending.count >= commitEvery) await commit();
      options.onProgress?.(position + pending.count, sth.treeSize);
    }
    await commit();
  } catch (err) {
    // What was committed stays committed; the next run resumes at `position`.
    await commit().catch(() => undefined);
    return { ...result, status: 'unreachable', message: (err as Error).message };
  }

  if (!hashEquals(tree.root(), sth.rootHash)) {
    const message = `the log's ${sth.treeSize} entries hash to ${b64(tree.root())}, but it signed ${b64(sth.rootHash)}`;
    await reportMisbehaviour(store, log, message, [sth]);
    return { ...result, status: 'misbehaving', message };
  }
  await store.setVerifiedHead(log.logId, toStoredHead(sth));
  return result;
}
