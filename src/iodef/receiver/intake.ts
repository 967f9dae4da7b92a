/**
 * @module iodef/receiver/intake
 * The one path every channel (HTTPS, SMTP, a Maildir) takes with a report that arrived at the
 * domain owner's `iodef` URL (RFC 8659 §4.4): parse it leniently (iodef/parse.ts, which alone
 * decides XML safety: no DTDs, no entities, bounded size and depth), fingerprint it, store it once,
 * and alert only when it is new. A document that is well-formed IODEF but not schema-valid
 * (RFC 7970 §4 — e.g. a `Node` directly under `Incident`, as some CAA reporters send) is kept with
 * `schemaValid: false`: losing a real report over a schema nit is worse than storing it flagged.
 *
 * Failure split: a bad document is a *result* (`rejected`, with a short reason safe to echo to the
 * sender); a store that cannot write *throws*, so the channel answers "try again later" (HTTP 503,
 * SMTP 451) and the CA retries — a good report is never acknowledged and then lost. An alert sink
 * that fails does not undo the store: the report is kept and the failure is returned.
 */
import { deliverAll } from '../../notify/index.js';
import type { MonitorEvent, Notifier, Severity } from '../../notify/types.js';
import type { IodefReceivedRecord, Store } from '../../store/types.js';
import { iodefFingerprint, parseIodef } from '../parse.js';
import type { IodefRisk, IodefSummary } from '../types.js';

export type ReportChannel = 'https' | 'smtp' | 'file';

export interface IncomingReport {
  /** The document as received (bytes: the parser honours the XML declaration's encoding). */
  bytes: Uint8Array | string;
  /** Who sent it: client address and certificate subject, or the mail's envelope sender. */
  sender: string;
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
}

export type AlertFunction = (alert: ReportAlert) => Promise<void>;

/** Either the monitor's sinks (`createNotifiers`) or a function; null for no alerts. */
export type ReportAlerter = readonly Notifier[] | AlertFunction | null;

export interface IntakeOptions {
  /** Passed to `parseIodef`. Defaults: the parser's. */
  maxBytes?: number;
  maxDepth?: number;
}

export type IntakeResult =
  | {
      status: 'stored';
      id: number;
      fingerprint: string;
      schemaValid: boolean;
      summary: IodefSummary;
      line: string;
      /** Sinks that failed to deliver the alert (the report is stored either way). */
      alertErrors: string[];
    }
  | { status: 'duplicate'; id: number; fingerprint: string; schemaValid: boolean; summary: IodefSummary }
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
  const fingerprint = iodefFingerprint(parsed.summary, document);
  const sender = oneLine(input.sender, 300);
  const stored = await store.storeReceivedIodef({
    fingerprint,
    sender,
    channel: input.channel,
    receivedAt,
    schemaValid: parsed.schemaValid,
    summary: parsed.summary,
    document,
  });
  if (!stored.isNew) {
    return {
      status: 'duplicate',
      id: stored.id,
      fingerprint,
      schemaValid: parsed.schemaValid,
      summary: parsed.summary,
    };
  }
  const record: IodefReceivedRecord = {
    id: stored.id,
    fingerprint,
    sender,
    channel: input.channel,
    receivedAt,
    schemaValid: parsed.schemaValid,
    summary: parsed.summary,
    document,
  };
  const line = formatReportLine(parsed.summary, record);
  const alertErrors = await sendAlert(alerter, {
    record,
    summary: parsed.summary,
    line,
    problems: parsed.problems,
  });
  return {
    status: 'stored',
    id: stored.id,
    fingerprint,
    schemaValid: parsed.schemaValid,
    summary: parsed.summary,
    line,
    alertErrors,
  };
}

/** The notify event for a new report (`iodef-report`); risk maps to severity high→critical. */
export function reportEvent(alert: ReportAlert): MonitorEvent {
  return {
    type: 'iodef-report',
    severity: SEVERITY[alert.summary.risk],
    message: alert.line,
    report: {
      id: alert.record.id,
      channel: alert.record.channel,
      sender: alert.record.sender,
      incidentId: alert.summary.incidentId,
      names: [...alert.summary.names],
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
      return [`alert: ${oneLine(err instanceof Error ? err.message : String(err), MAX_REASON_CHARS)}`];
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
  record: Pick<IodefReceivedRecord, 'receivedAt' | 'schemaValid'>,
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
  return `${risk}  ${when}  ${who} refused ${what} (${why.join('; ')})`;
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

/** Control and formatting characters (C0, C1, DEL, bidi overrides, zero-width) become spaces. */
export function oneLine(value: string, max: number): string {
  const clean = value
    .replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

function decodeUtf8(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
}

function toIso(value: Date | string | undefined): string {
  if (value === undefined) return new Date().toISOString();
  if (typeof value === 'string') return value;
  return value.toISOString();
}
