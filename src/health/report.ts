/**
 * @module health/report
 * What `certvigil status` shows and `check monitor` judges: the monitor's state (cursors, per-log
 * health records, the alert outbox, the monitor status) joined into one view per log. Pure: the
 * CLI reads the store, this module only combines what was read with `now`.
 */
import type { AlertRecord, LogCursor, LogHealthRecord, MonitorStatusRecord } from '../store/index.js';

export type LogStatus = LogHealthRecord['status'] | 'unknown';

export interface LogView {
  logId: string;
  url: string;
  description: string | null;
  /** Newest tree size the log showed (its newest signed head), verified or not; null if never seen. */
  treeSize: number | null;
  /** Next entry to download: every entry before it was processed. */
  position: number;
  /** Size of the last signed head verified against the downloaded entries; null if none yet. */
  verifiedSize: number | null;
  /** Entries behind the newest head: `treeSize - position` (0 when caught up), null if unknown. */
  backlog: number | null;
  /** When the log last answered correctly (health record); null if never. */
  lastContact: string | null;
  lastAttempt: string | null;
  /** `unknown` when the monitor never recorded health for this log (state written by a version before health was recorded). */
  status: LogStatus;
  lastError: string | null;
  /**
   * Up to when the monitor has verified everything the log published (see `verifiedThrough`);
   * null when nothing was ever verified.
   */
  verifiedAt: string | null;
  /** now − verifiedAt, in seconds; null when nothing was verified. */
  behindSeconds: number | null;
}

export interface HealthReport {
  now: string;
  logs: LogView[];
  /** Alerts not delivered yet (counted up to `pendingAlertsCap`). */
  pendingAlerts: number;
  pendingAlertsTruncated: boolean;
  oldestPendingAlertAt: string | null;
  oldestPendingAlertAgeSeconds: number | null;
  /** Pending alerts whose last delivery attempt failed. */
  failingAlerts: number;
  logList: {
    source: string | null;
    fetchedAt: string | null;
    ageSeconds: number | null;
    error: string | null;
  };
  lastCycleAt: string | null;
  inventoryErrors: number;
  lastHeartbeatAt: string | null;
}

export interface HealthInput {
  now: Date;
  cursors: readonly LogCursor[];
  health: readonly LogHealthRecord[];
  /** The oldest pending alerts, oldest first (`Store.pendingAlerts`). */
  pendingAlerts: readonly Pick<AlertRecord, 'createdAt' | 'attempts' | 'lastError'>[];
  /** The limit `pendingAlerts` was read with: reaching it means "at least this many". */
  pendingAlertsCap: number;
  status: MonitorStatusRecord;
}

const ageSeconds = (now: number, iso: string | null): number | null => {
  if (iso === null) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : Math.max(0, Math.round((now - t) / 1000));
};

/**
 * The moment up to which the monitor has verified everything a log published, the one freshness
 * measure `check monitor --max-age` compares (documented in the README):
 * - the verified head's own timestamp (RFC 6962 §3.5: the STH covers every entry the log had
 *   merged at that time), because every entry under it was downloaded and its root matched; and
 * - the last correct contact (`lastContactAt`) when at that contact the verified head was already
 *   as large as the newest head the log showed: the monitor was caught up then, so nothing the log
 *   had published at that moment was unverified. This is what keeps an idle or read-only log, whose
 *   newest signed head is old by nature, from looking stale.
 * The later of the two; null when no head was ever verified.
 */
export function verifiedThrough(
  cursor: LogCursor | undefined,
  health: LogHealthRecord | undefined,
): number | null {
  const verified = cursor?.verified ?? null;
  if (verified === null) return null;
  let at = verified.timestamp;
  const contact = health?.lastContactAt ? Date.parse(health.lastContactAt) : Number.NaN;
  const newest = health?.newestTreeSize ?? null;
  if (!Number.isNaN(contact) && newest !== null && verified.treeSize >= newest) at = Math.max(at, contact);
  return at;
}

export function buildHealthReport(input: HealthInput): HealthReport {
  const now = input.now.getTime();
  const cursors = new Map(input.cursors.map((c) => [c.logId, c]));
  const health = new Map(input.health.map((h) => [h.logId, h]));
  // Only the logs the monitor reads now: a log that left the list (retired, removed from --log)
  // keeps its cursor and its last health record, but is no longer expected to make progress.
  const monitored = input.status.monitoredLogIds === null ? null : new Set(input.status.monitoredLogIds);
  const ids = [...new Set([...cursors.keys(), ...health.keys()])].filter(
    (id) => monitored === null || monitored.has(id),
  );
  const logs = ids.map((logId): LogView => {
    const c = cursors.get(logId);
    const h = health.get(logId);
    const position = c?.position ?? 0;
    const verifiedSize = c?.verified?.treeSize ?? null;
    const treeSize = h?.newestTreeSize ?? verifiedSize;
    const through = verifiedThrough(c, h);
    const verifiedAt = through === null ? null : new Date(through).toISOString();
    return {
      logId,
      url: h?.url ?? c?.url ?? '',
      description: c?.description ?? null,
      treeSize,
      position,
      verifiedSize,
      backlog: treeSize === null ? null : Math.max(0, treeSize - position),
      lastContact: h?.lastContactAt ?? null,
      lastAttempt: h?.lastAttemptAt ?? null,
      status: h?.status ?? 'unknown',
      lastError: h?.lastError ?? null,
      verifiedAt,
      behindSeconds: ageSeconds(now, verifiedAt),
    };
  });
  logs.sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
  const oldest = input.pendingAlerts[0]?.createdAt ?? null;
  return {
    now: input.now.toISOString(),
    logs,
    pendingAlerts: input.pendingAlerts.length,
    pendingAlertsTruncated: input.pendingAlerts.length >= input.pendingAlertsCap,
    oldestPendingAlertAt: oldest,
    oldestPendingAlertAgeSeconds: ageSeconds(now, oldest),
    failingAlerts: input.pendingAlerts.filter((a) => a.attempts > 0 && a.lastError !== null).length,
    logList: {
      source: input.status.logListSource,
      fetchedAt: input.status.logListFetchedAt,
      ageSeconds: ageSeconds(now, input.status.logListFetchedAt),
      error: input.status.logListError,
    },
    lastCycleAt: input.status.lastCycleAt,
    inventoryErrors: input.status.inventoryErrors,
    lastHeartbeatAt: input.status.lastHeartbeatAt,
  };
}
