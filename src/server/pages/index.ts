/**
 * @module server/pages
 * The dashboard's pages: server-rendered HTML that works without JavaScript (layout.ts explains
 * the escaping and the CSP). Every page reads the store in bounded pages (never `listIssuances`),
 * so they stay fast on 100k issuances.
 */
import type { Hono } from 'hono';
import type { AppEnv, ServerDeps } from '../types.js';
import { registerCertificates } from './certificates.js';
import { viewContextCache } from './context.js';
import { registerDomains } from './domains.js';
import { registerOverview } from './overview.js';
import { registerReports } from './reports.js';

export function registerPages(app: Hono<AppEnv>, deps: ServerDeps): void {
  const contexts = viewContextCache(deps.store);
  registerOverview(app, deps, contexts);
  registerCertificates(app, deps, contexts);
  registerDomains(app, deps);
  registerReports(app, deps);
}
