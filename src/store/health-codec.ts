/**
 * @module store/health-codec
 * What both engines share for the monitor's own health (migration 5): argument checks,
 * the merge of a partial `MonitorStatusRecord` into the stored one, and row decoding. Pure.
 */
import { sanitizeText } from '../sanitize.js';
import { invalidArgument } from './errors.js';
import type { LogHealthRecord, MonitorStatusRecord } from './types.js';
import { cleanText, toIsoOrNull, toNumber, toIso } from './codec.js';

export const LOG_HEALTH_STATUSES: readonly LogHealthRecord['status'][] = [
  'ok',
  'unreachable',
  'misbehaving',
  'internal',
];

/** The documented bound on `lastError` / `logListError` (types.ts): sanitised, ≤ 500 characters. */
export const HEALTH_ERROR_MAX = 500;

function checkTime(what: string, value: string | null): void {
  if (value !== null && Number.isNaN(Date.parse(value))) throw invalidArgument(`${what} must be an ISO time`);
}

/** Normalises an error text from the outside (log bodies, HTTP errors) before it is stored. */
export function cleanHealthError(text: string | null): string | null {
  return text === null ? null : cleanText(sanitizeText(text, { maxLength: HEALTH_ERROR_MAX }));
}

/** Validates a health record and returns it as stored (error text sanitised and bounded). */
export function checkLogHealth(r: LogHealthRecord): LogHealthRecord {
  if (r.logId.trim() === '') throw invalidArgument('a log health record needs a log ID');
  if (!LOG_HEALTH_STATUSES.includes(r.status))
    throw invalidArgument(`unknown log status ${String(r.status)}`);
  checkTime('lastAttemptAt', r.lastAttemptAt);
  checkTime('lastContactAt', r.lastContactAt);
  checkTime('newestTreeTimestamp', r.newestTreeTimestamp);
  checkTime('updatedAt', r.updatedAt);
  if (r.newestTreeSize !== null && (!Number.isSafeInteger(r.newestTreeSize) || r.newestTreeSize < 0))
    throw invalidArgument('newestTreeSize must be a non-negative integer');
  return { ...r, url: cleanText(r.url), lastError: cleanHealthError(r.lastError) };
}

export function logHealthFromRow(r: Record<string, unknown>): LogHealthRecord {
  return {
    logId: String(r.log_id),
    url: String(r.url),
    status: r.status as LogHealthRecord['status'],
    lastAttemptAt: toIsoOrNull(r.last_attempt_at),
    lastContactAt: toIsoOrNull(r.last_contact_at),
    lastError: r.last_error === null || r.last_error === undefined ? null : String(r.last_error),
    newestTreeSize:
      r.newest_tree_size === null || r.newest_tree_size === undefined ? null : toNumber(r.newest_tree_size),
    newestTreeTimestamp: toIsoOrNull(r.newest_tree_timestamp),
    updatedAt: toIso(r.updated_at),
  };
}

/** What `getMonitorStatus` returns before the monitor ever wrote one. */
export const EMPTY_MONITOR_STATUS: Readonly<MonitorStatusRecord> = {
  logListSource: null,
  logListFetchedAt: null,
  logListError: null,
  lastCycleAt: null,
  inventoryErrors: 0,
  lastHeartbeatAt: null,
  monitoredLogIds: null,
};

/**
 * Applies `patch` to `current`: a key that is absent (or `undefined`) keeps the stored value, a
 * key set to `null` clears it. Unknown keys are refused so a typo cannot be silently dropped.
 */
export function mergeMonitorStatus(
  current: MonitorStatusRecord,
  patch: Partial<MonitorStatusRecord>,
): MonitorStatusRecord {
  const out: MonitorStatusRecord = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    switch (key) {
      case 'logListSource':
        out.logListSource =
          value === null ? null : cleanText(sanitizeText(String(value), { maxLength: 2000 }));
        break;
      case 'logListError':
        out.logListError = cleanHealthError(value === null ? null : String(value));
        break;
      case 'logListFetchedAt':
      case 'lastCycleAt':
      case 'lastHeartbeatAt':
        if (value !== null && (typeof value !== 'string' || Number.isNaN(Date.parse(value))))
          throw invalidArgument(`${key} must be an ISO time or null`);
        out[key] = value;
        break;
      case 'monitoredLogIds':
        if (value !== null && (!Array.isArray(value) || !value.every((v) => typeof v === 'string')))
          throw invalidArgument('monitoredLogIds must be a list of log IDs or null');
        out.monitoredLogIds = value === null ? null : [...new Set(value as string[])].sort();
        break;
      case 'inventoryErrors':
        if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
          throw invalidArgument('inventoryErrors must be a non-negative integer');
        out.inventoryErrors = value;
        break;
      default:
        throw invalidArgument(`unknown monitor status field ${key}`);
    }
  }
  return out;
}

export function monitorStatusFromRow(r: Record<string, unknown>): MonitorStatusRecord {
  return {
    logListSource: r.log_list_source === null ? null : String(r.log_list_source),
    logListFetchedAt: toIsoOrNull(r.log_list_fetched_at),
    logListError: r.log_list_error === null ? null : String(r.log_list_error),
    lastCycleAt: toIsoOrNull(r.last_cycle_at),
    inventoryErrors: toNumber(r.inventory_errors),
    lastHeartbeatAt: toIsoOrNull(r.last_heartbeat_at),
    monitoredLogIds: monitoredFromColumn(r.monitored_log_ids),
  };
}

/** The JSON list kept in `monitored_log_ids`; anything unreadable counts as "not said" (null). */
function monitoredFromColumn(v: unknown): string[] | null {
  if (typeof v !== 'string') return null;
  try {
    const parsed: unknown = JSON.parse(v);
    return Array.isArray(parsed) && parsed.every((x) => typeof x === 'string') ? parsed : null;
  } catch {
    return null;
  }
}

/** The monitor status as stored (`monitor_status` row, if any); the empty one when none was written. */
export function storedMonitorStatus(row: Record<string, unknown> | undefined): MonitorStatusRecord {
  return row === undefined ? { ...EMPTY_MONITOR_STATUS } : monitorStatusFromRow(row);
}

/** `monitored_log_ids` as written: the list as JSON text, or null. */
export function monitoredLogIdsColumn(s: MonitorStatusRecord): string | null {
  return s.monitoredLogIds === null ? null : JSON.stringify(s.monitoredLogIds);
}
