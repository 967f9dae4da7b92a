/**
 * @module health
 * The monitor's own health: one view per log (`buildHealthReport`), the plugin verdict
 * (`monitorVerdict`), the heartbeat schedule (`heartbeatDue`) — pure — and the one read of the
 * store they are built from (`readHealthReport`).
 */
export { buildHealthReport, verifiedThrough } from './report.js';
export type { HealthInput, HealthReport, LogStatus, LogView } from './report.js';
export { DEFAULT_LOG_LIST_MAX_AGE_S, DEFAULT_MAX_AGE_S, monitorVerdict, roughAge } from './verdict.js';
export type { MonitorVerdict, VerdictOptions } from './verdict.js';
export { PENDING_ALERTS_CAP, readHealth, readHealthReport } from './read.js';
export type { HealthRead } from './read.js';
export { unitsView } from './workers.js';
export type { UnitsView, WorkerView } from './workers.js';
