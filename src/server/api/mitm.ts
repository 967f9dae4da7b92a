/**
 * @module server/api/mitm
 * `GET /api/v1/mitm[?target=T]`: the baselines `certvigil mitm learn` recorded (JARM fingerprints
 * and last hops per target and port), which `check mitm` compares against, and `results`: the last
 * `check mitm --record` result of each target (its status, time and the plugin's --json result).
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
      const [baselines, results] = await Promise.all([
        store.listMitmBaselines(target),
        store.listMitmResults(),
      ]);
      return c.json({
        baselines: safe(baselines),
        results: safe(
          results
            .filter((r) => target === undefined || r.target === target)
            .map((r) => ({
              target: r.target,
              status: r.status,
              checkedAt: r.checkedAt,
              result: parseResult(r.resultJson),
            })),
        ),
      });
    } catch (err) {
      return inputErrorResponse(err);
    }
  });
}

/** The stored JSON text as a value (the store keeps only JSON; null should it ever not parse). */
function parseResult(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
