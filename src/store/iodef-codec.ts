/**
 * @module store/iodef-codec
 * What both engines share for CAA iodef (RFC 8659 §4.4): the checks of an outgoing report and of
 * the caller's rate limits, of a received report and of the receiver's quota, and the decoding of
 * outbox and inbox rows, written and read. Pure; the engines only run SQL.
 */
import { cleanText, isoInstant, toJsonText } from './codec.js';
import { invalidArgument } from './errors.js';
import type {
  IodefEnqueueLimits,
  IodefOutboxInput,
  IodefOutboxRecord,
  IodefReceivedInput,
  IodefReceivedQuota,
  IodefReceivedRecord,
} from './types.js';

/** The caller's limits must be sane: positive maxima, ISO window starts. */
/** Checks the enqueue limits; returns them with their window starts as `isoInstant`s. */
export function iodefLimits(l: IodefEnqueueLimits): IodefEnqueueLimits {
  if (
    !Number.isInteger(l.recipientMax) ||
    l.recipientMax < 1 ||
    !Number.isInteger(l.domainMax) ||
    l.domainMax < 1
  )
    throw invalidArgument('iodef rate limits must be positive integers');
  return {
    ...l,
    dedupSince: isoInstant('the dedup window start', l.dedupSince),
    recipientSince: isoInstant('the recipient window start', l.recipientSince),
    domainSince: isoInstant('the domain window start', l.domainSince),
  };
}

export function checkIodefInput(r: IodefOutboxInput): void {
  if (r.channel !== 'mailto' && r.channel !== 'https')
    throw invalidArgument(`unknown iodef channel ${String(r.channel)}`);
  if (r.dedupKey === '' || r.recipient === '' || r.document === '')
    throw invalidArgument('an iodef report needs a dedup key, a recipient and a document');
}

/**
 * The document text as both engines store it: U+0000 cleaned (codec.cleanText), because
 * PostgreSQL `text` cannot hold it. Issue 18: PostgreSQL cleaned it and SQLite stored it as given,
 * so the same report read back differently from the two engines; now both call this.
 */
export function outboxDocument(r: Pick<IodefOutboxInput, 'document'>): string {
  return cleanText(r.document);
}

/** An `iodef_outbox` row as both engines write it (ids and delivery columns aside). */
export interface OutboxRow extends Omit<IodefOutboxInput, 'names'> {
  /** The names as JSON text. */
  names: string;
}

/** Checks a report to enqueue (`checkIodefInput`) and turns it into its row: text cleaned. */
export function outboxRow(r: IodefOutboxInput): OutboxRow {
  checkIodefInput(r);
  return {
    dedupKey: r.dedupKey,
    recipient: r.recipient,
    channel: r.channel,
    registeredDomain: r.registeredDomain,
    names: toJsonText(r.names),
    reason: cleanText(r.reason),
    incidentId: r.incidentId,
    document: outboxDocument(r),
    createdAt: isoInstant('createdAt', r.createdAt),
  };
}

/** Reads an outbox row (both engines hand over the same column names). */
export function iodefOutboxFromRow(
  r: Record<string, unknown>,
  names: unknown,
  time: (v: unknown) => string,
): IodefOutboxRecord {
  const optTime = (v: unknown): string | null => (v === null || v === undefined ? null : time(v));
  return {
    id: Number(r.id),
    dedupKey: String(r.dedup_key),
    recipient: String(r.recipient),
    channel: r.channel === 'https' ? 'https' : 'mailto',
    registeredDomain: String(r.registered_domain),
    names: Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [],
    reason: String(r.reason),
    incidentId: String(r.incident_id),
    document: String(r.document),
    createdAt: time(r.created_at),
    attempts: Number(r.attempts),
    nextAttemptAt: time(r.next_attempt_at),
    sentAt: optTime(r.sent_at),
    gaveUpAt: optTime(r.gave_up_at),
    lastError: r.last_error === null || r.last_error === undefined ? null : String(r.last_error),
  };
}

export function iodefReceivedFromRow(
  r: Record<string, unknown>,
  summary: unknown,
  time: (v: unknown) => string,
): IodefReceivedRecord {
  const channel = r.channel === 'smtp' || r.channel === 'file' ? r.channel : 'https';
  const optText = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
  return {
    id: Number(r.id),
    fingerprint: String(r.fingerprint),
    senderKey: optText(r.sender_key) ?? String(r.sender),
    documentSha256: optText(r.document_sha256),
    incidentKey: optText(r.incident_key),
    sender: String(r.sender),
    channel,
    receivedAt: time(r.received_at),
    schemaValid: Number(r.schema_valid) === 1,
    summary,
    document: String(r.document),
    conflict: Number(r.conflict) === 1,
  };
}

/** The caller's quota must be sane: positive integers and an ISO window start (returned canonical). */
export function iodefQuota(q: IodefReceivedQuota): IodefReceivedQuota {
  if (
    !Number.isSafeInteger(q.maxReports) ||
    q.maxReports < 1 ||
    !Number.isSafeInteger(q.maxBytes) ||
    q.maxBytes < 1
  )
    throw invalidArgument('iodef receiver quotas must be positive integers');
  return { ...q, since: isoInstant('the iodef quota window start', q.since) };
}

/** The received report's input must carry its keys (hex hashes) and a document. */
export function checkIodefReceived(r: IodefReceivedInput): void {
  const hex = /^[0-9a-f]{64}$/;
  if (
    !hex.test(r.fingerprint) ||
    !hex.test(r.documentSha256) ||
    (r.incidentKey !== null && !hex.test(r.incidentKey))
  )
    throw invalidArgument(
      'a received iodef report needs SHA-256 hex fingerprint, document and incident keys',
    );
  if (r.senderKey === '') throw invalidArgument('a received iodef report needs a sender key');
}

/** Whether an earlier report (row) has the same document as the new one. */
export function sameIodefDocument(row: Record<string, unknown>, documentSha256: string): boolean {
  if (row.document_sha256 !== null && row.document_sha256 !== undefined)
    return String(row.document_sha256) === documentSha256;
  // Stored before schema version 4: no hash, compare the text (`same_text` from the query).
  return Number(row.same_text) === 1 || row.same_text === true;
}

/** `deleteReceivedIodefBefore`: the retention cutoff must be a time (returned canonical). */
export function retentionCutoff(cutoff: string): string {
  return isoInstant('the retention cutoff', cutoff);
}

/** An `iodef_received` row as both engines write it, but `conflict` (decided in the transaction). */
export interface ReceivedRow {
  fingerprint: string;
  sender: string;
  channel: IodefReceivedInput['channel'];
  receivedAt: string;
  /** 1 or 0: the column is an integer on both engines. */
  schemaValid: number;
  /** The summary as JSON text. */
  summary: string;
  /** The document as stored (U+0000 cleaned, codec.cleanText). */
  document: string;
  senderKey: string;
  documentSha256: string;
  incidentKey: string | null;
  /** The document's size as received, in UTF-8 bytes: what the byte quota counts. */
  bytes: number;
}

/** `storeReceivedIodef`: checks the report and its quota, and turns the report into its row. */
export function receivedRow(r: IodefReceivedInput, quota: IodefReceivedQuota | undefined): ReceivedRow {
  checkIodefReceived(r);
  if (quota !== undefined) iodefQuota(quota);
  return {
    fingerprint: r.fingerprint,
    sender: cleanText(r.sender),
    channel: r.channel,
    receivedAt: isoInstant('receivedAt', r.receivedAt),
    schemaValid: r.schemaValid ? 1 : 0,
    summary: toJsonText(r.summary),
    document: cleanText(r.document),
    senderKey: cleanText(r.senderKey),
    documentSha256: r.documentSha256,
    incidentKey: r.incidentKey,
    bytes: Buffer.byteLength(r.document, 'utf8'),
  };
}
