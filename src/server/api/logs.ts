/**
 * @module server/api/logs
 * `GET /api/v1/logs`: per log its cursor and health (backlog, position, tree size, last verified,
 * status, last error), the alert outbox and the log list's age: the same report `certvigil status`
 * and `check monitor` read (health `buildHealthReport`).
 */
import type { Hono } from 'hono';
import { buildHealthReport } from '../../health/index.js';
import type { HealthReport } from '../../health/index.js';
import type { Store } from '../../store/index.js';
import type { AppEnv } from '../types.js';
import { safe } from './views.js';

/** Pending alerts counted at most (as `check monitor` does; more is reported as truncated). */
export const PENDING_ALERTS_CAP = 10_000;

export async function healthReport(store: Store, now: Date): Promise<HealthReport> {
  const [cursors, health, pendingAlerts, status] = await Promise.all([
    store.listCursors(),
    store.listLogHealth(),
    store.pendingAlerts(PENDING_ALERTS_CAP),
    store.getMonitorStatus(),
  ]);
  return buildHealthReport({
    now,
    cursors,
    health,
    pendingAlerts,
    pendingAlertsCap: PENDING_ALERTS_CAP,
    status,
  });
}

export function registerLogsApi(app: Hono<AppEnv>, store: Store, now: () => Date): void {
  // Log URLs, descriptions and last errors come from the log list and the logs: sanitised.
  app.get('/api/v1/logs', async (c) => c.json(safe(await healthReport(store, now()))));
}
