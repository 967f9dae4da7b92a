/**
 * @module server
 * `certvigil serve`: the web dashboard, the HTTP API and Prometheus metrics over the monitor's
 * store, with access control. `createApp` builds the app; `listen` serves it.
 */
export { createApp } from './app.js';
export type { AppEnv, Principal, ServerCapabilities, ServerDeps, ServerLogger } from './types.js';
export { listen } from './listen.js';
export type { Listening, ListenOptions } from './listen.js';
export { AUDIT_INTERVAL_MS, startAuditSchedule } from './api/index.js';
export type { AuditSchedule } from './api/index.js';
// What `certvigil token` and `certvigil user` need to create credentials the server accepts.
export { hashPassword, newToken, TOKEN_PREFIX } from './auth/secrets.js';
export { accessNameProblem, MIN_PASSWORD_LENGTH, passwordProblem, userNameProblem } from './auth/login.js';
