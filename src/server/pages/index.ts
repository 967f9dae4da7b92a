/**
 * @module server/pages
 * The dashboard's pages: server-rendered HTML that works without JavaScript.
 */
import type { Hono } from 'hono';
import type { AppEnv, ServerDeps } from '../types.js';

export function registerPages(app: Hono<AppEnv>, deps: ServerDeps): void {
  void app;
  void deps;
}
