/**
 * @module health/read
 * `readHealthReport`: the one read of the monitor's state behind `certvigil status`,
 * `check monitor`, the web server's `GET /api/v1/logs` and its /metrics, so that all four report
 * the same view. Only the store's interface is used (types only): the caller opens the store.
 */
import type { AlertRecord, Store } from '../store/index.js';
import { buildHealthReport } from './report.js';
import type { HealthReport } from './report.js';

/** Pending alerts counted at most (the outbox is read oldest first; more is reported as `N+`). */
export const PENDING_ALERTS_CAP = 10_000;

/** The health report and the pending alerts it counted (at most PENDING_ALERTS_CAP). */
export interface HealthRead {
  report: HealthReport;
  pendingAlerts: AlertRecord[];
}

/** Reads cursors, log health, pending alerts and status at once and builds the report at `now`. */
export async function readHealth(store: Store, now: Date): Promise<HealthRead> {
  const [cursors, health, pendingAlerts, status] = await Promise.all([
    store.listCursors(),
    store.listLogHealth(),
    store.pendingAlerts(PENDING_ALERTS_CAP),
    store.getMonitorStatus(),
  ]);
  const report = buildHealthReport({
    now,
    cursors,
    health,
    pendingAlerts,
    pendingAlertsCap: PENDING_ALERTS_CAP,
    status,
  });
  return { report, pendingAlerts };
}

/** Everything `status`, `check monitor` and `GET /api/v1/logs` need, read from the store at `now`. */
export async function readHealthReport(store: Store, now: Date): Promise<HealthReport> {
  return (await readHealth(store, now)).report;
}
