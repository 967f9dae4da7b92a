/**
 * @module server/api/mitm
 * `GET /api/v1/mitm[?target=T]`: the baselines `certvigil mitm learn` recorded (JARM fingerprints
 * and last hops per target and port), which `check mitm` compares against.
 */
import type { Hono } from 'hono';
import type { Store } from '../../store/index.js';
import type { AppEnv } from '../types.js';
import { ApiInputError, inputErrorResponse, param } from './params.js';
import { safe } from './views.js';

export function registerMitmApi(app: Hono<AppEnv>, store: Store): void {
  app.get('/api/v1/mitm', async (c) => {
    try {
      const target = param(c.req.query('target'), 'target');
      if (target !== undefined && target.length > 300)
        throw new ApiInputError('target is longer than 300 characters');
      return c.json({ baselines: safe(await store.listMitmBaselines(target)) });
    } catch (err) {
      return inputErrorResponse(err);
    }
  });
}
