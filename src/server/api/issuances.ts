/**
 * @module server/api/issuances
 * `GET /api/v1/issuances?after=CURSOR&limit=N`: the cursor feed of issuances, oldest first, for the
 * distributed internal check and any other poller. `next` is always returned: the position after the
 * last issuance of the page, or the `after` given when there was nothing new (poll again with it).
 * The order is the store's (first commit time, then TBS hash); a poller that keeps `next` sees each
 * issuance once, as long as commits are not back-dated (two commits in the same millisecond are
 * ordered by hash, so one could land just before a cursor taken between them: a rare re-poll with
 * the previous cursor finds it).
 */
import type { Hono } from 'hono';
import type { Store } from '../../store/index.js';
import type { AppEnv } from '../types.js';
import { decodeCursor, encodeCursor, inputErrorResponse, limitParam } from './params.js';
import type { ViewSource } from './views.js';

// 50, not 100: each item's view weighs the history of each of its names (up to HISTORY_DEPTH
// issuances a name), so a page spanning 50 busy domains stays well under 200 ms at 100k stored
// issuances (bench/server.ts); a client that wants more asks for `limit` up to 1000.
export const DEFAULT_FEED_LIMIT = 50;

export function registerIssuancesApi(app: Hono<AppEnv>, store: Store, views: ViewSource): void {
  app.get('/api/v1/issuances', async (c) => {
    try {
      const after = decodeCursor(c.req.query('after'), 'after');
      const limit = limitParam(c.req.query('limit'), DEFAULT_FEED_LIMIT);
      const page = await store.pageIssuances({
        ...(after !== undefined ? { after } : {}),
        order: 'asc',
        limit,
      });
      const last = page[page.length - 1];
      const next = last
        ? encodeCursor({ firstSeen: last.firstSeen, tbsSha256: last.tbsSha256 })
        : after !== undefined
          ? encodeCursor(after)
          : null;
      return c.json({ issuances: await views.views(page), next });
    } catch (err) {
      return inputErrorResponse(err);
    }
  });
}
