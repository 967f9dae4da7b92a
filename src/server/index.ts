/**
 * @module server
 * `certvigil serve`: the web dashboard, the HTTP API and Prometheus metrics over the monitor's
 * store, with access control. `createApp` builds the app; `listen` serves it.
 */
export { createApp } from './app.js';
export type { AppEnv, Principal, ServerCapabilities, ServerDeps, ServerLogger } from './types.js';
