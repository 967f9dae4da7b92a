/**
 * @module monitor
 * The CT monitor: per-log sync with two cursors, watch lists, the internal check with its
 * heuristics, and the alert outbox. The store, notifiers and inventory scanner are injected.
 */
export {
  attemptLog,
  cycleExitCode,
  healthRecord,
  OutboxDrainer,
  preparePass,
  recordInventory,
  runCycle,
  staleHeadMessage,
} from './monitor.js';
export type {
  AttemptOptions,
  CycleDeps,
  CycleOptions,
  CycleResult,
  MonitorLogger,
  PassContext,
} from './monitor.js';
export { MonitorDaemon, nextDelayMs } from './daemon.js';
export type { DaemonDeps, DaemonSettings } from './daemon.js';
export { classifyFailure, LogReadError, syncLog } from './sync-log.js';
export type { MatchedCertificate, SyncOptions, SyncResult, SyncStatus } from './sync-log.js';
export {
  eventOfAlert,
  inventoryUnreadableAlert,
  issuanceAlert,
  logStaleAlert,
  logUnreachableAlert,
  malformedAlert,
  misbehaviourAlert,
} from './events.js';
export type { MonitorAlert } from './events.js';
export { alertBackoff } from './alerts.js';
export type { RetryPolicy } from './alerts.js';
export { classify } from './classify.js';
export type { CaaVerdict, Classification, HistoryItem, IssuanceFacts, KnownIndex } from './classify.js';
export {
  buildFromEntries,
  buildWatchList,
  parseWatchEntry,
  parseWatchList,
  parseWatchListEntries,
  WatchListError,
} from './watchlist.js';
export type { WatchEntry, WatchList } from './watchlist.js';
export { entryNames, malformedSummary, summarizeEntry } from './entry-summary.js';
export type { EntrySummary, MalformedSummary } from './entry-summary.js';
export { caaIdentifiersForIssuer } from '../caa/index.js';
export { DEFAULT_LOG_LIMITS, limitsFor, readConfigFile, resolveConfig } from './config.js';
export type { ConfigFile, LogLimits, MonitorConfig } from './config.js';
export { MAX_CONCURRENCY } from './config.js';
export { logListStaleAlert } from './events.js';
export { historyFor, hostHashIndex, isKnown, loadKnownIndex } from './known.js';
export type { MonitorErrorCode } from './errors.js';
export { issuanceViews, loadIssuanceViewContext } from './issuance-view.js';
export type { AuthorizationView, IssuanceView, IssuanceViewContext } from './issuance-view.js';
