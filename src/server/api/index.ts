/**
 * @module server/api
 * The HTTP API `/api/v1/…` (JSON; documented in `openapi.json`, served at `/api/v1/openapi.json`).
 */
import type { Hono } from 'hono';
import type { AppEnv, ServerDeps } from '../types.js';
import { registerHostApi } from './hosts.js';

export function registerApi(app: Hono<AppEnv>, deps: ServerDeps): void {
  void app;
  void deps;
  registerHostApi(app, deps);
}
