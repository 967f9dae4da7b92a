/**
 * @module server/api
 * The HTTP API `/api/v1/…` (JSON; documented in `openapi.ts`, served at `/api/v1/openapi.json`).
 * Every route runs after `requireAuth` and `csrfProtection` (app.ts); a state change also needs
 * the `admin` role (`requireRole`), set on the route itself.
 */
import type { Hono } from 'hono';
import { packageVersion } from '../../package-files.js';
import type { AppEnv, ServerDeps } from '../types.js';
import { registerAlertsApi } from './alerts.js';
import { registerHostApi } from './hosts.js';
import { registerCertificatesApi } from './certificates.js';
import { registerDomainsApi } from './domains.js';
import { registerIodefApi } from './iodef.js';
import { registerIssuancesApi } from './issuances.js';
import { registerLogsApi } from './logs.js';
import { registerMitmApi } from './mitm.js';
import { openApiDocument } from './openapi.js';
import { viewSource } from './views.js';

export { startAuditSchedule, AUDIT_INTERVAL_MS, AUDIT_CONCURRENCY } from './domains.js';
export type { AuditSchedule } from './domains.js';
export { encodeCursor, decodeCursor } from './params.js';

export function registerApi(app: Hono<AppEnv>, deps: ServerDeps): void {
  const now = deps.now ?? (() => new Date());
  const views = viewSource(deps.store, () => now().getTime());
  registerCertificatesApi(app, deps.store, views);
  registerIssuancesApi(app, deps.store, views);
  registerLogsApi(app, deps.store, now);
  registerAlertsApi(app, deps.store);
  registerDomainsApi(app, deps);
  registerIodefApi(app, deps.store);
  registerMitmApi(app, deps.store);
  // Host inventories (`inventory push`, `check internal`): the distributed-check part, hosts.ts.
  registerHostApi(app, deps);
  const document = openApiDocument(packageVersion());
  app.get('/api/v1/openapi.json', (c) => c.json(document));
}
