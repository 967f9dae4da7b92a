/**
 * @module store/rows
 * Reading rows back, once for both engines: one mapper per table from a result row to the record
 * types.ts promises. The engines differ only in how a column arrives (SQLite: JSON as text, times
 * as ISO text, integers as numbers; PostgreSQL: jsonb parsed, timestamptz as a Date, int8 as
 * text), which each hands in as a `ColumnReader`; everything else is the same code, so the two
 * stores cannot drift apart in what they return. Pure; no driver is imported here.
 */
import { invalidArgument } from './errors.js';
import type { LockHolder } from './errors.js';
import { assembleIssuances, toIso, toNumber } from './codec.js';
import { baselineFromRow, splitVerified } from './records-codec.js';
import { iodefOutboxFromRow, iodefReceivedFromRow, sameIodefDocument } from './iodef-codec.js';
import type { EntryRow, IssuanceReadRow } from './codec.js';
import type {
  AccessRole,
  AlertRecord,
  Authorization,
  DomainAuditRecord,
  HostInventoryRecord,
  InventoryRecord,
  Issuance,
  IodefOutboxRecord,
  IodefReceivedQuota,
  IodefReceivedRecord,
  IodefRelatedReport,
  IodefStoreResult,
  LogCursor,
  MalformedInput,
  MisbehaviourRecord,
  MitmBaselineRecord,
  MitmResultRecord,
  MitmResultStatus,
  SessionRecord,
  TokenRecord,
  UserRecord,
  WorkUnit,
} from './types.js';
import type { UnitState } from './work-units-codec.js';

/** A result row as both drivers hand it over: column name to value. */
export type Row = Record<string, unknown>;

/** How one engine's driver returns the column types that differ between the two. */
export interface ColumnReader {
  /** A JSON column. */
  json(value: unknown): unknown;
  /** An INTEGER / BIGINT column. */
  int(value: unknown): number;
  /** A time column, as ISO 8601 text. */
  time(value: unknown): string;
}

/** SQLite keeps JSON as the text `codec.toJsonText` made and times as that ISO text. */
export const SQLITE_COLUMNS: ColumnReader = {
  json: (value) => JSON.parse(String(value)) as unknown,
  int: Number,
  time: String,
};

/** PostgreSQL parses jsonb itself, returns int8 as text and timestamptz as a Date. */
export const POSTGRES_COLUMNS: ColumnReader = {
  json: (value) => value ?? null,
  int: toNumber,
  time: toIso,
};

export const CURSOR_COLUMNS = 'log_id, url, kind, description, position, tree, verified, updated_at';
export const ISSUANCE_COLUMNS =
  'tbs_sha256, dns_names, ip_addresses, issuer, serial, not_before, not_after, spki_sha256, key_type, first_seen';
/** ISSUANCE_COLUMNS of the `issuances` table aliased `i` (pages join it to `issuance_suffixes`). */
export const ISSUANCE_COLUMNS_I = ISSUANCE_COLUMNS.split(', ')
  .map((column) => `i.${column}`)
  .join(', ');
export const ALERT_COLUMNS = 'id, key, kind, payload, created_at, delivered_at, attempts, last_error';

function optTime(value: unknown, col: ColumnReader): string | null {
  return value === null || value === undefined ? null : col.time(value);
}

export function cursorFromRow(r: Row, col: ColumnReader): LogCursor {
  return {
    logId: String(r.log_id),
    url: String(r.url),
    kind: r.kind as LogCursor['kind'],
    description: String(r.description),
    position: col.int(r.position),
    tree: col.json(r.tree) as LogCursor['tree'],
    ...splitVerified(r.verified ?? null),
    updatedAt: col.time(r.updated_at),
  };
}

/**
 * The three reads of an issuance query (issuances, their certificate hashes, their log entries),
 * joined into `Issuance` objects.
 */
export function issuancesFromRows(
  rows: Row[],
  certs: Row[],
  entries: Row[],
  col: ColumnReader,
  sources: Row[] = [],
): Issuance[] {
  return assembleIssuances(
    rows.map((r) => issuanceFromRow(r, col)),
    certs.map((r) => ({ tbsSha256: String(r.tbs_sha256), certSha256: String(r.cert_sha256) })),
    entries.map((r): EntryRow => ({
      logId: String(r.log_id),
      idx: col.int(r.idx),
      tbsSha256: String(r.tbs_sha256),
      type: r.type as EntryRow['type'],
      timestamp: col.int(r.timestamp),
    })),
    sources.map((r) => ({ tbsSha256: String(r.tbs_sha256), source: String(r.source) })),
  );
}

function issuanceFromRow(r: Row, col: ColumnReader): IssuanceReadRow {
  return {
    tbsSha256: String(r.tbs_sha256),
    dnsNames: col.json(r.dns_names) as string[],
    ipAddresses: col.json(r.ip_addresses) as string[],
    issuer: String(r.issuer),
    serial: String(r.serial),
    notBefore: String(r.not_before),
    notAfter: String(r.not_after),
    spkiSha256: String(r.spki_sha256),
    keyType: String(r.key_type),
    firstSeen: col.time(r.first_seen),
  };
}

export function malformedFromRow(r: Row, col: ColumnReader): MalformedInput & { createdAt: string } {
  return {
    logId: String(r.log_id),
    index: col.int(r.idx),
    error: String(r.error),
    createdAt: col.time(r.created_at),
  };
}

export function alertFromRow(r: Row, col: ColumnReader): AlertRecord {
  return {
    id: col.int(r.id),
    key: String(r.key),
    kind: r.kind as AlertRecord['kind'],
    payload: col.json(r.payload),
    createdAt: col.time(r.created_at),
    deliveredAt: optTime(r.delivered_at, col),
    attempts: col.int(r.attempts),
    lastError: r.last_error === null ? null : String(r.last_error),
  };
}

export function misbehaviourFromRow(r: Row, col: ColumnReader): MisbehaviourRecord {
  return {
    id: col.int(r.id),
    logId: String(r.log_id),
    evidence: col.json(r.evidence),
    createdAt: col.time(r.created_at),
  };
}

export function inventoryFromRow(r: Row, col: ColumnReader): InventoryRecord {
  return {
    source: String(r.source),
    path: String(r.path),
    certSha256: String(r.cert_sha256),
    tbsSha256: String(r.tbs_sha256),
    spkiSha256: String(r.spki_sha256),
    dnsNames: col.json(r.dns_names) as string[],
    issuer: String(r.issuer),
    notBefore: String(r.not_before),
    notAfter: String(r.not_after),
  };
}

export function authorizationFromRow(r: Row, col: ColumnReader): Authorization {
  return {
    hash: String(r.hash),
    note: r.note === null ? null : String(r.note),
    createdAt: col.time(r.created_at),
  };
}

export function baselineRecordFromRow(r: Row, col: ColumnReader): MitmBaselineRecord {
  return baselineFromRow(String(r.target), col.int(r.port), col.json(r.baseline), col.time(r.learned_at));
}

export function outboxFromRow(r: Row, col: ColumnReader): IodefOutboxRecord {
  return iodefOutboxFromRow(r, col.json(r.names), col.time);
}

export function receivedFromRow(r: Row, col: ColumnReader): IodefReceivedRecord {
  return iodefReceivedFromRow(r, col.json(r.summary), col.time);
}

/** A row of the related-reports query (`id, sender, document_sha256, same_text`). */
export function relatedFromRow(r: Row, documentSha256: string, col: ColumnReader): IodefRelatedReport {
  return { id: col.int(r.id), sender: String(r.sender), sameDocument: sameIodefDocument(r, documentSha256) };
}

/**
 * The quota decision of `storeReceivedIodef` from the usage row (`n` reports, `b` bytes since
 * `quota.since`): `over-quota` when one more report of `bytes` would pass either bound, else null.
 */
export function overQuota(
  used: Row | undefined,
  bytes: number,
  quota: IodefReceivedQuota,
  col: ColumnReader,
): IodefStoreResult | null {
  const reports = col.int(used?.n);
  const usedBytes = col.int(used?.b);
  if (reports + 1 > quota.maxReports || usedBytes + bytes > quota.maxBytes)
    return { outcome: 'over-quota', reports, bytes: usedBytes };
  return null;
}

export const TOKEN_COLUMNS = 'id, name, role, token_sha256, created_at, expires_at, revoked_at, last_used_at';
export const USER_COLUMNS = 'name, role, password_hash, created_at';
export const SESSION_COLUMNS = 'id_sha256, principal, role, csrf_token, created_at, expires_at';
export const HOST_INVENTORY_COLUMNS =
  'host, cert_sha256, tbs_sha256, spki_sha256, dns_names, not_after, pushed_at';

export function tokenFromRow(r: Row, col: ColumnReader): TokenRecord {
  return {
    id: String(r.id),
    name: String(r.name),
    role: r.role as AccessRole,
    tokenSha256: String(r.token_sha256),
    createdAt: col.time(r.created_at),
    expiresAt: optTime(r.expires_at, col),
    revokedAt: optTime(r.revoked_at, col),
    lastUsedAt: optTime(r.last_used_at, col),
  };
}

export function userFromRow(r: Row, col: ColumnReader): UserRecord {
  return {
    name: String(r.name),
    role: r.role as AccessRole,
    passwordHash: String(r.password_hash),
    createdAt: col.time(r.created_at),
  };
}

export function sessionFromRow(r: Row, col: ColumnReader): SessionRecord {
  return {
    idSha256: String(r.id_sha256),
    principal: String(r.principal),
    role: r.role as AccessRole,
    csrfToken: String(r.csrf_token),
    createdAt: col.time(r.created_at),
    expiresAt: col.time(r.expires_at),
  };
}

/** Reads one access table: a row or none (null), or every row, in the engine's column types. */
export interface RecordReader<T> {
  one(r: Row | undefined): T | null;
  all(rows: Row[]): T[];
}

function recordReader<T>(map: (r: Row, col: ColumnReader) => T, col: ColumnReader): RecordReader<T> {
  return {
    one: (r) => (r === undefined ? null : map(r, col)),
    all: (rows) => rows.map((r) => map(r, col)),
  };
}

/** The access tables (api_tokens, users, sessions) as one engine reads them. */
export function accessRows(col: ColumnReader): {
  token: RecordReader<TokenRecord>;
  user: RecordReader<UserRecord>;
  session: RecordReader<SessionRecord>;
} {
  return {
    token: recordReader(tokenFromRow, col),
    user: recordReader(userFromRow, col),
    session: recordReader(sessionFromRow, col),
  };
}

export function hostInventoryFromRow(r: Row, col: ColumnReader): HostInventoryRecord {
  return {
    host: String(r.host),
    certSha256: String(r.cert_sha256),
    tbsSha256: String(r.tbs_sha256),
    spkiSha256: String(r.spki_sha256),
    dnsNames: col.json(r.dns_names) as string[],
    notAfter: String(r.not_after),
    pushedAt: col.time(r.pushed_at),
  };
}

export function domainAuditFromRow(r: Row, col: ColumnReader): DomainAuditRecord {
  return { domain: String(r.domain), resultJson: String(r.result_json), checkedAt: col.time(r.checked_at) };
}

export function mitmResultFromRow(r: Row, col: ColumnReader): MitmResultRecord {
  return {
    target: String(r.target),
    // The CHECK constraint of migration 7 admits only the four statuses.
    status: String(r.status) as MitmResultStatus,
    resultJson: String(r.result_json),
    checkedAt: col.time(r.checked_at),
  };
}

/** The holder label of the run lock (`run_lock` row), for StoreLockedError. */
export function lockHolderFromRow(r: Row, col: ColumnReader): LockHolder {
  return {
    owner: String(r.owner),
    pid: col.int(r.pid),
    hostname: String(r.hostname),
    acquiredAt: col.time(r.acquired_at),
  };
}

/** The stored position of a log for an error message (null: the log has no cursor). */
export function positionOf(r: Row | undefined, col: ColumnReader): number | null {
  return r === undefined ? null : col.int(r.position);
}

/**
 * An invariant, not a user error: `ensureCursor` wrote the row just before reading it. A plain
 * Error, so that the CLI reports it as `internal error:` (a bug), never as bad input.
 */
export function cursorVanished(logId: string): Error {
  return new Error(`cursor of ${logId} vanished`);
}

export function readOnlyLock(): Error {
  return invalidArgument('a store opened read-only cannot take the run lock');
}

export const WORK_UNIT_COLUMNS =
  'log_id, first, last, tree_size, state, worker_id, lease_until, entries_read, updated_at';

/** A `work_units` row without its leaf hashes (status, claims). */
export function workUnitFromRow(r: Row, col: ColumnReader): WorkUnit {
  return {
    logId: String(r.log_id),
    first: col.int(r.first),
    last: col.int(r.last),
    treeSize: col.int(r.tree_size),
    state: r.state as WorkUnit['state'],
    workerId: r.worker_id === null || r.worker_id === undefined ? null : String(r.worker_id),
    leaseUntil: optTime(r.lease_until, col),
    entriesRead: col.int(r.entries_read),
    updatedAt: col.time(r.updated_at),
  };
}

/**
 * `first, last, state, leaf_hashes` of a unit, for `contiguousDone`. Both drivers return a BLOB /
 * bytea as a Buffer; the copy is a plain Uint8Array, as types.ts promises, detached from the
 * driver's memory.
 */
export function unitRunFromRow(
  r: Row,
  col: ColumnReader,
): { first: number; last: number; state: UnitState; leafHashes: Uint8Array } {
  const bytes = r.leaf_hashes;
  return {
    first: col.int(r.first),
    last: col.int(r.last),
    state: r.state as UnitState,
    leafHashes: bytes instanceof Uint8Array ? Uint8Array.from(bytes) : new Uint8Array(0),
  };
}
