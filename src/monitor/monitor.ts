/**
 * @module monitor/monitor
 * The pieces of a monitoring pass: refresh the inventory (once per pass), one attempt on one log
 * (catch it up, raise a health alert only if it could not be read, report its health), and the
 * outbox drainer that delivers alerts as soon as they are committed. `runCycle` is `--once`;
 * daemon.ts runs one independent loop per log over the same pieces. The store,
 * the notifiers and the inventory scanner are given: this module builds no concrete I/O.
 */
import type { CaaResolverPort } from '../caa/index.js';
import type { CtHttpClient, LogInfo, LogReader } from '../ct/index.js';
import { createLogReader } from '../ct/index.js';
import type { InventoryCertificate, InventoryScan } from '../inventory/index.js';
import type { Notifier } from '../notify/index.js';
import { sanitizeDeep, sanitizeText } from '../sanitize.js';
import type { InventoryRecord, LogHealthRecord, Store } from '../store/index.js';
import { alertBackoff, alertsForIssuances, deliverPendingAlerts } from './alerts.js';
import type { AlertContext, DeliveryReport } from './alerts.js';
import type { KnownIndex } from './classify.js';
import { inventoryUnreadableAlert, logStaleAlert, logUnreachableAlert } from './events.js';
import { loadKnownIndex } from './known.js';
import { emptySyncResult, syncLog } from './sync-log.js';
import type { SyncResult } from './sync-log.js';
import { inventoryRecord } from './issuance.js';
import type { WatchList } from './watchlist.js';

/**
 * How long a drain waits for another worker that holds the alert outbox (PostgreSQL): long enough
 * for any real drain of 1,000 alerts, short enough that a stopped worker does not stop the rest.
 */
const DELIVERY_LOCK_WAIT_MS = 30_000;

export interface MonitorLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface CycleDeps {
  store: Store;
  notifiers: readonly Notifier[];
  /** Scans the configured inventory paths; null when none are configured. */
  scanInventory: (() => Promise<InventoryScan>) | null;
  caaResolver: CaaResolverPort | null;
  caaIssuers: Readonly<Record<string, string[]>>;
  /**
   * HTTP client per log attempt (its concurrency, rate limit and timeouts are per log); `signal`
   * cancels this log's requests (the log left the list, or the daemon stops).
   */
  httpFor: (log: LogInfo, signal?: AbortSignal) => CtHttpClient;
  /** The reader of a log; by default one over `httpFor(log)` (tests give a fake). */
  readerFor?: (log: LogInfo) => LogReader;
  /** Parallel entry requests per log (default 4). */
  readerConcurrencyFor?: (log: LogInfo) => number;
  /** The operator's log lines (stderr); `log` in this module always means a CT log. */
  logger: MonitorLogger;
  onProgress?: (done: number, total: number) => void;
  /** After every attempt on a log: its health, for `status` and `check monitor`. */
  onLogHealth?: (r: LogHealthRecord) => Promise<void>;
  /** After each pass over the logs (a heartbeat). */
  onCycle?: () => Promise<void>;
  signal?: AbortSignal;
  /** This process's name among the workers sharing the store (`--worker-id`; default host:pid). */
  workerId?: string;
  /** Lease of a claimed work unit (default 15 s; tests shorten it). */
  unitLeaseMs?: number;
}

export interface CycleOptions {
  logs: readonly LogInfo[];
  watch: WatchList;
  startAtEnd: boolean;
  /** Logs caught up at the same time. */
  concurrency: number;
}

export interface CycleResult {
  logs: { log: LogInfo; result: SyncResult }[];
  /**
   * `unreadablePaths`: configured paths that could not be scanned at all; the inventory stored
   * before was kept and a health alert raised for each.
   */
  inventory: { certificates: number; errors: number; unreadablePaths: number } | null;
  delivery: DeliveryReport;
}

/**
 * Stores one inventory scan: every source is replaced, so a certificate deleted from disk leaves the
 * inventory. Except where the scan could not look: a record stored before whose file (or a directory
 * above it) is among the scan's errors is kept — an unreadable, oversized or half-written file (an
 * ACME client renewing at that moment) says nothing about whether the certificate is still ours,
 * and dropping it would make our own certificate look foreign.
 */
export async function recordInventory(store: Store, scan: InventoryScan): Promise<void> {
  const bySource = new Map<string, InventoryRecord[]>();
  const add = (r: InventoryRecord): void => {
    bySource.set(r.source, [...(bySource.get(r.source) ?? []), r]);
  };
  for (const c of scan.certificates) add(inventoryRecord(c));
  if (scan.errors.length > 0) {
    const fresh = new Set(scan.certificates.map((c) => c.certSha256));
    const failed = scan.errors.map((e) => e.path);
    const underFailed = (path: string): boolean =>
      failed.some(
        (f) => path === f || path.startsWith(f.endsWith('/') ? f : `${f}/`) || path.startsWith(`${f}#`),
      );
    for (const r of await store.listInventory()) {
      if (!fresh.has(r.certSha256) && underFailed(r.path)) add(r);
    }
  }
  for (const source of INVENTORY_SOURCES) await store.replaceInventory(source, bySource.get(source) ?? []);
}

const INVENTORY_SOURCES: readonly InventoryCertificate['source'][] = [
  'certbot',
  'dehydrated',
  'acme.sh',
  'lego',
  'caddy',
  'traefik',
  'pem',
];

async function refreshInventory(
  deps: CycleDeps,
): Promise<{ scan: InventoryScan | null; unreadable: number }> {
  if (!deps.scanInventory) return { scan: null, unreadable: 0 };
  const scan = await deps.scanInventory();
  for (const e of scan.errors)
    deps.logger.warn({ path: sanitizeText(e.path) }, `inventory: ${sanitizeText(e.error)}`);
  const unreadable = scan.errors.filter((e) => e.code === 'INVENTORY_PATH_UNREADABLE');
  if (unreadable.length === 0) {
    await recordInventory(deps.store, scan);
    return { scan, unreadable: 0 };
  }
  // A configured inventory path that is gone or unreadable (an unmounted volume, a permissions
  // change) says nothing about what we own: replacing the inventory with "nothing" would make
  // every one of our certificates look foreign. Keep the last good inventory, and tell the
  // operator through the sinks: one health alert per path and day.
  for (const e of unreadable) {
    await deps.store.enqueueAlert(
      inventoryUnreadableAlert(e.path, e.error.replace(/^INVENTORY_PATH_UNREADABLE: /, ''), Date.now()),
    );
  }
  return { scan, unreadable: unreadable.length };
}

/** Runs `fn` over `items` with at most `limit` at once, keeping results in input order. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

/** What one pass over the logs shares: the inventory read once, and what alerts are built with. */
export interface PassContext {
  known: KnownIndex;
  watch: WatchList;
  alertContext: AlertContext;
  inventory: CycleResult['inventory'];
}

/**
 * Reads the inventory once for the pass (not once per issuance) and builds the alert context.
 * `logs` gives log IDs their URLs in alerts.
 */
export async function preparePass(
  deps: CycleDeps,
  logs: readonly LogInfo[],
  watch: WatchList,
): Promise<PassContext> {
  const { scan, unreadable } = await refreshInventory(deps);
  // A scan with unreadable files is inconclusive: "managed here but not in the inventory" would then
  // be a guess, so the managed-name reason is only raised after a clean scan.
  const managed = scan && scan.errors.length === 0 ? scan.managedNames : [];
  if (scan && scan.errors.length > 0)
    deps.logger.warn(
      { errors: scan.errors.length },
      'inventory scan incomplete: managed-name checks skipped this cycle',
    );
  const known = await loadKnownIndex(deps.store, managed);
  return {
    known,
    watch,
    inventory: scan
      ? {
          certificates: scan.certificates.length,
          errors: scan.errors.length - unreadable,
          unreadablePaths: unreadable,
        }
      : null,
    alertContext: {
      store: deps.store,
      known,
      watch,
      logUrls: new Map(logs.map((l) => [l.logId, l.url])),
      caaResolver: deps.caaResolver,
      caaIssuers: deps.caaIssuers,
      // Certificate names and resolver answers are outside text: escaped before any log line.
      onWarning: (m: string) => deps.logger.warn({}, sanitizeText(m, { maxLength: 1000 })),
    },
  };
}

export interface AttemptOptions {
  startAtEnd: boolean;
  signal?: AbortSignal;
  onCommit?: () => void;
  onProgress?: (done: number, total: number) => void;
  now?: () => number;
}

/**
 * One attempt on one log: catch it up, then say how it went — a log line, a health alert when it
 * could not be read (only then: evidence is its own alert, and our own failures are logged with
 * their stack, not blamed on the log), a stale-head alert, and the health record.
 */
export async function attemptLog(
  deps: CycleDeps,
  pass: PassContext,
  log: LogInfo,
  options: AttemptOptions,
): Promise<SyncResult> {
  const now = options.now ?? Date.now;
  const attemptAt = new Date(now()).toISOString();
  const http = deps.readerFor ? null : deps.httpFor(log, options.signal);
  let result: SyncResult;
  try {
    const reader =
      http === null && deps.readerFor
        ? deps.readerFor(log)
        : createLogReader(log, {
            http: http ?? deps.httpFor(log, options.signal),
            concurrency: deps.readerConcurrencyFor?.(log) ?? 4,
            batchSize: 256,
          });
    result = await syncLog(reader, {
      store: deps.store,
      watch: pass.watch,
      startAtEnd: options.startAtEnd,
      alertsFor: (issuances, certificates) => alertsForIssuances(issuances, certificates, pass.alertContext),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.onCommit ? { onCommit: options.onCommit } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(deps.workerId !== undefined ? { workerId: deps.workerId } : {}),
      ...(deps.unitLeaseMs !== undefined ? { unitLeaseMs: deps.unitLeaseMs } : {}),
    });
  } catch (err) {
    // createLogReader (an unusable key in the list) or a bug above syncLog's own handling.
    result = {
      ...emptySyncResult(),
      status: 'internal',
      message: (err as Error).message,
      error: err instanceof Error ? err : new Error(String(err)),
    };
  } finally {
    await http?.close().catch(() => undefined);
  }
  const stopping = options.signal?.aborted === true;
  const { error, ...shown } = result;
  // The log's error text (its HTTP body) is outside text.
  if (result.status === 'internal')
    deps.logger.error(
      sanitizeDeep({ log: log.url, ...shown, stack: error?.stack ?? null }),
      'internal error while reading a log (our bug or the store, not the log)',
    );
  else deps.logger.info(sanitizeDeep({ log: log.url, ...shown }), `log ${result.status}`);
  try {
    if (result.status === 'unreachable' && !stopping)
      await deps.store.enqueueAlert(logUnreachableAlert(log, result.message ?? '', now()));
    const stale = staleHeadMessage(log, result, now());
    if (stale) {
      deps.logger.warn({ log: log.url }, stale);
      await deps.store.enqueueAlert(logStaleAlert(log, stale, now()));
    }
    await deps.onLogHealth?.(healthRecord(log, result, attemptAt, now()));
  } catch (err) {
    deps.logger.error(
      { log: log.url, stack: (err as Error).stack ?? null },
      `cannot record the health of a log: ${sanitizeText((err as Error).message)}`,
    );
  }
  return result;
}

/** The health record of one attempt (lastContactAt: only when the log answered with a valid head). */
export function healthRecord(log: LogInfo, r: SyncResult, attemptAt: string, now: number): LogHealthRecord {
  return {
    logId: log.logId,
    url: log.url,
    status: r.status,
    lastAttemptAt: attemptAt,
    lastContactAt: r.contacted ? new Date(now).toISOString() : null,
    lastError: r.message === null || r.status === 'ok' ? null : sanitizeText(r.message, { maxLength: 500 }),
    newestTreeSize: r.treeSize,
    newestTreeTimestamp: r.treeHeadTimestamp === null ? null : new Date(r.treeHeadTimestamp).toISOString(),
    updatedAt: new Date(now).toISOString(),
  };
}

/**
 * Drains the outbox continuously: woken by every commit that stored alerts, and by a periodic
 * tick, one drain at a time (a wake during a drain runs one more). An alert reaches its sinks
 * seconds after its commit, whatever the other logs are doing.
 */
export class OutboxDrainer {
  readonly total: DeliveryReport = { delivered: 0, failed: 0, skipped: 0 };
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly retry = alertBackoff();

  constructor(
    private readonly deps: Pick<CycleDeps, 'store' | 'notifiers' | 'logger'>,
    /** The inventory index of the current pass; null before the first (nothing is drained yet). */
    private readonly known: () => KnownIndex | null,
  ) {}

  /** Starts a drain (or queues one more after the running one). */
  wake(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        const known = this.known();
        if (known === null) break;
        try {
          // Workers sharing a store drain one at a time: an alert is marked delivered before
          // the next worker reads the outbox, so none goes out twice.
          const r = await this.deps.store.withDeliveryLock(
            () =>
              deliverPendingAlerts(
                this.deps.store,
                this.deps.notifiers,
                known,
                (m) => this.deps.logger.warn({}, sanitizeText(m, { maxLength: 1000 })),
                this.retry,
              ),
            DELIVERY_LOCK_WAIT_MS,
          );
          if (r === null) {
            // Another worker drains, or holds the lock while stopped: the alerts stay in the
            // outbox for its next drain (or this daemon's next one, or the next run).
            this.deps.logger.warn(
              {},
              `another worker held the alert outbox for ${DELIVERY_LOCK_WAIT_MS / 1000} s: its alerts are left for it or the next drain`,
            );
            break;
          }
          this.total.delivered += r.delivered;
          this.total.failed += r.failed;
          this.total.skipped += r.skipped;
        } catch (err) {
          this.deps.logger.error(
            { stack: (err as Error).stack ?? null },
            `cannot drain the alert outbox: ${sanitizeText((err as Error).message)}`,
          );
        }
      } while (this.again);
    })().finally(() => {
      this.running = null;
    });
  }

  /** Waits for the running drain and runs one more over everything pending now. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    this.wake();
    while (this.running) await this.running;
  }

  /** A periodic tick (failed deliveries are retried on it). */
  start(everyMs: number): void {
    this.timer ??= setInterval(() => this.wake(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

/**
 * `--once`: every log caught up once (at most `concurrency` at a time, each on its own), the
 * outbox drained as the commits come in, and once more at the end.
 */
export async function runCycle(deps: CycleDeps, options: CycleOptions): Promise<CycleResult> {
  const pass = await preparePass(deps, options.logs, options.watch);
  const drainer = new OutboxDrainer(deps, () => pass.known);
  // One progress figure over all logs: entries still to read, summed.
  const progress = new Map<string, { done: number; total: number }>();
  const report = (): void => {
    let done = 0;
    let total = 0;
    for (const p of progress.values()) {
      done += p.done;
      total += p.total;
    }
    deps.onProgress?.(done, total);
  };
  const results = await mapLimited(options.logs, options.concurrency, async (log) => {
    const result = await attemptLog(deps, pass, log, {
      startAtEnd: options.startAtEnd,
      onCommit: () => drainer.wake(),
      onProgress: (done, total) => {
        progress.set(log.logId, { done, total });
        report();
      },
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
    return { log, result };
  });
  await drainer.flush();
  await deps.onCycle?.();
  return { logs: results, inventory: pass.inventory, delivery: drainer.total };
}

/**
 * RFC 6962 §3.5: a log must incorporate every entry within its Maximum Merge Delay, so a signed tree
 * head older than the MMD (plus an hour of slack) means the log has fallen behind: certificates
 * issued since may be missing from what we read.
 */
export function staleHeadMessage(log: LogInfo, result: SyncResult, now: number): string | null {
  if (result.treeHeadTimestamp === null) return null;
  const age = now - result.treeHeadTimestamp;
  if (age <= log.mmdSeconds * 1000 + 3_600_000) return null;
  return `${log.description} has fallen behind: its newest signed tree head is ${Math.round(age / 3_600_000)} h old (maximum merge delay ${Math.round(log.mmdSeconds / 3600)} h)`;
}

/**
 * `monitor --once` exit status: 2 if a log could not be read (cannot vouch for it; our own
 * failure included), else 1 if one misbehaved, else 0.
 */
export function cycleExitCode(result: CycleResult): 0 | 1 | 2 {
  if (result.logs.some((l) => l.result.status === 'unreachable' || l.result.status === 'internal')) return 2;
  if (result.logs.some((l) => l.result.status === 'misbehaving')) return 1;
  return 0;
}
