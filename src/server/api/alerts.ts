/**
 * @module server/api/alerts
 * `GET /api/v1/alerts?pending=true|false&limit=N`: the alert outbox, newest first — what was
 * decided, when it was delivered or why delivery failed. Payloads quote certificates and logs:
 * sanitised.
 */
import type { Hono } from 'hono';
import type { Store } from '../../store/index.js';
import type { AppEnv } from '../types.js';
import { boolParam, inputErrorResponse, limitParam } from './params.js';
import { safe } from './views.js';

export const DEFAULT_ALERT_LIMIT = 100;

export function registerAlertsApi(app: Hono<AppEnv>, store: Store): void {
  app.get('/api/v1/alerts', async (c) => {
    try {
      const pending = boolParam(c.req.query('pending'), 'pending');
      const limit = limitParam(c.req.query('limit'), DEFAULT_ALERT_LIMIT);
      const all = await store.listAlerts();
      const wanted = all
        .filter((a) => pending === undefined || (a.deliveredAt === null) === pending)
        .sort((a, b) => b.id - a.id);
      return c.json({ alerts: safe(wanted.slice(0, limit)), total: wanted.length });
    } catch (err) {
      return inputErrorResponse(err);
    }
  });
}
