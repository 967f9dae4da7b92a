/**
 * @module server/metrics/tally
 * Pure counting for `/metrics`: the store's records reduced to small label sets. Every label value
 * produced here comes from a closed list (alert kinds, sink names, severities, iodef channels, log
 * statuses) or is a log's ID or URL, so a metric can never grow a series per DNS name or
 * certificate hash (Prometheus' "do not use labels for unbounded values").
 */
import type { AlertRecord, IodefReceivedRecord, LogHealthRecord } from '../../store/index.js';

/**
 * The names the notifiers give themselves (`Notifier.name` in src/notify: stdout, email, exec,
 * webhook). A delivery failure is recorded as `NAME: message; NAME: message`
 * (monitor/alerts.ts `deliverPendingAlerts`); anything else counts as `other`.
 */
export const SINKS = ['email', 'exec', 'stdout', 'webhook'] as const;
export type SinkLabel = (typeof SINKS)[number] | 'other';

export const ALERT_KINDS = [
  'issuance',
  'misbehaviour',
  'health',
  'malformed',
] as const satisfies readonly AlertRecord['kind'][];

export const LOG_STATUSES = [
  'ok',
  'unreachable',
  'misbehaving',
  'internal',
  'unknown',
] as const satisfies readonly (LogHealthRecord['status'] | 'unknown')[];

export const IODEF_CHANNELS = [
  'https',
  'smtp',
  'file',
] as const satisfies readonly IodefReceivedRecord['channel'][];

export const SEVERITIES = ['info', 'warning', 'critical'] as const;

/** The sinks a recorded delivery error names; `other` when it names none (e.g. an unreadable payload). */
export function sinksOfError(lastError: string): SinkLabel[] {
  const named = SINKS.filter((s) => lastError.startsWith(`${s}: `) || lastError.includes(`; ${s}: `));
  return named.length > 0 ? named : ['other'];
}

export interface AlertTally {
  /** Not delivered yet, by kind. */
  pending: Record<string, number>;
  /** Delivered (every sink accepted it, or given up as undeliverable), by kind. */
  delivered: Record<string, number>;
  /**
   * Alerts whose last failed delivery named the sink, by sink then by state (`pending`: still
   * failing, will be retried; `delivered`: failed before, went out later or was given up).
   */
  failed: Record<SinkLabel, { pending: number; delivered: number }>;
}

/** Zero for every label value of the closed list, so a series exists (at 0) before its first event. */
function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}

export function tallyAlerts(
  alerts: readonly Pick<AlertRecord, 'kind' | 'deliveredAt' | 'lastError'>[],
): AlertTally {
  const t: AlertTally = {
    pending: zeros(ALERT_KINDS),
    delivered: zeros(ALERT_KINDS),
    failed: Object.fromEntries(
      [...SINKS, 'other'].map((s) => [s, { pending: 0, delivered: 0 }]),
    ) as AlertTally['failed'],
  };
  for (const a of alerts) {
    // A kind outside the list cannot come from the store's codec; counted under its own name
    // would let a corrupt row mint a series, so it is folded into nothing.
    const state = a.deliveredAt === null ? 'pending' : 'delivered';
    if ((ALERT_KINDS as readonly string[]).includes(a.kind)) t[state][a.kind] = (t[state][a.kind] ?? 0) + 1;
    if (a.lastError !== null) for (const s of sinksOfError(a.lastError)) t.failed[s][state]++;
  }
  return t;
}

/** Received iodef reports by channel. */
export function tallyIodef(reports: readonly Pick<IodefReceivedRecord, 'channel'>[]): Record<string, number> {
  const t = zeros(IODEF_CHANNELS);
  for (const r of reports) if (r.channel in t) t[r.channel]++;
  return t;
}

/** Classified issuances by known (`true`/`false`) and severity. */
export type IssuanceTally = Record<'true' | 'false', Record<string, number>>;

export function tallyIssuances(views: readonly { known: boolean; severity: string }[]): IssuanceTally {
  const t: IssuanceTally = { true: zeros(SEVERITIES), false: zeros(SEVERITIES) };
  for (const v of views) {
    const sev = (SEVERITIES as readonly string[]).includes(v.severity) ? v.severity : 'info';
    const row = t[v.known ? 'true' : 'false'];
    row[sev] = (row[sev] ?? 0) + 1;
  }
  return t;
}

/** Adds `b` into `a` (page by page classification). */
export function addIssuanceTally(a: IssuanceTally, b: IssuanceTally): IssuanceTally {
  for (const k of ['true', 'false'] as const)
    for (const [sev, n] of Object.entries(b[k])) a[k][sev] = (a[k][sev] ?? 0) + n;
  return a;
}

/** Malformed entries by log ID. */
export function tallyMalformed(rows: readonly { logId: string }[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of rows) m.set(r.logId, (m.get(r.logId) ?? 0) + 1);
  return m;
}
