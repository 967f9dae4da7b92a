/**
 * @module monitor/units
 * A log's catch-up as work units (issue 18): the range up to the signed tree head is cut into units
 * (`store.planUnits`); each worker — every `certvigil monitor` process on one PostgreSQL store, or
 * the one process on SQLite — claims units under a lease (`FOR UPDATE SKIP LOCKED`), downloads,
 * matches and commits each as a whole (`completeUnit`: issuances, alerts and the unit's leaf hashes
 * in one transaction, written only if the worker still holds the unit), and the log's download
 * position advances by folding the contiguous done units into the compact tree (`foldUnits`, a
 * compare-and-set). The verified head moves only when the folded tree reaches a signed head and
 * its root matches (sync-log.ts), as certspotter's two cursors do for one process.
 *
 * Why leases and no coordinator: a worker that dies (SIGKILL) or stalls (SIGSTOP) holds its unit
 * only until the lease runs out; another worker then reclaims it, and the stalled one's late
 * commit is refused by the store (it no longer holds the unit): nothing is stored twice.
 */
import { CertvigilError, isCertvigilError } from '../errors.js';
import { CompactTree, isMalformed } from '../ct/index.js';
import type { EntryBatch, LogInfo, LogReader, MalformedEntry, RawLogEntry } from '../ct/index.js';
import type { IssuanceInput, MalformedInput, Store, TreeState, WorkUnit } from '../store/index.js';
import { defaultExaminer } from './entry-pool.js';
import type { Examined, ExaminedNames } from './entry-pool.js';
import { entryNames, summarizeEntry } from './entry-summary.js';
import { malformedAlert } from './events.js';
import type { MonitorAlert } from './events.js';
import { issuanceInput } from './issuance.js';
import type { MatchedCertificate, SyncOptions, SyncResult } from './sync-log.js';

const HASH = 32;

/** What one worker needs besides the sync options. */
export interface UnitSettings {
  workerId: string;
  unitSize: number;
  leaseMs: number;
  /** How often a worker waiting for others' units looks again. */
  pollMs: number;
}

export const DEFAULT_UNIT_SIZE = 4096; // 16 static-ct-api tiles of 256
export const DEFAULT_LEASE_MS = 15_000;
/**
 * Units one worker works on at once. One: two kept the connection busy across a unit's end (the
 * main thread sat idle ~5 % of `monitor --once` at unit boundaries), but they doubled the requests
 * a rate-limited worker retries in parallel (a request answered 429 gives its slot to a queued one
 * while it backs off), and four workers sharing one address under a per-IP limit then gave up
 * after 10 × 429 (`npm run bench -- workers`). Within a unit, batches are still examined one
 * ahead in the entry worker thread (entry-pool.ts).
 */
export const UNITS_IN_FLIGHT = 1;

/** Entries of the units in progress so far, so that progress counts stay monotonic across units. */
export interface UnitProgress {
  inProgress: number;
}

/** `entryNames`' answer in the examiner's form: the names, or why the certificate is malformed. */
function namesOf(n: ReturnType<typeof entryNames>): Exclude<ExaminedNames, null> {
  return 'malformed' in n ? n.error : n.dnsNames;
}

/** A log-side failure (the caller classifies it as `unreachable`), with the ct error as cause. */
export type LogFailure = (err: unknown) => Error;

/**
 * Downloads, matches and commits one claimed unit. Returns the entries committed (0 when the
 * store refused the commit because the unit was reclaimed meanwhile). The lease is renewed while
 * the unit is worked on; losing it stops the work early.
 */
export async function processUnit(
  reader: LogReader,
  unit: WorkUnit,
  options: SyncOptions,
  settings: UnitSettings,
  result: SyncResult,
  logFailure: LogFailure,
  progress: UnitProgress = { inProgress: 0 },
): Promise<number> {
  const { store } = options;
  const log = reader.log;
  const size = unit.last - unit.first;
  const leaves = new Uint8Array(size * HASH);
  const issuances: IssuanceInput[] = [];
  const malformed: MalformedInput[] = [];
  const malformedAlerts: MonitorAlert[] = [];
  const certificates = new Map<string, MatchedCertificate>();
  let matched = 0;
  let malformedCount = 0;
  let lost = false;
  const renew = setInterval(
    () => {
      store
        .renewUnitLease(log.logId, unit.first, settings.workerId, settings.leaseMs)
        .then((held) => {
          if (!held) lost = true;
        })
        .catch(() => undefined);
    },
    Math.max(50, Math.floor(settings.leaseMs / 3)),
  );
  renew.unref?.();
  let counted = 0;
  try {
    return await workOnUnit();
  } catch (err) {
    // Give the unit back at once (a retry, here or by another worker, need not wait out the lease).
    await store
      .releaseUnits(settings.workerId, { logId: log.logId, first: unit.first })
      .catch(() => undefined);
    throw err;
  } finally {
    clearInterval(renew);
    progress.inProgress -= counted;
  }

  async function workOnUnit(): Promise<number> {
    let next = unit.first;
    const recordMalformed = (entry: RawLogEntry | MalformedEntry, error: string): void => {
      malformed.push({ logId: log.logId, index: entry.index, error });
      malformedAlerts.push(
        malformedAlert(log, {
          index: entry.index,
          error,
          ...(entry.leafInput ? { leafInput: entry.leafInput } : {}),
          ...(entry.extraData ? { extraData: entry.extraData } : {}),
        }),
      );
      malformedCount++;
    };
    const consume = (batch: EntryBatch, examined: Examined): void => {
      for (const [i, entry] of batch.entries.entries()) {
        leaves.set(examined.hashes.subarray(i * HASH, (i + 1) * HASH), (entry.index - unit.first) * HASH);
        next++;
        if (isMalformed(entry)) {
          recordMalformed(entry, entry.error);
          continue;
        }
        // The examiner parsed the same leaf the reader did; null cannot happen for a parsed entry.
        const found = examined.names[i] ?? null;
        const names = found === null ? namesOf(entryNames(entry)) : found;
        if (typeof names === 'string') {
          recordMalformed(entry, names);
          continue;
        }
        if (!names.some((n) => options.watch.matches(n))) continue;
        // Digests only for the entries kept (see entryNames); the walk gives the same verdict.
        const s = summarizeEntry(entry);
        if ('malformed' in s) {
          recordMalformed(entry, s.error);
          continue;
        }
        matched++;
        issuances.push(issuanceInput(s, log.logId, entry.index));
        const der = entry.leaf.certificate ?? entry.preCertificate;
        if (der) certificates.set(s.tbsSha256, { der, chain: entry.chain });
      }
      progress.inProgress += next - unit.first - counted;
      counted = next - unit.first;
      options.onProgress?.(
        result.position + result.entriesRead + progress.inProgress,
        result.treeSize ?? next,
      );
    };
    const examiner = options.examiner ?? defaultExaminer();
    const source = reader.entries(unit.first, unit.last, Math.max(unit.treeSize, unit.last), options.signal);
    const it = source[Symbol.asyncIterator]();
    // Each batch is examined (leaf hashes and names, entry-pool.ts) one batch ahead of its
    // matching: the examiner's thread works on batch k + 1 while this one matches batch k and the
    // reader downloads the next ones.
    let queued: { batch: EntryBatch; examined: Promise<Examined> } | null = null;
    let expected = unit.first;
    for (;;) {
      let r: IteratorResult<EntryBatch>;
      try {
        r = await it.next();
      } catch (err) {
        throw logFailure(err);
      }
      if (r.done === true) break;
      const batch = r.value;
      if (batch.start !== expected)
        throw logFailure(new CertvigilError('CT_BAD_RESPONSE', `entries out of order at ${batch.start}`));
      for (const [i, entry] of batch.entries.entries()) {
        if (entry.index !== batch.start + i)
          throw logFailure(new CertvigilError('CT_BAD_RESPONSE', `entries out of order at ${entry.index}`));
        if (isMalformed(entry) && !entry.leafInput)
          throw logFailure(
            new CertvigilError('CT_BAD_RESPONSE', `entry ${entry.index} cannot be hashed: ${entry.error}`),
          );
      }
      expected += batch.entries.length;
      const previous = queued;
      queued = {
        batch,
        examined: examiner.examine(
          batch.start,
          batch.entries.map((e) => e.leafInput as Uint8Array),
        ),
      };
      if (previous !== null) {
        consume(previous.batch, await previous.examined);
        if (lost) return 0;
      }
    }
    if (queued !== null) {
      consume(queued.batch, await queued.examined);
      if (lost) return 0;
    }
    if (next !== unit.last)
      throw logFailure(
        new CertvigilError(
          'CT_BAD_RESPONSE',
          `the log returned entries up to ${next}, ${unit.last} were asked for`,
        ),
      );
    const alerts = [...(await options.alertsFor(issuances, certificates)), ...malformedAlerts];
    const done = await store.completeUnit({
      logId: log.logId,
      first: unit.first,
      workerId: settings.workerId,
      leafHashes: leaves,
      issuances,
      malformed,
      alerts,
    });
    if (!done) {
      // Not ours any more, or the session ended before COMMIT: in the second case the unit may
      // still be claimed by us, and a retry must not wait for our own lease to run out.
      await store
        .releaseUnits(settings.workerId, { logId: log.logId, first: unit.first })
        .catch(() => undefined);
      return 0;
    }
    result.matched += matched;
    result.malformed += malformedCount;
    if (alerts.length > 0) options.onCommit?.();
    return size;
  }
}

/** Whether an error is the store's compare-and-set conflict (another worker folded first). */
function isConflict(err: unknown): boolean {
  return isCertvigilError(err) && err.code === 'STORE_CONFLICT';
}

/**
 * Folds the contiguous done units after the log's download position into its compact tree, never
 * past `stopAt` (the signed head this worker verifies against) unless a unit boundary lands exactly
 * on it. Returns the position and tree reached. Conflicts (another worker folded meanwhile) restart
 * from the stored cursor.
 */
export async function foldDoneUnits(
  store: Store,
  log: LogInfo,
  stopAt: number,
): Promise<{ position: number; tree: CompactTree }> {
  for (let attempt = 0; ; attempt++) {
    const cursor = await store.getCursor(log.logId);
    if (cursor === null || cursor.tree === null)
      throw new CertvigilError('MONITOR_INTERNAL', `no cursor for ${log.url} to fold units into`);
    const tree = CompactTree.fromJSON(cursor.tree);
    const start = cursor.position;
    try {
      for (;;) {
        const done = await store.doneUnitsFrom(log.logId, tree.size, 64);
        const usable = done.filter((u) => u.last <= stopAt || tree.size >= stopAt);
        let advanced = false;
        for (const u of usable) {
          if (u.first !== tree.size || u.last > stopAt) break;
          if (u.leafHashes.length !== (u.last - u.first) * HASH)
            throw new CertvigilError(
              'MONITOR_INTERNAL',
              `unit ${u.first}-${u.last} of ${log.url} has no complete leaf hashes`,
            );
          for (let i = 0; i < u.leafHashes.length; i += HASH) tree.append(u.leafHashes.subarray(i, i + HASH));
          advanced = true;
        }
        if (!advanced) break;
      }
      if (tree.size !== start) await store.foldUnits(log.logId, start, tree.size, tree.toJSON() as TreeState);
      return { position: tree.size, tree };
    } catch (err) {
      if (isConflict(err) && attempt < 20) continue;
      throw err;
    }
  }
}
