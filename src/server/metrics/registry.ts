/**
 * @module server/metrics/registry
 * The metric families of `/metrics` on one prom-client `Registry` per app (never the global
 * `register`: two apps in one process, e.g. `monitor --serve` beside tests, must neither share
 * series nor fail with "metric already registered").
 *
 * Every family is a Gauge whose `collect()` callback sets its series from the snapshot of the
 * current scrape (`resetting` first, so a log that left the list or a label that no longer applies
 * disappears instead of keeping its last value). Gauges, not counters, even for counts that only
 * grow in practice: they are stored totals read at scrape time, and retention (iodef reports) can
 * lower them; `increase()`/`deriv()` work on them as on any gauge.
 *
 * Process metrics: prom-client's default collectors on the same registry, under their standard
 * names (`process_cpu_seconds_total`, `process_resident_memory_bytes`, `nodejs_*`), not prefixed
 * with `certvigil_`: those names are what the Prometheus client-library guidelines define for
 * every exporter, so existing dashboards and alert rules for process CPU, memory and open file
 * descriptors work unchanged, and the `job`/`instance` labels already say which process it is.
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { LogView } from '../../health/index.js';
import { sanitizeText } from '../../sanitize.js';
import type { FastSnapshot, SlowSnapshot } from './snapshot.js';
import { LOG_STATUSES } from './tally.js';

export interface ScrapeState {
  fast: FastSnapshot;
  /** Null while the expensive part has not been computed yet (or failed): its families are empty. */
  slow: SlowSnapshot | null;
  now: Date;
}

/** What the registry reads while it collects (set by the route before each `metrics()` call). */
export interface ScrapeSource {
  current(): ScrapeState | null;
}

type LogLabels = 'log_id' | 'url';

/** prom-client 15 default gauges with a counter suffix; see `buildRegistry`. */
const UNCONVENTIONAL_DEFAULT_METRICS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/** A log's labels: its ID (base64, bounded by the log list) and its URL, sanitised and cut. */
function logLabels(l: LogView): Record<LogLabels, string> {
  // Both come from the log list and the store (outside text): controls, bidi overrides and
  // separators become visible escapes, and the length is bounded; prom-client escapes `\`, `"`
  // and LF of label values per the text format.
  return { log_id: sanitizeText(l.logId, { maxLength: 100 }), url: sanitizeText(l.url, { maxLength: 200 }) };
}

export function buildRegistry(source: ScrapeSource, options: { processMetrics: boolean }): Registry {
  const registry = new Registry();

  /** A gauge filled from the scrape state; `fill` runs only when there is one. */
  function gauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (g: Gauge<L>, s: ScrapeState) => void,
  ): void {
    new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        // prom-client's reset() leaves a label-less gauge at 0, and 0 is a value ("the log list is
        // fresh"): an unknown value must be no sample instead, so `fill` re-creates it only when known.
        if (labelNames.length === 0) this.remove({});
        const s = source.current();
        if (s !== null) fill(this, s);
      },
    });
  }

  /** A gauge filled from the expensive part of the scrape state; empty while there is none. */
  function slowGauge<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    fill: (g: Gauge<L>, slow: SlowSnapshot, s: ScrapeState) => void,
  ): void {
    gauge<L>(name, help, labelNames, (g, s) => {
      if (s.slow !== null) fill(g, s.slow, s);
    });
  }

  const perLog = (name: string, help: string, value: (l: LogView) => number | null): void =>
    gauge<LogLabels>(name, help, ['log_id', 'url'], (g, s) => {
      for (const l of s.fast.report.logs) {
        const v = value(l);
        if (v !== null) g.set(logLabels(l), v);
      }
    });

  // Per log, as `certvigil status` shows it (only the logs the monitor reads now).
  perLog(
    'certvigil_log_tree_size',
    'Newest tree size the log showed (its newest signed tree head, verified or not).',
    (l) => l.treeSize,
  );
  perLog(
    'certvigil_log_position',
    'Entries of the log processed and committed: the next entry index to download.',
    (l) => l.position,
  );
  perLog(
    'certvigil_log_backlog',
    'Entries the log published that the monitor has not processed yet (tree size minus position).',
    (l) => l.backlog,
  );
  perLog(
    'certvigil_log_verified_tree_size',
    'Size of the last signed tree head whose root matched the downloaded entries.',
    (l) => l.verifiedSize,
  );
  perLog(
    'certvigil_log_last_verified_age_seconds',
    'Seconds since the moment up to which everything the log published was verified (as check monitor --max-age compares); absent when never verified.',
    (l) => l.behindSeconds,
  );
  gauge<LogLabels | 'status'>(
    'certvigil_log_status',
    'Health of the last attempt to read the log: 1 for its current status (ok, unreachable = fetch errors, misbehaving, internal, unknown), 0 for the others.',
    ['log_id', 'url', 'status'],
    (g, s) => {
      for (const l of s.fast.report.logs)
        for (const status of LOG_STATUSES) g.set({ ...logLabels(l), status }, l.status === status ? 1 : 0);
    },
  );
  gauge<'status'>(
    'certvigil_logs',
    'Monitored logs by the status of their last attempt (unreachable: network or HTTP fetch errors).',
    ['status'],
    (g, s) => {
      for (const status of LOG_STATUSES)
        g.set({ status }, s.fast.report.logs.filter((l) => l.status === status).length);
    },
  );
  slowGauge<LogLabels>(
    'certvigil_log_malformed_entries',
    'Log entries that could not be parsed (kept as malformed records), per log.',
    ['log_id', 'url'],
    (g, slow, s) => {
      for (const l of s.fast.report.logs) g.set(logLabels(l), slow.malformedByLog.get(l.logId) ?? 0);
    },
  );

  // The monitor as a whole.
  gauge(
    'certvigil_log_list_age_seconds',
    'Seconds since the log list was last fetched; absent when never.',
    [],
    (g, s) => {
      const age = s.fast.report.logList.ageSeconds;
      if (age !== null) g.set(age);
    },
  );
  gauge('certvigil_log_list_error', '1 when the last refresh of the log list failed, else 0.', [], (g, s) =>
    g.set(s.fast.report.logList.error === null ? 0 : 1),
  );
  gauge(
    'certvigil_monitor_last_cycle_age_seconds',
    'Seconds since the monitor last finished a pass over its logs (its heartbeat); absent when never.',
    [],
    (g, s) => {
      // An unreadable time is no sample, not NaN: "absent" is what an alert rule can test for.
      const at = s.fast.report.lastCycleAt === null ? Number.NaN : Date.parse(s.fast.report.lastCycleAt);
      if (!Number.isNaN(at)) g.set(Math.max(0, Math.round((s.now.getTime() - at) / 1000)));
    },
  );
  gauge(
    'certvigil_inventory_errors',
    'Inventory paths that could not be scanned in the last scan.',
    [],
    (g, s) => g.set(s.fast.report.inventoryErrors),
  );

  // Issuances.
  gauge(
    'certvigil_issuances_stored',
    'Issuances stored (a precertificate and its certificate are one).',
    [],
    (g, s) => g.set(s.fast.issuancesStored),
  );
  slowGauge<'known' | 'severity'>(
    'certvigil_issuances',
    'Classified issuances (the newest ones, up to the classification cap) by known (true: in the inventory or authorised) and severity, recomputed at most every 60 s.',
    ['known', 'severity'],
    (g, slow) => {
      for (const known of ['true', 'false'] as const)
        for (const [severity, n] of Object.entries(slow.issuances[known])) g.set({ known, severity }, n);
    },
  );
  slowGauge(
    'certvigil_issuances_unclassified',
    'Stored issuances older than the classification cap, not counted in certvigil_issuances.',
    [],
    (g, slow, s) => g.set(Math.max(0, s.fast.issuancesStored - slow.classified)),
  );
  slowGauge(
    'certvigil_issuances_classification_age_seconds',
    'Age of the known/unknown classification behind certvigil_issuances.',
    [],
    (g, slow, s) => g.set(Math.max(0, (s.now.getTime() - slow.at.getTime()) / 1000)),
  );

  // Alerts.
  gauge<'kind'>(
    'certvigil_alerts_pending',
    'Alerts not delivered yet, by kind (the oldest 10,000 are counted).',
    ['kind'],
    (g, s) => {
      for (const [kind, n] of Object.entries(s.fast.pendingByKind)) g.set({ kind }, n);
    },
  );
  gauge(
    'certvigil_alerts_pending_oldest_age_seconds',
    'Seconds the oldest undelivered alert has been waiting; absent when none waits.',
    [],
    (g, s) => {
      const age = s.fast.report.oldestPendingAlertAgeSeconds;
      if (age !== null) g.set(age);
    },
  );
  slowGauge<'kind'>(
    'certvigil_alerts_delivered',
    'Alerts delivered (every sink accepted them; the store does not record sinks per delivery), by kind.',
    ['kind'],
    (g, slow) => {
      for (const [kind, n] of Object.entries(slow.alerts.delivered)) g.set({ kind }, n);
    },
  );
  slowGauge<'sink' | 'state'>(
    'certvigil_alerts_failed',
    'Alerts whose last failed delivery attempt named the sink (email, exec, stdout, webhook, other), by whether the alert is still pending (retried) or was delivered since.',
    ['sink', 'state'],
    (g, slow) => {
      for (const [sink, byState] of Object.entries(slow.alerts.failed)) {
        g.set({ sink, state: 'pending' }, byState.pending);
        g.set({ sink, state: 'delivered' }, byState.delivered);
      }
    },
  );

  // iodef (RFC 7970 reports received by `iodef serve`).
  slowGauge<'channel'>(
    'certvigil_iodef_reports_received',
    'IODEF reports received and stored (after deduplication and retention), by channel.',
    ['channel'],
    (g, slow) => {
      for (const [channel, n] of Object.entries(slow.iodefReceived)) g.set({ channel }, n);
    },
  );

  if (options.processMetrics) {
    collectDefaultMetrics({ register: registry });
    // prom-client's gauges named `…_total` break the exposition conventions (`_total` is for
    // counters; `promtool check metrics` refuses them). Each is the sum over the `type` label of
    // the family without the suffix (`sum(nodejs_active_handles)`), so nothing is lost.
    for (const name of UNCONVENTIONAL_DEFAULT_METRICS) registry.removeSingleMetric(name);
  }
  return registry;
}
