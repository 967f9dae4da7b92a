/**
 * @module health/verdict
 * `certvigil check monitor`: is the monitor itself healthy? A pure decision over a `HealthReport`
 * (health/report.ts), in the monitoring-plugins vocabulary (OK, WARNING, CRITICAL, UNKNOWN).
 *
 * CRITICAL (the monitor is not doing its job, or a log broke its promises):
 * - a log is `misbehaving` (cryptographic evidence: a root mismatch, an inconsistent head);
 * - a log is `internal` (our bug or the store failed on it: logged with its stack);
 * - a log was not verified within `maxAge`: `now − verifiedAt` > maxAge, or never verified
 *   (`verifiedAt` is defined by `verifiedThrough` in report.ts);
 * - an alert has waited undelivered longer than `maxAge`.
 * WARNING (softer, may heal by itself):
 * - a log is `unreachable` but still verified within `maxAge`;
 * - a pending alert's last delivery attempt failed (still younger than `maxAge`);
 * - the log list could not be refreshed (an error is recorded), or it is older than `logListMaxAge`;
 * - the last inventory scan had errors.
 * UNKNOWN: the state holds no log at all (the monitor never ran on it).
 */
import type { Finding, PerfDatum, PluginStatus } from '../probe/index.js';
import { worstStatus } from '../probe/index.js';
import type { HealthReport, LogView } from './report.js';

export const DEFAULT_MAX_AGE_S = 3600;
/** The log list is refreshed hourly; a day without a good copy is worth a look. */
export const DEFAULT_LOG_LIST_MAX_AGE_S = 86_400;

export interface VerdictOptions {
  maxAgeSeconds: number;
  logListMaxAgeSeconds: number;
}

export interface MonitorVerdict {
  status: PluginStatus;
  summary: string;
  findings: Finding[];
  perfdata: PerfDatum[];
}

/** A rough age for people: `45s`, `12m`, `1h`, `1h 30m`, `5h`, `3d` (rounded down). */
export function roughAge(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 7200) {
    const m = Math.floor((seconds % 3600) / 60);
    return m === 0 ? '1h' : `1h ${m}m`;
  }
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

function isStale(log: LogView, maxAge: number): boolean {
  return log.behindSeconds === null || log.behindSeconds > maxAge;
}

function names(logs: readonly LogView[]): string {
  const shown = logs.slice(0, 3).map((l) => l.url);
  return shown.join(', ') + (logs.length > shown.length ? ` and ${logs.length - shown.length} more` : '');
}

export function monitorVerdict(r: HealthReport, o: VerdictOptions): MonitorVerdict {
  const maxAge = o.maxAgeSeconds;
  const findings: Finding[] = [];
  const critical: string[] = [];
  const warning: string[] = [];

  const misbehaving = r.logs.filter((l) => l.status === 'misbehaving');
  const internal = r.logs.filter((l) => l.status === 'internal');
  const stale = r.logs.filter((l) => isStale(l, maxAge));
  const unreachable = r.logs.filter((l) => l.status === 'unreachable' && !isStale(l, maxAge));

  for (const l of misbehaving)
    findings.push({
      id: 'log-misbehaving',
      severity: 'critical',
      address: l.url,
      message: l.lastError ?? 'the log presented cryptographic evidence of misbehaviour',
    });
  for (const l of internal)
    findings.push({
      id: 'internal-error',
      severity: 'critical',
      address: l.url,
      message: l.lastError ?? 'the monitor failed on this log (see its log for the stack)',
    });
  for (const l of stale)
    findings.push({
      id: 'log-stale',
      severity: 'critical',
      address: l.url,
      message:
        l.behindSeconds === null
          ? 'never verified'
          : `verified up to ${l.verifiedAt ?? '?'} (${roughAge(l.behindSeconds)} ago, limit ${roughAge(maxAge)})` +
            (l.backlog ? `, ${l.backlog} entries behind` : '') +
            (l.lastError ? `; last error: ${l.lastError}` : ''),
    });
  for (const l of unreachable)
    findings.push({
      id: 'log-unreachable',
      severity: 'warning',
      address: l.url,
      message: `${l.lastError ?? 'unreachable'} (verified ${roughAge(l.behindSeconds ?? 0)} ago)`,
    });
  if (misbehaving.length > 0) critical.push(`${misbehaving.length} misbehaving (${names(misbehaving)})`);
  if (internal.length > 0) critical.push(`${internal.length} with internal errors (${names(internal)})`);
  if (stale.length > 0)
    critical.push(
      `${stale.length} of ${r.logs.length} logs not verified within ${roughAge(maxAge)} (${names(stale)})`,
    );
  if (unreachable.length > 0) warning.push(`${unreachable.length} unreachable (${names(unreachable)})`);

  const alertAge = r.oldestPendingAlertAgeSeconds;
  const pending = `${r.pendingAlerts}${r.pendingAlertsTruncated ? '+' : ''}`;
  if (alertAge !== null && alertAge > maxAge) {
    critical.push(`${pending} alerts undelivered, oldest ${roughAge(alertAge)}`);
    findings.push({
      id: 'alert-undelivered',
      severity: 'critical',
      address: '*',
      message: `the oldest undelivered alert was queued at ${r.oldestPendingAlertAt ?? '?'} (${roughAge(alertAge)} ago)`,
    });
  } else if (r.failingAlerts > 0) {
    warning.push(`${r.failingAlerts} alert deliveries failing`);
    findings.push({
      id: 'alert-delivery-failing',
      severity: 'warning',
      address: '*',
      message: `${r.failingAlerts} pending alerts failed their last delivery attempt`,
    });
  }

  const listAge = r.logList.ageSeconds;
  if (r.logList.error !== null) {
    warning.push('log list not refreshed');
    findings.push({ id: 'log-list-error', severity: 'warning', address: '*', message: r.logList.error });
  } else if (listAge !== null && listAge > o.logListMaxAgeSeconds) {
    warning.push(`log list ${roughAge(listAge)} old`);
    findings.push({
      id: 'log-list-stale',
      severity: 'warning',
      address: '*',
      message: `the log list was fetched at ${r.logList.fetchedAt ?? '?'} (limit ${roughAge(o.logListMaxAgeSeconds)})`,
    });
  }
  if (r.inventoryErrors > 0) {
    warning.push(`${r.inventoryErrors} inventory errors`);
    findings.push({
      id: 'inventory-errors',
      severity: 'warning',
      address: '*',
      message: `${r.inventoryErrors} inventory paths could not be scanned`,
    });
  }

  const maxBehind = r.logs.reduce((m, l) => Math.max(m, l.behindSeconds ?? 0), 0);
  const perfdata: PerfDatum[] = [
    { label: 'logs', value: r.logs.length, uom: '', min: 0 },
    { label: 'stale', value: stale.length, uom: '', min: 0 },
    { label: 'misbehaving', value: misbehaving.length, uom: '', min: 0 },
    { label: 'unreachable', value: r.logs.filter((l) => l.status === 'unreachable').length, uom: '', min: 0 },
    { label: 'max_behind', value: maxBehind, uom: 's', crit: maxAge, min: 0 },
    {
      label: 'backlog',
      value: r.logs.reduce((s, l) => s + (l.backlog ?? 0), 0),
      uom: '',
      min: 0,
    },
    { label: 'pending_alerts', value: r.pendingAlerts, uom: '', min: 0 },
    { label: 'oldest_alert_age', value: alertAge ?? 0, uom: 's', crit: maxAge, min: 0 },
    ...(listAge === null
      ? []
      : [{ label: 'log_list_age', value: listAge, uom: 's' as const, warn: o.logListMaxAgeSeconds, min: 0 }]),
    { label: 'inventory_errors', value: r.inventoryErrors, uom: '', min: 0 },
  ];

  if (r.logs.length === 0)
    return {
      status: 'UNKNOWN',
      summary: 'no log monitored in this state yet (run `certvigil monitor`)',
      findings,
      perfdata,
    };

  const status = worstStatus([
    ...(critical.length > 0 ? (['CRITICAL'] as const) : []),
    ...(warning.length > 0 ? (['WARNING'] as const) : []),
  ]);
  const summary =
    status === 'OK'
      ? `${r.logs.length} logs verified within ${roughAge(maxAge)}, max ${roughAge(maxBehind)} behind; ${r.pendingAlerts} alerts pending`
      : [...critical, ...warning].join('; ');
  return { status, summary, findings, perfdata };
}
