/**
 * @module server/api/logs
 * `GET /api/v1/logs`: per log its cursor and health (backlog, position, tree size, last verified,
 * status, last error), the alert outbox and the log list's age: the same report `certvigil status`
 * and `check monitor` read (health `readHealthReport`).
 */
import type { Hono } from 'hono';
import { readHealthReport } from '../../health/index.js';
import type { Store } from '../../store/index.js';
import type { AppEnv } from '../types.js';
import { safe } from './views.js';

export function registerLogsApi(app: Hono<AppEnv>, store: Store, now: () => Date): void {
  // Log URLs, descriptions and last errors come from the log list and the logs: sanitised.
  app.get('/api/v1/logs', async (c) => c.json(safe(await readHealthReport(store, now()))));
}
