/**
 * @module iodef/reporter/deliver
 * Delivers the queued CAA iodef reports (RFC 8659 §4.4) from the store's outbox: each due report
 * is re-checked against the policy, sent once over its channel (transport-mail.ts for mailto:,
 * transport-https.ts for RFC 6546 https:), then marked sent, or failed with an exponential,
 * jittered retry time (policy.ts `nextAttemptAt`), or given up after `maxAttempts` or on a
 * permanent refusal. A crash between the delivery and the mark leaves the report due, so it is
 * sent again: at-least-once. Both channels make the copy recognisable: the mail keeps its
 * Message-ID, the POST its incident id (compose.ts).
 */
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import type { IodefOutboxRecord, Store } from '../../store/index.js';
import { DeliveryError } from './delivery-error.js';
import { nextAttemptAt, optedOut } from './policy.js';
import type { ReporterPolicy } from './policy.js';
import { parseIodefValue } from './targets.js';
import { postReport } from './transport-https.js';
import type { HttpsOptions } from './transport-https.js';
import { mailSender } from './transport-mail.js';

export interface DrainOptions {
  policy: ReporterPolicy;
  /** Mail `From` (the CA's reporting address); its domain is the Message-ID's right-hand side. */
  from: string;
  /** nodemailer SMTP transport options; needed only when a mailto report is due. */
  smtp?: SMTPTransport.Options;
  https?: HttpsOptions;
  /** The drain's clock: what is due, and the base of retry times. Default: now. */
  now?: Date;
  signal?: AbortSignal;
  /** Reports fetched per round; default 100. */
  batchSize?: number;
  /** Jitter source in [0, 1); default Math.random. */
  random?: () => number;
}

export type DeliveryStatus = 'sent' | 'retry' | 'gave-up';

export interface DeliveryOutcome {
  id: number;
  recipient: string;
  incidentId: string;
  status: DeliveryStatus;
  /** The failure, when not sent. */
  error: string | null;
  nextAttemptAt: string | null;
}

export interface DrainResult {
  sent: number;
  retry: number;
  gaveUp: number;
  deliveries: DeliveryOutcome[];
}

/** Re-checks a queued report against the policy as it is now (opt-outs arrive after enqueue). */
function refusalNow(report: IodefOutboxRecord, policy: ReporterPolicy): string | null {
  const target = parseIodefValue(report.recipient);
  if (target.recipient === null || target.host === null) return `unusable recipient ${report.recipient}`;
  const opt = optedOut(
    { recipient: target.recipient, host: target.host, address: target.address },
    policy.optOut,
  );
  if (opt !== null) return `the recipient opted out (${opt})`;
  if (target.insecure && !policy.allowHttp) return 'http: is not allowed';
  return null;
}

/** Sends every report due at `now`; returns what happened to each. */
export async function drainOutbox(
  store: Pick<Store, 'dueIodefReports' | 'markIodefReportSent' | 'markIodefReportFailed'>,
  options: DrainOptions,
): Promise<DrainResult> {
  const now = options.now ?? new Date();
  const at = now.toISOString();
  const batch = options.batchSize ?? 100;
  const result: DrainResult = { sent: 0, retry: 0, gaveUp: 0, deliveries: [] };
  const done = new Set<number>();
  const aborted = (): boolean => options.signal?.aborted === true;
  const mail = mailSender(options.smtp);
  try {
    for (;;) {
      if (aborted()) break;
      const due = (await store.dueIodefReports(at, batch)).filter((r) => !done.has(r.id));
      if (due.length === 0) break;
      for (const report of due) {
        if (aborted()) break;
        done.add(report.id);
        let error: DeliveryError | null = null;
        const refusal = refusalNow(report, options.policy);
        if (refusal !== null) error = new DeliveryError(refusal, true);
        else
          try {
            if (report.channel === 'mailto') await mail.send(report, options.from);
            else await postReport(report, options.policy, options.https, options.signal);
          } catch (cause) {
            error = cause instanceof DeliveryError ? cause : new DeliveryError(String(cause), false);
          }
        const base = { id: report.id, recipient: report.recipient, incidentId: report.incidentId };
        if (error === null) {
          await store.markIodefReportSent(report.id, new Date().toISOString());
          result.sent++;
          result.deliveries.push({ ...base, status: 'sent', error: null, nextAttemptAt: null });
          continue;
        }
        const next = error.permanent
          ? null
          : nextAttemptAt(report.attempts + 1, options.policy, now, options.random);
        await store.markIodefReportFailed(report.id, error.message, next);
        if (next === null) result.gaveUp++;
        else result.retry++;
        result.deliveries.push({
          ...base,
          status: next === null ? 'gave-up' : 'retry',
          error: error.message,
          nextAttemptAt: next,
        });
      }
    }
  } finally {
    mail.close();
  }
  return result;
}
