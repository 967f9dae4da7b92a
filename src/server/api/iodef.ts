/**
 * @module server/api/iodef
 * `GET /api/v1/iodef/reports?limit=N`: the IODEF reports (RFC 7970) CAs sent to this domain owner
 * (`iodef serve`), newest first. Every field is the sender's text: sanitised; the document itself
 * is left out (it can be large; `iodef list --json` has it).
 */
import type { Hono } from 'hono';
import type { Store } from '../../store/index.js';
import type { AppEnv } from '../types.js';
import { inputErrorResponse, limitParam } from './params.js';
import { safe } from './views.js';

export const DEFAULT_IODEF_LIMIT = 100;

export function registerIodefApi(app: Hono<AppEnv>, store: Store): void {
  app.get('/api/v1/iodef/reports', async (c) => {
    try {
      const limit = limitParam(c.req.query('limit'), DEFAULT_IODEF_LIMIT);
      const all = await store.listReceivedIodef();
      const reports = all
        .slice()
        .reverse()
        .slice(0, limit)
        .map(({ document, ...rest }) => ({ ...rest, documentBytes: Buffer.byteLength(document, 'utf8') }));
      return c.json({ reports: safe(reports), total: all.length });
    } catch (err) {
      return inputErrorResponse(err);
    }
  });
}
