/**
 * @module monitor/monitor
 * One monitoring cycle: refresh the inventory, catch every log up to its current signed tree head
 * (several logs at once), raise health alerts for logs that could not be read, and deliver the
 * alerts waiting in the outbox. The CLI runs it once (`--once`) or in a loop (daemon). The store,
 * the notifiers and the inventory scanner are given: this module builds no concrete I/O.
 */
import { createHash } from 'node:crypto';
import type { CaaResolverPort } from '../caa/index.js';
import type { CtHttpClient } from '../ct/http.js';
import { createLogReader } from '../ct/log-reader.js';
import type { LogInfo } from '../ct/types.js';
import type { InventoryCertificate, InventoryScan } from '../inventory/types.js';
import type { Notifier } from '../notify/types.js';
import { sanitizeDeep, sanitizeText } from '../sanitize.js';
import type { InventoryRecord, Store } from '../store/types.js';
import { alertsForIssuances, deliverPendingAlerts } from './alerts.js';
import type { DeliveryReport } from './alerts.js';
import { loadKnownIndex } from './known.js';
import { syncLog } from './sync-log.js';
import type { SyncResult } from './sync-log.js';
import type { WatchList } from './watchlist.js';

export interface CycleDeps {
  store: Store;
  notifiers: readonly Notifier[];
  /** Scans the configured inventory paths; null when none are configured. */
  scanInventory: (() => Promise<InventoryScan>) | null;
  caaResolver: CaaResolverPort | null;
  caaIssuers: Readonly<Record<string, string[]>>;
  /** HTTP client per log (limits are per log). */
  httpFor: (log: LogInfo) => CtHttpClient;
  log: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
  };
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
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

function toRecord(c: InventoryCertificate): InventoryRecord {
  return {
    source: c.source,
    path: c.path,
    certSha256: c.certSha256,
    tbsSha256: c.tbsSha256,
    spkiSha256: c.spkiSha256,
    dnsNames: c.dnsNames,
    issuer: c.issuer,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
  };
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
  for (const c of scan.certificates) add(toRecord(c));
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
    deps.log.warn({ path: sanitizeText(e.path) }, `inventory: ${sanitizeText(e.error)}`);
  const unreadable = scan.errors.filter((e) => e.code === 'INVENTORY_PATH_UNREADABLE');
  if (unreadable.length === 0) {
    await recordInventory(deps.store, scan);
    return { scan, unreadable: 0 };
  }
  // A configured inventory path that is gone or unreadable (an unmounted volume, a permissions
  // change) says nothing about what we own: replacing the inventory with "nothing" would make
  // every one of our certificates look foreign. Keep the last good inventory, and tell the
  // operator through the sinks: one health alert per path and day.
  const day = new Date().toISOString().slice(0, 10);
  for (const e of unreadable) {
    const path = sanitizeText(e.path, { maxLength: 300 });
    const id = createHash('sha256').update(e.path).digest('hex').slice(0, 16);
    await deps.store.enqueueAlert({
      key: `health:inventory:${id}:${day}`,
      kind: 'health',
      payload: {
        type: 'inventory-health',
        severity: 'warning',
        path,
        message: `cannot read inventory path ${path}: ${sanitizeText(e.error.replace(/^INVENTORY_PATH_UNREADABLE: /, ''), { maxLength: 300 })}; the inventory read before is kept until it can be read again`,
      },
    });
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

export async function runCycle(deps: CycleDeps, options: CycleOptions): Promise<CycleResult> {
  const { store } = deps;
  const { scan, unreadable } = await refreshInventory(deps);
  // A scan with unreadable files is inconclusive: "managed here but not in the inventory" would then
  // be a guess, so the managed-name reason is only raised after a clean scan.
  const managed = scan && scan.errors.length === 0 ? scan.managedNames : [];
  if (scan && scan.errors.length > 0)
    deps.log.warn(
      { errors: scan.errors.length },
      'inventory scan incomplete: managed-name checks skipped this cycle',
    );
  const known = await loadKnownIndex(store, managed);
  const logUrls = new Map(options.logs.map((l) => [l.logId, l.url]));
  const alertContext = {
    store,
    known,
    watch: options.watch,
    logUrls,
    caaResolver: deps.caaResolver,
    caaIssuers: deps.caaIssuers,
    // Certificate names and resolver answers are outside text: escaped before any log line.
    onWarning: (m: string) => deps.log.warn({}, sanitizeText(m, { maxLength: 1000 })),
  };

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
    const http = deps.httpFor(log);
    try {
      const reader = createLogReader(log, { http, concurrency: 4, batchSize: 256 });
      const result = await syncLog(reader, {
        store,
        watch: options.watch,
        startAtEnd: options.startAtEnd,
        alertsFor: (issuances, certificates) => alertsForIssuances(issuances, certificates, alertContext),
        onProgress: (done, total) => {
          progress.set(log.logId, { done, total });
          report();
        },
        signal: deps.signal,
      });
      // The log's error text (its HTTP body) is outside text.
      deps.log.info(sanitizeDeep({ log: log.url, ...result }), `log ${result.status}`);
      if (result.status === 'unreachable') {
        // One health alert per log and day: a log that stays down does not flood the sinks.
        await store.enqueueAlert({
          key: `health:${log.logId}:${new Date().toISOString().slice(0, 10)}`,
          kind: 'health',
          payload: {
            type: 'log-health',
            severity: 'warning',
            log: log.url,
            message: sanitizeText(`cannot read ${log.description}: ${result.message ?? ''}`, {
              maxLength: 1000,
            }),
          },
        });
      }
      const stale = staleHeadMessage(log, result, Date.now());
      if (stale) {
        deps.log.warn({ log: log.url }, stale);
        await store.enqueueAlert({
          key: `health:${log.logId}:stale:${new Date().toISOString().slice(0, 10)}`,
          kind: 'health',
          payload: { type: 'log-health', severity: 'warning', log: log.url, message: stale },
        });
      }
      return { log, result };
    } finally {
      await http.close();
    }
  });

  const delivery = await deliverPendingAlerts(store, deps.notifiers, known, (m) =>
    deps.log.warn({}, sanitizeText(m, { maxLength: 1000 })),
  );
  return {
    logs: results,
    inventory: scan
      ? {
          certificates: scan.certificates.length,
          errors: scan.errors.length - unreadable,
          unreadablePaths: unreadable,
        }
      : null,
    delivery,
  };
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

/** `monitor --once` exit status: 2 if a log could not be read (cannot vouch for it), else 1 if one misbehaved, else 0. */
export function cycleExitCode(result: CycleResult): 0 | 1 | 2 {
  if (result.logs.some((l) => l.result.status === 'unreachable')) return 2;
  if (result.logs.some((l) => l.result.status === 'misbehaving')) return 1;
  return 0;
}
