/**
 * @module monitor
 * The CT monitor: per-log sync with two cursors, watch lists, the internal check with its
 * heuristics, and the alert outbox. The store, notifiers and inventory scanner are injected.
 */
export { runCycle, cycleExitCode, recordInventory, staleHeadMessage } from './monitor.js';
export type { CycleDeps, CycleOptions, CycleResult } from './monitor.js';
export { syncLog } from './sync-log.js';
export type { SyncOptions, SyncResult } from './sync-log.js';
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
export { summarizeEntry } from './entry-summary.js';
export type { EntrySummary, MalformedSummary } from './entry-summary.js';
export { caaIdentifiersForIssuer } from './caa-issuers.js';
export { readConfigFile, resolveConfig } from './config.js';
export type { ConfigFile, MonitorConfig } from './config.js';
