/**
 * @module iodef/reporter/enqueue
 * The CA's hook at the moment CAA made it refuse issuance (RFC 8659 §4.4): decide which iodef
 * targets get a report (policy.ts), build the IODEF v2 document (RFC 7970, ../document.ts) and put
 * one row per target into the store's durable outbox. Nothing is sent here — enqueue first, send
 * later (deliver.ts): a crash between the refusal and the delivery loses no report, and the refusal
 * path never waits on a mail server or a web endpoint.
 *
 * Dedup: the key is sha256(recipient, sorted refused names, reason). The store drops a row whose
 * key was enqueued within `dedupWindowSeconds`, and enforces the per-recipient and per-registered-
 * domain daily maxima, all in one transaction — so a thousand identical refusals make one report.
 *
 * Incident ids (RFC 7970 §3.4): a fresh random UUID per report row, so an id always names exactly
 * one document; the sender derives the Message-ID and the RID header from it.
 *
 * Size: a document over `maxDocumentBytes` is rebuilt with the list of requested names reduced
 * to the refused ones and every record set cut to 20 records and explanations to 500 characters;
 * if that is still too large, the target is skipped (`document-too-large`).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { CaaResult } from '../../caa/index.js';
import type { Store } from '../../store/index.js';
import { parseIodef } from '../parse.js';
import { buildIodefDocument } from '../document.js';
import type { PreventedIssuance, RefusedName } from '../types.js';
import { decideReports } from './policy.js';
import type { PlannedReport, ReporterPolicy, SkipReason } from './policy.js';

export interface DenialInput {
  /** The CAA result(s) of the refused request: one per name; only `deny` results are reported. */
  result: CaaResult | readonly CaaResult[];
  /** Every name of the order/CSR. */
  requestedNames: readonly string[];
  validationMethod: string | null;
  validationSucceeded: boolean;
  /** Kept only when `policy.includeAccountUri`. */
  accountUri: string | null;
  ca: PreventedIssuance['ca'];
}

export type ReportOutcome =
  | 'enqueued'
  | 'duplicate'
  | 'rate-limited-recipient'
  | 'rate-limited-domain'
  | 'document-too-large'
  | 'document-invalid'
  | SkipReason;

export interface TargetOutcome {
  /** The normalised recipient, or the published value when it could not be used. */
  recipient: string;
  channel: 'mailto' | 'https' | null;
  outcome: ReportOutcome;
  detail: string;
  /** The outbox row (new, or the earlier duplicate); null otherwise. */
  outboxId: number | null;
  /** The incident id of the enqueued document; null when nothing was enqueued. */
  incidentId: string | null;
  /** The refused names this target would report. */
  names: string[];
}

/** sha256 hex of recipient, sorted refused names and reason; identical refusals share it. */
export function dedupKey(recipient: string, names: readonly string[], reason: string): string {
  const sorted = [...new Set(names.map((n) => n.toLowerCase()))].sort();
  return createHash('sha256')
    .update(JSON.stringify([recipient, sorted, reason]))
    .digest('hex');
}

function refusedName(r: CaaResult, cut: boolean): RefusedName {
  const records = r.records.map((x) => x.text);
  return {
    name: r.name,
    reason: r.reason,
    explanation: cut ? r.explanation.slice(0, 500) : r.explanation,
    foundAt: r.foundAt,
    aliasTarget: r.aliasTarget,
    records: cut ? records.slice(0, 20) : records,
    dnssec: r.dnssec,
  };
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function isoMinus(now: Date, seconds: number): string {
  return new Date(now.getTime() - seconds * 1000).toISOString();
}

/**
 * Enqueues the reports for one refused request; returns one outcome per iodef target of every
 * refused name's record set (a recipient listed in several record sets gets one report naming
 * all of them).
 */
export async function reportDenial(
  store: Pick<Store, 'enqueueIodefReport'>,
  input: DenialInput,
  policy: ReporterPolicy,
  now: Date = new Date(),
): Promise<TargetOutcome[]> {
  const results: readonly CaaResult[] = Array.isArray(input.result)
    ? (input.result as readonly CaaResult[])
    : [input.result as CaaResult];
  const outcomes: TargetOutcome[] = [];
  // recipient → the plan and the results that list it
  const groups = new Map<string, { plan: PlannedReport; results: CaaResult[] }>();
  for (const result of results) {
    const decisions = decideReports(result, { validationSucceeded: input.validationSucceeded }, policy);
    for (const s of decisions.skipped)
      outcomes.push({
        recipient: s.target?.recipient ?? s.target?.value ?? '',
        channel: s.target?.channel ?? null,
        outcome: s.reason,
        detail: s.detail,
        outboxId: null,
        incidentId: null,
        names: [result.name],
      });
    for (const plan of decisions.report) {
      const group = groups.get(plan.target.recipient);
      if (group) {
        if (!group.results.includes(result)) group.results.push(result);
      } else groups.set(plan.target.recipient, { plan, results: [result] });
    }
  }

  const at = now.toISOString();
  for (const { plan, results: refused } of groups.values()) {
    const names = refused.map((r) => r.name);
    // The distinct reason codes of the refused names, sorted (one code in the common case).
    const reason = [...new Set(refused.map((r) => r.reason))].sort().join(',');
    const incidentId = randomUUID();
    const base: PreventedIssuance = {
      incidentId,
      ca: input.ca,
      requestedNames: [...input.requestedNames],
      refused: refused.map((r) => refusedName(r, false)),
      validationMethod: input.validationMethod,
      validationSucceeded: input.validationSucceeded,
      accountUri: policy.includeAccountUri ? input.accountUri : null,
      detectedAt: at,
      generatedAt: at,
    };
    let document = buildIodefDocument(base);
    if (byteLength(document) > policy.maxDocumentBytes)
      document = buildIodefDocument({
        ...base,
        requestedNames: names,
        refused: refused.map((r) => refusedName(r, true)),
      });
    const common = { recipient: plan.target.recipient, channel: plan.target.channel, names };
    if (byteLength(document) > policy.maxDocumentBytes) {
      outcomes.push({
        ...common,
        outcome: 'document-too-large',
        detail: `the IODEF document exceeds ${policy.maxDocumentBytes} bytes even when cut down`,
        outboxId: null,
        incidentId: null,
      });
      continue;
    }
    // Strict on send: a document our own checker finds off the IODEF v2 content model is never
    // sent (the builder should make this impossible; the tests hold it against the XSD).
    const checked = parseIodef(document);
    if (!checked.schemaValid) {
      outcomes.push({
        ...common,
        outcome: 'document-invalid',
        detail: `the IODEF document failed the schema checks: ${checked.problems.slice(0, 3).join('; ')}`,
        outboxId: null,
        incidentId: null,
      });
      continue;
    }
    const enqueued = await store.enqueueIodefReport(
      {
        dedupKey: dedupKey(plan.target.recipient, names, reason),
        recipient: plan.target.recipient,
        channel: plan.target.channel,
        registeredDomain: plan.registeredDomain,
        names,
        reason,
        incidentId,
        document,
        createdAt: at,
      },
      {
        dedupSince: isoMinus(now, policy.dedupWindowSeconds),
        recipientSince: isoMinus(now, 86_400),
        recipientMax: policy.perRecipientPerDay,
        domainSince: isoMinus(now, 86_400),
        domainMax: policy.perRegisteredDomainPerDay,
      },
    );
    outcomes.push({
      ...common,
      outcome: enqueued.outcome,
      detail: DETAIL[enqueued.outcome],
      outboxId: enqueued.id,
      incidentId: enqueued.outcome === 'enqueued' ? incidentId : null,
    });
  }
  return outcomes;
}

const DETAIL: Record<'enqueued' | 'duplicate' | 'rate-limited-recipient' | 'rate-limited-domain', string> = {
  enqueued: 'queued for delivery',
  duplicate: 'the same report was queued within the dedup window',
  'rate-limited-recipient': 'the recipient has had its daily maximum of reports',
  'rate-limited-domain': "the recipient's registered domain has had its daily maximum of reports",
};
