/**
 * @module store/codec
 * What the SQLite and PostgreSQL stores share so that they stay identical: argument checks, the
 * rows a batch turns into (deduplicated the same way), text and JSON cleaning, and the assembly of
 * `Issuance` objects from rows. Pure functions; the engines only run SQL. The iodef checks and
 * rows are in iodef-codec.ts, the health ones in health-codec.ts, the cursor, inventory and MITM
 * ones in records-codec.ts, the mapping of every other table's rows in rows.ts.
 */
import type { AlertInput, AlertKind, CommitBatch, Issuance, IssuanceInput, MalformedInput } from './types.js';
import { invalidArgument } from './errors.js';

/** Store timestamps: ISO 8601 UTC with milliseconds, so that text order is time order. */
export function nowIso(): string {
  return new Date().toISOString();
}

/**
 * A time handed to the store, as the one text form both engines compare alike: SQLite compares
 * time columns as text, PostgreSQL as timestamps, so "2026-12-07T10:00:00+01:00" or a time
 * without milliseconds would select different rows on each. Any form `Date.parse` reads is
 * accepted and stored as `toISOString()` (UTC, milliseconds); anything else is
 * STORE_INVALID_ARGUMENT, on both engines, before any SQL runs.
 */
export function isoInstant(what: string, value: string): string {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw invalidArgument(`${what} must be an ISO 8601 time`);
  return new Date(ms).toISOString();
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * PostgreSQL `text` and `jsonb` cannot hold U+0000, and CT logs do carry certificates with NUL
 * bytes in names and issuers (the 2009 null-prefix attack certificates were real). Refusing such
 * a batch would wedge the monitor on that log forever, so both engines store U+FFFD instead: the
 * two stay identical and a hostile certificate cannot stop monitoring.
 */
export function cleanText(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text;
}

function cleanJson(value: unknown): unknown {
  if (typeof value === 'string') return cleanText(value);
  if (Array.isArray(value)) return value.map(cleanJson);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[cleanText(k)] = cleanJson(v);
    return out;
  }
  return value;
}

/** JSON text for a JSON column (`undefined` becomes `null`); U+0000 cleaned as in `cleanText`. */
export function toJsonText(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw invalidArgument(`value cannot be stored as JSON: ${(cause as Error).message}`);
  }
  if (text === undefined) return 'null';
  // Fast path: only a string that held U+0000 serialises to the escape `\u0000`.
  return text.includes('\\u0000') ? JSON.stringify(cleanJson(JSON.parse(text))) : text;
}

export function checkHash(what: string, value: string): string {
  if (!HEX64.test(value)) throw invalidArgument(`${what} must be 64 lowercase hex digits, got ${value}`);
  return value;
}

/** Lower-cases and checks a user-supplied SHA-256 (authorizations, inventory). */
export function normalizeHash(what: string, value: string): string {
  return checkHash(what, value.toLowerCase());
}

/**
 * The [low, high) text range of every lowercase hex string starting with `prefix`: 'g' sorts
 * after every hex digit under byte order (SQLite BINARY, PostgreSQL COLLATE "C"), so the primary
 * key indexes serve the search.
 */
export function hexPrefixRange(prefix: string): [string, string] {
  const p = prefix.toLowerCase();
  if (!/^[0-9a-f]{8,64}$/.test(p))
    throw invalidArgument(`a hash prefix needs 8 to 64 hex digits, got ${prefix}`);
  return [p, `${p}g`];
}

function checkIndex(what: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw invalidArgument(`${what} must be a non-negative integer, got ${value}`);
}

/** Positions start at 0 (or at the tree size when starting at the end of a log). */
export function checkPosition(what: string, value: number): void {
  checkIndex(what, value);
}

export function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw invalidArgument(`limit must be a positive integer, got ${limit}`);
}

export interface IssuanceRow {
  tbsSha256: string;
  dnsNames: string;
  ipAddresses: string;
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  spkiSha256: string;
  keyType: string;
}

export interface EntryRow {
  logId: string;
  idx: number;
  tbsSha256: string;
  type: 'x509' | 'precert';
  timestamp: number;
}

export interface AlertRow {
  key: string;
  kind: AlertKind;
  payload: string;
}

/** The rows one batch writes, each list free of duplicate keys (the first occurrence wins). */
export interface BatchRows {
  /** The new tree state as JSON text. */
  tree: string;
  issuances: IssuanceRow[];
  certs: { tbsSha256: string; certSha256: string }[];
  entries: EntryRow[];
  names: { dnsName: string; tbsSha256: string }[];
  /** Every label-boundary suffix of the names, per issuance, for `pageIssuances` (migration 6). */
  suffixes: { suffix: string; tbsSha256: string }[];
  malformed: { logId: string; idx: number; error: string }[];
  alerts: AlertRow[];
}

export function firstByKey<T>(items: Iterable<T>, key: (item: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) {
    const k = key(item);
    if (!seen.has(k)) seen.set(k, item);
  }
  return [...seen.values()];
}

const ALERT_KINDS: readonly AlertKind[] = ['issuance', 'misbehaviour', 'health', 'malformed'];

export function alertRow(alert: AlertInput): AlertRow {
  if (typeof alert.key !== 'string' || alert.key === '') throw invalidArgument('an alert needs a key');
  if (!ALERT_KINDS.includes(alert.kind)) throw invalidArgument(`unknown alert kind ${String(alert.kind)}`);
  return { key: cleanText(alert.key), kind: alert.kind, payload: toJsonText(alert.payload) };
}

/** The entries a batch or a work unit covers, [first, last) of one log, for the checks below. */
export interface EntryRange {
  /** 'batch' or 'unit', for the messages. */
  what: string;
  logId: string;
  first: number;
  last: number;
}

function checkIssuance(range: EntryRange, i: IssuanceInput): void {
  if (i.logId !== range.logId)
    throw invalidArgument(`issuance from log ${i.logId} in a ${range.what} for ${range.logId}`);
  checkIndex('entry index', i.index);
  // The contract of a position (and of a unit): entries [first, last) are exactly what it covers.
  if (i.index < range.first || i.index >= range.last)
    throw invalidArgument(`entry ${i.index} is outside the ${range.what} [${range.first}, ${range.last})`);
  checkHash('tbsSha256', i.tbsSha256);
  if (i.certSha256 !== null) checkHash('certSha256', i.certSha256);
  checkHash('spkiSha256', i.spkiSha256);
  if (i.type !== 'x509' && i.type !== 'precert')
    throw invalidArgument(`unknown entry type ${String(i.type)}`);
  if (!Number.isSafeInteger(i.timestamp)) throw invalidArgument(`bad log timestamp ${i.timestamp}`);
}

function checkMalformed(range: EntryRange, m: MalformedInput): void {
  if (m.logId !== range.logId)
    throw invalidArgument(`malformed entry of ${m.logId} in a ${range.what} for ${range.logId}`);
  checkIndex('entry index', m.index);
  if (m.index < range.first || m.index >= range.last)
    throw invalidArgument(
      `malformed entry ${m.index} is outside the ${range.what} [${range.first}, ${range.last})`,
    );
}

/** ASCII lower case only (RFC 4343 §3): what SQLite's `lower` and PostgreSQL's under "C" do. */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/**
 * The keys under which an issuance with DNS name `name` is found by `pageIssuances`: the name and
 * every suffix after a '.', ASCII lower case, empty ones left out (`*.Example.com` →
 * `*.example.com`, `example.com`, `com`). Migration 6 derives the same from stored names in SQL.
 */
export function nameSuffixes(name: string): string[] {
  const n = asciiLower(name);
  const out = n === '' ? [] : [n];
  for (let dot = n.indexOf('.'); dot !== -1; dot = n.indexOf('.', dot + 1)) {
    const suffix = n.slice(dot + 1);
    if (suffix !== '') out.push(suffix);
  }
  return out;
}

/** The certificate facts every issuance row holds, logged or imported (`IssuanceRow`). */
type IssuanceFacts = Pick<
  IssuanceInput,
  | 'tbsSha256'
  | 'dnsNames'
  | 'ipAddresses'
  | 'issuer'
  | 'serial'
  | 'notBefore'
  | 'notAfter'
  | 'spkiSha256'
  | 'keyType'
>;

/**
 * The `issuances` row of a certificate, from a log (`commitBatch`, `completeUnit`) or a third
 * party (`importIssuances`): names as JSON text, outside text with U+0000 cleaned (`cleanText`).
 * Hashes must have been checked.
 */
export function issuanceRow(i: IssuanceFacts): IssuanceRow {
  return {
    tbsSha256: i.tbsSha256,
    dnsNames: toJsonText(i.dnsNames.map(cleanText)),
    ipAddresses: toJsonText(i.ipAddresses.map(cleanText)),
    issuer: cleanText(i.issuer),
    serial: cleanText(i.serial),
    notBefore: cleanText(i.notBefore),
    notAfter: cleanText(i.notAfter),
    spkiSha256: i.spkiSha256,
    keyType: cleanText(i.keyType),
  };
}

/** The `issuance_certs` rows: one per (TBS hash, certificate hash), those without a hash left out. */
export function certRows(
  items: readonly { tbsSha256: string; certSha256: string | null }[],
): { tbsSha256: string; certSha256: string }[] {
  return firstByKey(
    items.flatMap((i) =>
      i.certSha256 === null ? [] : [{ tbsSha256: i.tbsSha256, certSha256: i.certSha256 }],
    ),
    (c) => `${c.tbsSha256}:${c.certSha256}`,
  );
}

/** The `issuance_names` rows: one per (TBS hash, cleaned name). */
export function nameRows(
  items: readonly { tbsSha256: string; dnsNames: readonly string[] }[],
): { dnsName: string; tbsSha256: string }[] {
  return firstByKey(
    items.flatMap((i) => i.dnsNames.map((n) => ({ dnsName: cleanText(n), tbsSha256: i.tbsSha256 }))),
    (n) => `${n.tbsSha256}\n${n.dnsName}`,
  );
}

/** The `issuance_suffixes` rows of `nameRows` (`nameSuffixes`), one per (TBS hash, suffix). */
export function suffixRows(
  names: readonly { dnsName: string; tbsSha256: string }[],
): { suffix: string; tbsSha256: string }[] {
  return firstByKey(
    names.flatMap((n) => nameSuffixes(n.dnsName).map((suffix) => ({ suffix, tbsSha256: n.tbsSha256 }))),
    (x) => `${x.tbsSha256}\n${x.suffix}`,
  );
}

/** Checks a batch against the contract and turns it into rows; throws STORE_INVALID_ARGUMENT. */
export function batchRows(batch: CommitBatch): BatchRows {
  checkPosition('expectedPosition', batch.expectedPosition);
  checkPosition('newPosition', batch.newPosition);
  if (batch.newPosition < batch.expectedPosition)
    throw invalidArgument(`newPosition ${batch.newPosition} is before ${batch.expectedPosition}`);
  // types.ts: the tree holds entries [0, position), so a restart hashes on from the right place.
  if (batch.tree.size !== batch.newPosition)
    throw invalidArgument(`tree size ${batch.tree.size} does not match newPosition ${batch.newPosition}`);
  const range = { what: 'batch', logId: batch.logId, first: batch.expectedPosition, last: batch.newPosition };
  return { tree: toJsonText(batch.tree), ...entryRows(range, batch) };
}

/**
 * Checks the issuances, malformed entries and alerts of a batch or a work unit against the range
 * they belong to, and turns them into rows (all but the tree); throws STORE_INVALID_ARGUMENT.
 */
export function entryRows(
  range: EntryRange,
  parts: Pick<CommitBatch, 'issuances' | 'malformed' | 'alerts'>,
): Omit<BatchRows, 'tree'> {
  for (const i of parts.issuances) checkIssuance(range, i);
  for (const m of parts.malformed) checkMalformed(range, m);

  const issuances = firstByKey(parts.issuances, (i) => i.tbsSha256).map(issuanceRow);
  const certs = certRows(parts.issuances);
  const entries = firstByKey(
    parts.issuances.map((i): EntryRow => ({
      logId: i.logId,
      idx: i.index,
      tbsSha256: i.tbsSha256,
      type: i.type,
      timestamp: i.timestamp,
    })),
    (e) => String(e.idx),
  );
  const names = nameRows(parts.issuances);
  const suffixes = suffixRows(names);
  const malformed = firstByKey(
    parts.malformed.map((m) => ({ logId: m.logId, idx: m.index, error: cleanText(m.error) })),
    (m) => String(m.idx),
  );
  const alerts = firstByKey(parts.alerts.map(alertRow), (a) => a.key);
  return { issuances, certs, entries, names, suffixes, malformed, alerts };
}

/** True when a batch only moves the cursor: one UPDATE is all it costs. */
export function onlyMovesCursor(rows: BatchRows): boolean {
  return (
    rows.issuances.length === 0 &&
    rows.certs.length === 0 &&
    rows.entries.length === 0 &&
    rows.names.length === 0 &&
    rows.suffixes.length === 0 &&
    rows.malformed.length === 0 &&
    rows.alerts.length === 0
  );
}

/** An `issuances` row as read back, JSON columns already parsed, time as ISO text. */
export interface IssuanceReadRow {
  tbsSha256: string;
  dnsNames: string[];
  ipAddresses: string[];
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  spkiSha256: string;
  keyType: string;
  firstSeen: string;
}

/**
 * Joins issuance rows with their certificate hashes and log entries. Keeps the order of `rows`;
 * `certSha256s` sorted, `entries` sorted by (logId, index), as roles/issuances.ts promises.
 */
export function assembleIssuances(
  rows: IssuanceReadRow[],
  certs: { tbsSha256: string; certSha256: string }[],
  entries: EntryRow[],
  sources: { tbsSha256: string; source: string }[] = [],
): Issuance[] {
  const sourcesBy = new Map<string, string[]>();
  for (const s of sources) {
    const list = sourcesBy.get(s.tbsSha256);
    if (list) list.push(s.source);
    else sourcesBy.set(s.tbsSha256, [s.source]);
  }
  const certsBy = new Map<string, string[]>();
  for (const c of certs) {
    const list = certsBy.get(c.tbsSha256);
    if (list) list.push(c.certSha256);
    else certsBy.set(c.tbsSha256, [c.certSha256]);
  }
  const entriesBy = new Map<string, Issuance['entries']>();
  for (const e of entries) {
    const entry = { logId: e.logId, index: e.idx, type: e.type, timestamp: e.timestamp };
    const list = entriesBy.get(e.tbsSha256);
    if (list) list.push(entry);
    else entriesBy.set(e.tbsSha256, [entry]);
  }
  return rows.map((r) => ({
    tbsSha256: r.tbsSha256,
    certSha256s: (certsBy.get(r.tbsSha256) ?? []).sort(compareText),
    dnsNames: r.dnsNames,
    ipAddresses: r.ipAddresses,
    issuer: r.issuer,
    serial: r.serial,
    notBefore: r.notBefore,
    notAfter: r.notAfter,
    spkiSha256: r.spkiSha256,
    keyType: r.keyType,
    firstSeen: r.firstSeen,
    entries: (entriesBy.get(r.tbsSha256) ?? []).sort(
      (a, b) => compareText(a.logId, b.logId) || a.index - b.index,
    ),
    // Only imported issuances carry the field: one found in logs only reads as before.
    ...(sourcesBy.has(r.tbsSha256) ? { sources: (sourcesBy.get(r.tbsSha256) ?? []).sort(compareText) } : {}),
  }));
}

/** Code-unit order, the same as SQLite BINARY and PostgreSQL "C" for the ASCII we sort. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * BIGINT columns: PostgreSQL returns int8 as text, SQLite as a number. A value past 2^53 cannot be
 * a JavaScript number without losing digits: refused with a coded error (a message, not a crash,
 * in the CLI), never rounded.
 */
export function toNumber(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw invalidArgument(`stored integer out of range: ${String(value)}`);
  return n;
}

/** Time columns: SQLite returns ISO text, PostgreSQL (timestamptz) a Date. */
export function toIso(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

export function toIsoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : toIso(value);
}
