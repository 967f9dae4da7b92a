/**
 * @module monitor/alerts
 * From matched entries to alerts, and from the outbox to the sinks. An issuance is alerted once:
 * the alert key is `issuance:<TBS SHA-256>`, so a precertificate and its final certificate — or
 * the same certificate in several logs, or a batch replayed after a crash — enqueue one alert.
 * Delivery is at-least-once: an alert is marked delivered only after every sink accepted it.
 */
import { caaIdentifiersForIssuer, evaluateCaaMany } from '../caa/index.js';
import type { CaaResolverPort } from '../caa/index.js';
import type { MonitorEvent, Notifier } from '../notify/index.js';
import type { IssuanceInput, Store } from '../store/index.js';
import { classify } from './classify.js';
import type { CaaVerdict, KnownIndex } from './classify.js';
import { eventOfAlert, issuanceAlert } from './events.js';
import type { MonitorAlert } from './events.js';
import { isKnown, loadHistories } from './known.js';
import type { MatchedCertificate } from './sync-log.js';
import { issuanceFacts } from './issuance.js';
import type { WatchList } from './watchlist.js';

export interface AlertContext {
  store: Store;
  known: KnownIndex;
  watch: WatchList;
  /** Log ID → URL, for readable alerts. */
  logUrls: ReadonlyMap<string, string>;
  /** Resolver for the CAA heuristic, or null to skip it. */
  caaResolver: CaaResolverPort | null;
  caaIssuers: Readonly<Record<string, string[]>>;
  onWarning?: (message: string) => void;
}

/** Would the names' current CAA allow the issuing CA? Null when the issuer's identifiers are unknown. */
async function caaVerdict(i: IssuanceInput, ctx: AlertContext): Promise<CaaVerdict | null> {
  if (!ctx.caaResolver) return null;
  const ids = caaIdentifiersForIssuer(i.issuer, ctx.caaIssuers);
  if (ids.length === 0) return null;
  try {
    const results = await evaluateCaaMany(i.dnsNames, { issuerDomains: ids }, ctx.caaResolver);
    const denied = results.find((r) => r.decision === 'deny');
    if (denied) return { decision: 'deny', name: denied.name, explanation: denied.explanation };
    return {
      decision: results.some((r) => r.decision === 'error') ? 'error' : 'allow',
      name: i.dnsNames[0] ?? '',
      explanation: '',
    };
  } catch (err) {
    ctx.onWarning?.(`CAA check for ${i.dnsNames.join(', ')} failed: ${(err as Error).message}`);
    return null;
  }
}

export async function alertsForIssuances(
  issuances: readonly IssuanceInput[],
  certificates: ReadonlyMap<string, MatchedCertificate>,
  ctx: AlertContext,
): Promise<MonitorAlert[]> {
  const alerts: MonitorAlert[] = [];
  const seen = new Set<string>();
  const unknown: IssuanceInput[] = [];
  for (const i of issuances) {
    if (seen.has(i.tbsSha256)) continue;
    seen.add(i.tbsSha256);
    if (!isKnown(issuanceFacts(i), ctx.known)) unknown.push(i);
  }
  if (unknown.length === 0) return alerts;
  // The history of every name in the batch in one store query (per 1,000 names), as the pages do:
  // one query per issuance re-read the same busy names' issuances thousands of times a batch,
  // which on PostgreSQL left the monitor waiting on round trips most of its time.
  const histories = await loadHistories(
    ctx.store,
    unknown.flatMap((i) => i.dnsNames),
    ctx.known,
  );
  for (const i of unknown) {
    const facts = issuanceFacts(i);
    const history = histories.of(i.dnsNames);
    const verdict = classify(facts, ctx.known, history, await caaVerdict(i, ctx));
    if (verdict.known) continue;
    const cert = certificates.get(i.tbsSha256);
    alerts.push(
      issuanceAlert({
        issuance: i,
        severity: verdict.severity,
        reasons: verdict.reasons,
        watchItems: [...new Set(i.dnsNames.flatMap((n) => ctx.watch.matchingEntries(n)))],
        logUrl: ctx.logUrls.get(i.logId) ?? i.logId,
        ...(cert ? { der: cert.der, chain: cert.chain } : {}),
      }),
    );
  }
  return alerts;
}

/** Which failed alerts to try again now (the daemon drains every few seconds: a sink that is down
 * must not be hit that often). */
export interface RetryPolicy {
  due(id: number): boolean;
  failed(id: number): void;
  succeeded(id: number): void;
}

/**
 * Exponential backoff per failed alert, in memory: 10 s after the first failure, doubling, at most
 * 15 min. A restart retries everything once (the outbox itself is durable).
 */
export function alertBackoff(now: () => number = Date.now): RetryPolicy {
  const next = new Map<number, { at: number; failures: number }>();
  return {
    due: (id) => (next.get(id)?.at ?? 0) <= now(),
    failed: (id) => {
      const failures = (next.get(id)?.failures ?? 0) + 1;
      next.set(id, { at: now() + Math.min(900_000, 10_000 * 2 ** (failures - 1)), failures });
    },
    succeeded: (id) => void next.delete(id),
  };
}

export interface DeliveryReport {
  delivered: number;
  failed: number;
  /** Issuances that became known (e.g. the inventory caught up) before their alert went out. */
  skipped: number;
}

/**
 * Sends pending alerts through every sink. An alert whose issuance is now known is not sent (the
 * ACME client saved its certificate after CT logged the precertificate).
 */
export async function deliverPendingAlerts(
  store: Store,
  notifiers: readonly Notifier[],
  known: KnownIndex,
  onError?: (message: string) => void,
  retry?: RetryPolicy,
): Promise<DeliveryReport> {
  const report: DeliveryReport = { delivered: 0, failed: 0, skipped: 0 };
  // An alert that fails stays pending; it is retried on a later drain (when `retry` allows it).
  for (const alert of await store.pendingAlerts(1000)) {
    if (retry && !retry.due(alert.id)) continue;
    let event: MonitorEvent;
    try {
      event = eventOfAlert(alert);
    } catch (err) {
      // Not an event: retrying cannot help, and it must not block the alerts behind it.
      await store.markAlertFailed(alert.id, (err as Error).message);
      await store.markAlertDelivered(alert.id);
      onError?.((err as Error).message);
      report.failed++;
      continue;
    }
    if (event.type === 'issuance' && isKnown(event.issuance, known)) {
      await store.markAlertDelivered(alert.id);
      report.skipped++;
      continue;
    }
    const failures: string[] = [];
    await Promise.all(
      notifiers.map((n) =>
        n.send(event).catch((err: unknown) => {
          failures.push(`${n.name}: ${(err as Error).message}`);
        }),
      ),
    );
    if (failures.length === 0) {
      await store.markAlertDelivered(alert.id);
      retry?.succeeded(alert.id);
      report.delivered++;
    } else {
      retry?.failed(alert.id);
      await store.markAlertFailed(alert.id, failures.join('; '));
      onError?.(`alert ${alert.key} not delivered: ${failures.join('; ')}`);
      report.failed++;
    }
  }
  return report;
}
