/**
 * @module iodef/receiver/intake
 * The one path every channel (HTTPS, SMTP, a Maildir) takes with a report that arrived at the
 * domain owner's `iodef` URL (RFC 8659 §4.4): parse it leniently (iodef/parse.ts, which alone
 * decides XML safety: no DTDs, no entities, bounded size and depth), fingerprint it, store it once,
 * and alert only when it is new.
 *
 * Deduplication is per SENDER and DOCUMENT, never per IncidentID alone: anyone can
 * POST to the iodef URL, so an attacker who sent a harmless report under a real CA's IncidentID
 * first would otherwise turn the real report into a silently dropped "duplicate". The fingerprint
 * is SHA-256 of the sender identity (mTLS certificate, SMTP envelope sender and client address,
 * or HTTP client address) and the document's SHA-256. A report whose IncidentID was seen before
 * with other content is stored and alerted as a `conflicting-report`; one whose exact document was
 * seen before from another sender is stored (who sent what stays on record) but not alerted again.
 * The reply is the same for a new report and for the sender's own duplicate (`accepted report
 * RECEIPT`, the receipt derived from the sender's own fingerprint): it never tells a sender whether
 * anyone else reported that IncidentID, nor how many reports the receiver holds. A document that is well-formed IODEF but not schema-valid
 * (RFC 7970 §4 — e.g. a `Node` directly under `Incident`, as some CAA reporters send) is kept with
 * `schemaValid: false`: losing a real report over a schema nit is worse than storing it flagged.
 *
 * Failure split: a bad document is a *result* (`rejected`, with a short reason safe to echo to the
 * sender); a store that cannot write *throws*, so the channel answers "try again later" (HTTP 503,
 * SMTP 451) and the CA retries — a good report is never acknowledged and then lost. An alert sink
 * that fails does not undo the store: the report is kept and the failure is returned.
 */
import { errorMessage } from '../../errors.js';
import { createHash } from 'node:crypto';
import { deliverAll } from '../../notify/index.js';
import type { MonitorEvent, Notifier, Severity } from '../../notify/index.js';
import { sanitizeText } from '../../sanitize.js';
import type { IodefReceivedRecord, IodefRelatedReport, Store } from '../../store/index.js';
import { parseIodef } from '../parse.js';
import type { IodefRisk, IodefSummary } from '../types.js';

export type ReportChannel = 'https' | 'smtp' | 'file';

export interface IncomingReport {
  /** The document as received (bytes: the parser honours the XML declaration's encoding). */
  bytes: Uint8Array | string;
  /** Who sent it, for people: client address and certificate subject, or the mail's envelope sender. */
  sender: string;
  /**
   * The sender's identity for deduplication (`cert:…`, `smtp:…`, `addr:…`); default `sender`.
   * Never the document's own claims: those are what a forger controls.
   */
  senderKey?: string;
  channel: ReportChannel;
  /** Default: now. */
  receivedAt?: Date | string;
}

/** What a new report's alert carries; the `AlertFunction` form of the alert sinks gets it. */
export interface ReportAlert {
  record: IodefReceivedRecord;
  summary: IodefSummary;
  /** `formatReportLine(summary, record)`. */
  line: string;
  problems: string[];
  /** Earlier reports that claimed the same IncidentID (none have the same document: those are not alerted). */
  related: IodefRelatedReport[];
}

export type AlertFunction = (alert: ReportAlert) => Promise<void>;

/** Either the monitor's sinks (`createNotifiers`) or a function; null for no alerts. */
export type ReportAlerter = readonly Notifier[] | AlertFunction | null;

export interface IntakeOptions {
  /** Passed to `parseIodef`. Defaults: the parser's. */
  maxBytes?: number;
  maxDepth?: number;
  /** Global cap on what is stored per rolling day (all senders together); none by default. */
  quota?: { maxReportsPerDay: number; maxBytesPerDay: number };
  /** The clock of the quota window. Default: now. */
  now?: () => Date;
}

export type IntakeResult =
  | {
      status: 'stored';
      id: number;
      fingerprint: string;
      /** What the sender is told (`acceptedReply`): derived from its own fingerprint only. */
      receipt: string;
      schemaValid: boolean;
      summary: IodefSummary;
      line: string;
      /** The IncidentID was claimed before with other content: alerted as `conflicting-report`. */
      conflict: boolean;
      /** Whether an alert went out (not for a document already received from another sender). */
      alerted: boolean;
      /** Sinks that failed to deliver the alert (the report is stored either way). */
      alertErrors: string[];
    }
  | {
      status: 'duplicate';
      id: number;
      fingerprint: string;
      receipt: string;
      schemaValid: boolean;
      summary: IodefSummary;
    }
  | {
      /** The receiver's daily cap is reached: a temporary refusal, the sender retries later. */
      status: 'over-quota';
      reason: string;
    }
  | {
      status: 'rejected';
      /** Short, one line, safe to send back to the client: never document content. */
      reason: string;
      /** The parser's error code, or `IODEF_INTERNAL` for a parser bug that hostile input hit. */
      code: string;
    };

const MAX_REASON_CHARS = 200;

/**
 * Parses, fingerprints, stores once and alerts once. Never throws for anything in `input`; throws
 * only when the store fails (the caller answers with a temporary failure).
 */
export async function acceptReport(
  store: Pick<Store, 'storeReceivedIodef'>,
  alerter: ReportAlerter,
  input: IncomingReport,
  options: IntakeOptions = {},
): Promise<IntakeResult> {
  const receivedAt = toIso(input.receivedAt);
  let parsed: ReturnType<typeof parseIodef>;
  try {
    const parseOptions: { maxBytes?: number; maxDepth?: number } = {};
    if (options.maxBytes !== undefined) parseOptions.maxBytes = options.maxBytes;
    if (options.maxDepth !== undefined) parseOptions.maxDepth = options.maxDepth;
    parsed = parseIodef(input.bytes, parseOptions);
  } catch (err) {
    return rejection(err);
  }
  const document = typeof input.bytes === 'string' ? input.bytes : decodeUtf8(input.bytes);
  const keys = reportKeys(input.senderKey ?? input.sender, input.bytes, parsed.summary);
  const sender = oneLine(input.sender, 300);
  const base = {
    fingerprint: keys.fingerprint,
    senderKey: keys.senderKey,
    documentSha256: keys.documentSha256,
    incidentKey: keys.incidentKey,
    sender,
    channel: input.channel,
    receivedAt,
    schemaValid: parsed.schemaValid,
    summary: parsed.summary,
    document,
  };
  const quota = options.quota;
  const now = options.now?.() ?? new Date();
  const stored = await store.storeReceivedIodef(
    base,
    quota === undefined
      ? undefined
      : {
          since: new Date(now.getTime() - 86_400_000).toISOString(),
          maxReports: quota.maxReportsPerDay,
          maxBytes: quota.maxBytesPerDay,
        },
  );
  const receipt = keys.fingerprint.slice(0, 16);
  if (stored.outcome === 'over-quota') {
    return { status: 'over-quota', reason: 'the receiver takes no more reports today; try again later' };
  }
  if (stored.outcome === 'duplicate') {
    return {
      status: 'duplicate',
      id: stored.id,
      fingerprint: keys.fingerprint,
      receipt,
      schemaValid: parsed.schemaValid,
      summary: parsed.summary,
    };
  }
  const record: IodefReceivedRecord = { ...base, id: stored.id, conflict: stored.conflict };
  const line = formatReportLine(parsed.summary, record);
  // The exact document already arrived from another sender (and was alerted then): a copy adds
  // nothing for the owner, and a replay flood must not become an alert flood.
  const copy = stored.related.some((r) => r.sameDocument);
  const alertErrors = copy
    ? []
    : await sendAlert(alerter, {
        record,
        summary: parsed.summary,
        line,
        problems: parsed.problems,
        related: stored.related,
      });
  return {
    status: 'stored',
    id: stored.id,
    fingerprint: keys.fingerprint,
    receipt,
    schemaValid: parsed.schemaValid,
    summary: parsed.summary,
    line,
    conflict: stored.conflict,
    alerted: !copy,
    alertErrors,
  };
}

/**
 * The store keys of a report. `fingerprint` (the dedup key) = SHA-256 over the sender identity
 * and the document hash, length-prefixed so no two (sender, document) pairs share an input;
 * `incidentKey` = SHA-256 of the IncidentID name and number (RFC 7970 §3.4: unique per name), the
 * same hash the schema-3 fingerprint was, so older rows group with new ones.
 */
export function reportKeys(
  senderKey: string,
  bytes: Uint8Array | string,
  summary: Pick<IodefSummary, 'incidentId' | 'incidentIdName'>,
): { fingerprint: string; senderKey: string; documentSha256: string; incidentKey: string | null } {
  const documentSha256 = createHash('sha256').update(bytes).digest('hex');
  const fingerprint = createHash('sha256')
    .update(`iodef-received v2\n${Buffer.byteLength(senderKey)}:${senderKey}\n${documentSha256}`, 'utf8')
    .digest('hex');
  const incidentKey =
    summary.incidentIdName !== null && summary.incidentId !== null
      ? createHash('sha256').update(`${summary.incidentIdName}\n${summary.incidentId}`, 'utf8').digest('hex')
      : null;
  return { fingerprint, senderKey, documentSha256, incidentKey };
}

/**
 * The one-line success reply of every channel: the same for a new report and for the sender's
 * own duplicate, so it reveals nothing about other senders or the receiver's size.
 */
export function acceptedReply(result: { receipt: string }): string {
  return `accepted report ${result.receipt}`;
}

/** The notify event for a new report (`iodef-report`); risk maps to severity high→critical. */
export function reportEvent(alert: ReportAlert): MonitorEvent {
  const conflict = alert.record.conflict;
  const severity = SEVERITY[alert.summary.risk];
  return {
    type: 'iodef-report',
    // A conflict means someone sent another report under this IncidentID: never just "info".
    severity: conflict && severity === 'info' ? 'warning' : severity,
    message: alert.line,
    report: {
      id: alert.record.id,
      kind: conflict ? 'conflicting-report' : 'report',
      conflictsWith: alert.related.filter((r) => !r.sameDocument).map((r) => r.id),
      channel: alert.record.channel,
      sender: sanitizeText(alert.record.sender, { maxLength: 300 }),
      incidentId:
        alert.summary.incidentId === null ? null : sanitizeText(alert.summary.incidentId, { maxLength: 200 }),
      names: alert.summary.names.map((n) => sanitizeText(n, { maxLength: 253 })),
      schemaValid: alert.record.schemaValid,
    },
  };
}

const SEVERITY: Record<IodefRisk, Severity> = { high: 'critical', medium: 'warning', low: 'info' };

async function sendAlert(alerter: ReportAlerter, alert: ReportAlert): Promise<string[]> {
  if (alerter === null) return [];
  if (typeof alerter === 'function') {
    try {
      await alerter(alert);
      return [];
    } catch (err) {
      return [`alert: ${oneLine(errorMessage(err), MAX_REASON_CHARS)}`];
    }
  }
  const results = await deliverAll(alerter, reportEvent(alert));
  return results.flatMap((r) => (r.ok ? [] : [`${r.name}: ${oneLine(r.error.message, MAX_REASON_CHARS)}`]));
}

function rejection(err: unknown): IntakeResult {
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof Error && typeof code === 'string' && code.startsWith('IODEF_')) {
    return { status: 'rejected', code, reason: `${code}: ${oneLine(err.message, MAX_REASON_CHARS)}` };
  }
  // A parser bug reached by hostile input (stack overflow, …): reject the document, keep running,
  // and say nothing about its internals to the client.
  return {
    status: 'rejected',
    code: 'IODEF_INTERNAL',
    reason: 'IODEF_INTERNAL: the document could not be processed',
  };
}

/**
 * One line for people: how risky, when, who was refused what, where and why, e.g.
 * `HIGH    2026-11-24 06:40Z  Let's Encrypt refused www.example.com (CAA at example.com:
 * issuer-not-authorized; dns-01 validation had SUCCEEDED — someone controls this name's traffic)`.
 * Everything from the document is stripped of control and formatting characters (no terminal
 * escapes, no bidi overrides) and bounded in length.
 */
export function formatReportLine(
  summary: IodefSummary,
  record: Pick<IodefReceivedRecord, 'receivedAt' | 'schemaValid'> & { conflict?: boolean },
): string {
  const risk = summary.risk.toUpperCase().padEnd(6);
  const when = shortTime(
    summary.detectTime ?? summary.reportTime ?? summary.generationTime ?? record.receivedAt,
  );
  const who = oneLine(summary.reporter[0] ?? summary.incidentIdName ?? 'an unnamed CA', 80);
  const shown = summary.names.slice(0, 3).map((n) => oneLine(n, 100));
  const more = summary.names.length > 3 ? ` (+${summary.names.length - 3} more)` : '';
  const what = shown.length > 0 ? `${shown.join(', ')}${more}` : 'unnamed names';
  const why: string[] = [];
  const foundAt = summary.refused?.find((r) => r.foundAt !== null)?.foundAt ?? null;
  const at = foundAt === null ? caaOwner(summary.caaRecords) : oneLine(foundAt.replace(/\.$/, ''), 100);
  const reason = summary.reason === null ? 'no reason given' : oneLine(summary.reason, 80);
  why.push(at === null ? reason : `CAA at ${at}: ${reason}`);
  const method = summary.validationMethod === null ? 'domain' : oneLine(summary.validationMethod, 40);
  if (summary.validationSucceeded === true) {
    why.push(`${method} validation had SUCCEEDED — someone controls this name's traffic`);
  } else if (summary.validationSucceeded === false) {
    why.push(`${method} validation had not succeeded`);
  } else if (summary.validationMethod !== null) {
    why.push(`via ${method}`);
  }
  if (!record.schemaValid) why.push('report not schema-valid');
  // Another report claimed this IncidentID with other content: one of them is forged.
  const conflict =
    record.conflict === true ? 'CONFLICTING REPORT (IncidentID seen before with other content): ' : '';
  return `${risk}  ${when}  ${conflict}${who} refused ${what} (${why.join('; ')})`;
}

/** `2026-11-24T06:40:12Z` → `2026-11-24 06:40Z`; anything unparseable is shown as given, bounded. */
function shortTime(value: string): string {
  const t = Date.parse(value);
  if (Number.isNaN(t)) return oneLine(value, 30);
  const iso = new Date(t).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}Z`;
}

/** The owner name of the first CAA record when it is in zone-file form (`example.com. CAA 0 issue …`). */
function caaOwner(records: readonly string[]): string | null {
  for (const r of records) {
    const m = /^(\S+?)\.?\s+(?:\d+\s+)?(?:IN\s+)?CAA\s/i.exec(r.trim());
    if (m?.[1] !== undefined) return oneLine(m[1], 100);
  }
  return null;
}

/**
 * One line of outside text for a terminal, a log or an alert: runs of ASCII white space (TAB, LF,
 * CR, space) become one space, and everything else `sanitizeText` neutralises (C0/C1, ESC, bidi
 * overrides, zero-width, U+2028/2029) becomes a visible escape; at most `max` characters.
 */
export function oneLine(value: string, max: number): string {
  const spaced = value.replace(/[\t\n\v\f\r ]+/g, ' ').trim();
  return sanitizeText(spaced, { maxLength: Math.max(1, max - 1) });
}

function decodeUtf8(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

function toIso(value: Date | string | undefined): string {
  if (value === undefined) return new Date().toISOString();
  if (typeof value === 'string') return value;
  return value.toISOString();
}
