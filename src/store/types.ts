/**
 * @module store/types
 * What the monitor keeps, behind one interface with two implementations (SQLite embedded by
 * default, PostgreSQL when a `postgres://` URL is configured). Types only: the core never learns
 * how its state is stored (certspotter's `StateProvider`).
 *
 * Crash safety rests on one rule: a batch of processed entries and the log position that follows
 * it are committed in ONE transaction (`commitBatch`), so a process killed at any moment resumes
 * from a position whose entries are all stored, and none twice.
 */
import type { LogKind, StoredHead } from '../ct/index.js';

export type { StoredHead };

/** Compact Merkle tree state (ct/merkle `CompactTree.toJSON()`). */
export interface TreeState {
  size: number;
  hashes: string[];
}

export interface LogCursor {
  /** base64 log ID (SHA-256 of the log key). */
  logId: string;
  url: string;
  kind: LogKind;
  description: string;
  /** Next entry index to download: every entry before it has been committed. */
  position: number;
  /** Tree state of entries [0, position): hashing resumes from here after a restart. */
  tree: TreeState | null;
  /** Last signed head whose root was verified against the downloaded entries. */
  verified: StoredHead | null;
  /**
   * The compact tree of `verified` (entries [0, verified.treeSize)): where the download position
   * is rewound to when a later root does not match (certspotter's VerifiedPosition). Absent for a
   * head verified by an older certvigil, which kept the head only.
   */
  verifiedTree?: TreeState;
  updatedAt: string;
}

/**
 * The facts of one certificate that every stored record of it carries, whether it came from a CT
 * log (`IssuanceInput`, `Issuance`) or from the inventory (`InventoryRecord`): the hashes the
 * classifier matches on and what the heuristics compare. Declared here because the store persists
 * them (the field names are column and JSON names: do not rename); `monitor/issuance.ts` builds it.
 */
export interface CertificateRecord {
  /** SHA-256 of the TBSCertificate without CT poison/SCT extensions (x509 `CertSummary.tbsSha256`). */
  tbsSha256: string;
  dnsNames: string[];
  issuer: string;
  notBefore: string;
  notAfter: string;
  spkiSha256: string;
}

/** What one CT log entry says about its certificate (`monitor/entry-summary.ts` reads it). */
export interface LoggedCertificate extends CertificateRecord {
  certSha256: string | null;
  type: 'x509' | 'precert';
  ipAddresses: string[];
  serial: string;
  keyType: string;
  /** Log timestamp, ms since the epoch. */
  timestamp: number;
}

/** One watched certificate entry as the monitor found it in a log. */
export interface IssuanceInput extends LoggedCertificate {
  logId: string;
  index: number;
}

/** One issuance: a precertificate and its final certificate share the TBS hash and are one row. */
export interface Issuance extends CertificateRecord {
  /** SHA-256 of every logged form (precertificate and/or final certificate). */
  certSha256s: string[];
  ipAddresses: string[];
  serial: string;
  keyType: string;
  /** ISO time when the first entry of this issuance was committed. */
  firstSeen: string;
  entries: { logId: string; index: number; type: 'x509' | 'precert'; timestamp: number }[];
  /**
   * Where `importIssuances` got it from (`backfill:crtsh`, `backfill:certspotter`), sorted; absent
   * for an issuance only found in CT logs. An issuance both imported and logged has both.
   */
  sources?: string[];
}

/** One certificate `certvigil backfill` read from a third party (crt.sh, Cert Spotter). */
export interface ImportedIssuance extends CertificateRecord {
  /** SHA-256 of the certificate or precertificate the source gave, when it gave one. */
  certSha256: string | null;
  ipAddresses: string[];
  serial: string;
  keyType: string;
  /** The source's own id of it (crt.sh certificate id, Cert Spotter issuance id). */
  sourceId: string;
}

/** What one `importIssuances` call did. */
export interface ImportResult {
  /** Issuances that were not stored before (from a log or an import). */
  added: number;
  /** Issuances already stored (logged, or imported before): only the source mark was added. */
  known: number;
}

export interface MalformedInput {
  logId: string;
  index: number;
  error: string;
}

export type AlertKind = 'issuance' | 'misbehaviour' | 'health' | 'malformed';

export interface AlertInput {
  /** Deduplication key: an alert with a key already enqueued is dropped (e.g. `issuance:<tbs>`). */
  key: string;
  kind: AlertKind;
  payload: unknown;
}

export interface AlertRecord extends AlertInput {
  id: number;
  createdAt: string;
  deliveredAt: string | null;
  attempts: number;
  lastError: string | null;
}

export interface CommitBatch {
  logId: string;
  /** The position the caller read from; the commit fails (StoreConflictError) if it moved. */
  expectedPosition: number;
  newPosition: number;
  tree: TreeState;
  issuances: IssuanceInput[];
  malformed: MalformedInput[];
  /** Enqueued in the same transaction, deduplicated by key. */
  alerts: AlertInput[];
}

/**
 * A range of one log's entries, [first, last), that one monitor process (a worker) downloads,
 * matches and commits as a whole (issue 18). Workers sharing a PostgreSQL store claim units with
 * `FOR UPDATE SKIP LOCKED` under a lease; SQLite runs the same code with one worker.
 */
export interface WorkUnit {
  logId: string;
  /** First entry index of the unit. */
  first: number;
  /** One past the last entry index. */
  last: number;
  /** The signed tree size the unit was planned under (static-ct-api tiles need it to read). */
  treeSize: number;
  state: 'open' | 'claimed' | 'done';
  workerId: string | null;
  /** ISO time the claim expires (the store's clock); null unless claimed. */
  leaseUntil: string | null;
  /** Entries the completing worker read (last - first once done). */
  entriesRead: number;
  updatedAt: string;
}

/** What a worker commits for a unit it holds, atomically with marking it done. */
export interface UnitCompletion {
  logId: string;
  first: number;
  workerId: string;
  /** RFC 6962 leaf hashes of entries [first, last), 32 bytes each, in order (for the fold). */
  leafHashes: Uint8Array;
  issuances: IssuanceInput[];
  malformed: MalformedInput[];
  /** Enqueued in the same transaction, deduplicated by key (exactly once across workers). */
  alerts: AlertInput[];
}

/** A done unit with its leaf hashes, as the fold reads them. */
export interface DoneUnit {
  first: number;
  last: number;
  leafHashes: Uint8Array;
}

/** A certificate the organisation obtained itself (inventory) or authorised by hash. */
export interface InventoryRecord extends CertificateRecord {
  source: string;
  path: string;
  certSha256: string;
}

export interface Authorization {
  /** A TBS, certificate or SPKI SHA-256 (hex). */
  hash: string;
  note: string | null;
  createdAt: string;
}

/** Evidence kept by `recordMisbehaviour`, oldest first. */
export interface MisbehaviourRecord {
  id: number;
  logId: string;
  evidence: unknown;
  createdAt: string;
}

/** A role of the web server and HTTP API: `viewer` reads, `admin` also changes (authorize, tokens). */
export type AccessRole = 'viewer' | 'admin';

/**
 * An API token as stored: only the SHA-256 of the secret (hex), never the secret, which is shown
 * once at creation. `id` is public (for listing and revoking).
 */
export interface TokenRecord {
  id: string;
  name: string;
  role: AccessRole;
  tokenSha256: string;
  createdAt: string;
  /** ISO time after which the token is refused; null: never. */
  expiresAt: string | null;
  /** ISO time of the revocation; null: valid. */
  revokedAt: string | null;
  lastUsedAt: string | null;
}

/** A user who logs in with name and password; `passwordHash` is an scrypt string (`scrypt$…`). */
export interface UserRecord {
  name: string;
  role: AccessRole;
  passwordHash: string;
  createdAt: string;
}

/**
 * A browser session: the cookie holds a random ID whose SHA-256 (hex) is the key here; `principal`
 * names the user (`user:NAME`) or the token (`token:ID`) that logged in. `csrfToken` is the
 * per-session secret every state-changing form echoes.
 */
export interface SessionRecord {
  idSha256: string;
  principal: string;
  role: AccessRole;
  csrfToken: string;
  createdAt: string;
  expiresAt: string;
}

/** One certificate a host's ACME clients hold, as pushed by `certvigil inventory push`. */
export interface HostInventoryItem {
  certSha256: string;
  tbsSha256: string;
  spkiSha256: string;
  /** The certificate's DNS names (its managed names). */
  dnsNames: string[];
  notAfter: string;
}

export interface HostInventoryRecord extends HostInventoryItem {
  host: string;
  pushedAt: string;
}

/** Keyset position in the issuance order (`firstSeen`, then `tbsSha256`). */
export interface IssuancePosition {
  firstSeen: string;
  tbsSha256: string;
}

export interface IssuancePageQuery {
  /**
   * Only issuances with a DNS name equal to `name` or under it (`name` "example.com" matches
   * "example.com", "www.example.com", "*.example.com"); A-label, lower case (anything else, e.g.
   * `*` or `%`, is refused). Certificate names match case-insensitively (RFC 4343). Absent: all.
   */
  name?: string;
  /** Start after this position (exclusive). */
  after?: IssuancePosition;
  /** `asc` (oldest first, the cursor feed) or `desc` (newest first, the pages). Default `asc`. */
  order?: 'asc' | 'desc';
  /** 1..1000. */
  limit: number;
}

/** The last `caa audit` result of a watched domain, as JSON text (the audit's own shape). */
export interface DomainAuditRecord {
  domain: string;
  resultJson: string;
  checkedAt: string;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Creates or upgrades the schema (idempotent). */
  migrate(): Promise<void>;
  /**
   * Takes the exclusive run lock for this state (two monitors on one state refuse to run).
   * Throws StoreLockedError naming the holder. Released by `close()` or when the process dies.
   */
  lock(owner: string): Promise<void>;
  close(): Promise<void>;

  /** The cursor of a log, or null when the log was never seen. */
  getCursor(logId: string): Promise<LogCursor | null>;
  /** Creates the cursor at `position` if absent; returns the stored cursor either way. */
  ensureCursor(init: Omit<LogCursor, 'updatedAt' | 'verified' | 'verifiedTree'>): Promise<LogCursor>;
  listCursors(): Promise<LogCursor[]>;
  /** Atomic: issuances, entries, malformed records, alerts and the new position, or nothing. */
  commitBatch(batch: CommitBatch): Promise<void>;
  /**
   * Records a head verified against the stored tree of the same size, and (when given, of the
   * same size) that tree, so a later root mismatch can rewind to it. Idempotent.
   */
  setVerifiedHead(logId: string, head: StoredHead, tree?: TreeState): Promise<void>;
  /**
   * Moves the download position BACK to `to.position` with its tree (a root mismatch: the entries
   * after the verified head are unverified and will be downloaded again; certspotter's
   * rewindDownloadPosition). Compare-and-set on `expectedPosition` (StoreConflictError if it
   * moved); `to.position` must not pass `expectedPosition`. What was committed (issuances,
   * alerts) stays: a replay of the same entries adds nothing twice.
   */
  rewindCursor(
    logId: string,
    expectedPosition: number,
    to: { position: number; tree: TreeState },
  ): Promise<void>;

  // ---- work units (issue 18): several workers share one log's catch-up ----------------------
  /**
   * Adds open units covering [max(position, end of the last planned unit), upTo) of the log, each
   * at most `unitSize` entries and ending on a multiple of `unitSize` where it can (static-ct-api
   * tile alignment), planned under `treeSize`. Idempotent and safe when workers plan at once (the
   * same ranges collide on (log_id, first) and are kept once). Returns the number added.
   */
  planUnits(logId: string, upTo: number, unitSize: number, treeSize: number): Promise<number>;
  /**
   * Claims the lowest open unit of the log, or the lowest claimed one whose lease has expired (its
   * worker died or stalled), for `workerId` until now + leaseMs (the store's clock). PostgreSQL:
   * `SELECT … FOR UPDATE SKIP LOCKED`, so concurrent workers never get the same unit. Null: nothing
   * claimable now (all done, or claimed under live leases).
   */
  claimUnit(logId: string, workerId: string, leaseMs: number): Promise<WorkUnit | null>;
  /**
   * Gives back the units `workerId` holds (one, with `unit`; else all of them) as open, at once:
   * a download that failed, or a restarted worker whose earlier process died holding units.
   * Returns how many were released.
   */
  releaseUnits(workerId: string, unit?: { logId: string; first: number }): Promise<number>;
  /** Extends the lease of a unit this worker still holds; false when it lost it (reclaimed). */
  renewUnitLease(logId: string, first: number, workerId: string, leaseMs: number): Promise<boolean>;
  /**
   * Atomic: if `workerId` still holds the unit (claimed by it; its lease may have run out as long
   * as nobody reclaimed it), stores the issuances, log entries, malformed records and alerts
   * (keyed: nothing twice) and marks the unit done with its leaf hashes; returns true. Otherwise
   * writes nothing and returns false (another worker owns the unit now).
   */
  completeUnit(completion: UnitCompletion): Promise<boolean>;
  /**
   * The done units of the log from `position` on, contiguous (stops at the first gap or undone
   * unit), in order, at most `limit` of them, with their leaf hashes.
   */
  doneUnitsFrom(logId: string, position: number, limit: number): Promise<DoneUnit[]>;
  /**
   * The fold: compare-and-set of the log's download position from `expectedPosition` to
   * `newPosition` with its tree (StoreConflictError if it moved), and deletion of the units that
   * end at or before `newPosition`, in one transaction.
   */
  foldUnits(logId: string, expectedPosition: number, newPosition: number, tree: TreeState): Promise<void>;
  /** Deletes every unit of the log that ends after `position` (a rewind after a root mismatch). */
  dropUnitsAfter(logId: string, position: number): Promise<number>;
  /** Every unit of one log, or of all logs, ordered by log and first entry (status, tests). */
  listUnits(logId?: string): Promise<WorkUnit[]>;

  listIssuances(): Promise<Issuance[]>;
  /** Issuances whose TBS or certificate SHA-256 starts with `hexPrefix` (≥ 8 hex digits). */
  findIssuances(hexPrefix: string): Promise<Issuance[]>;
  /** Issuances that carry this exact DNS name, oldest first (history for heuristics). */
  issuancesForName(dnsName: string): Promise<Issuance[]>;
  /**
   * Issuances that carry any of these exact DNS names (each once), oldest first, WITHOUT their log
   * entries (`entries` is empty: a history needs the certificate facts, and reading the entries
   * doubled the cost): the histories of a page of issuances in one query instead of one per name.
   * At most 1000 names. With `perName`, only the `perName` most recent issuances (by `firstSeen`)
   * of each name are read (an issuance appears when it is among the most recent of any of them).
   */
  issuancesForNames(dnsNames: readonly string[], perName?: number): Promise<Issuance[]>;
  listMalformed(): Promise<(MalformedInput & { createdAt: string })[]>;

  /** Replaces everything previously recorded from `source` (one inventory scan). */
  replaceInventory(source: string, records: InventoryRecord[]): Promise<void>;
  listInventory(): Promise<InventoryRecord[]>;
  /** Records (or re-notes) an authorisation of a full SHA-256; idempotent. */
  authorize(hash: string, note: string | null): Promise<void>;
  /** Removes the authorisation of exactly `hash` (full SHA-256); false when there was none. */
  unauthorize(hash: string): Promise<boolean>;
  listAuthorizations(): Promise<Authorization[]>;

  /** Enqueues an alert unless its key exists; returns whether it was new. */
  enqueueAlert(alert: AlertInput): Promise<boolean>;
  pendingAlerts(limit: number): Promise<AlertRecord[]>;
  markAlertDelivered(id: number): Promise<void>;
  markAlertFailed(id: number, error: string): Promise<void>;
  listAlerts(): Promise<AlertRecord[]>;
  /**
   * Runs `fn` while holding the store-wide delivery lock (PostgreSQL: a session advisory lock on a
   * reserved connection; SQLite: one process, no lock), so workers sharing the store drain the
   * alert outbox one at a time and no alert is delivered twice. Released when `fn` settles.
   */
  withDeliveryLock<T>(fn: () => Promise<T>): Promise<T>;

  /** Keeps the signed heads that prove a log misbehaved. */
  recordMisbehaviour(logId: string, evidence: unknown): Promise<void>;
  /** Everything `recordMisbehaviour` kept, oldest first (both stores implement it). */
  listMisbehaviour?(): Promise<MisbehaviourRecord[]>;

  /** Stores (replacing) the MITM-probe baseline of one target and port. */
  putMitmBaseline(baseline: MitmBaselineRecord): Promise<void>;
  /** The baselines of a target, by port; every target's when `target` is omitted. */
  listMitmBaselines(target?: string): Promise<MitmBaselineRecord[]>;
  /** Forgets a target's baselines (all ports, or the ones given); returns how many were removed. */
  deleteMitmBaselines(target: string, ports?: number[]): Promise<number>;
  /**
   * Records the last `check mitm --record` result of a target, replacing the previous one (one row
   * per target). `target` is 1..253 characters, no whitespace, controls or format characters (a
   * host name or an IP address as the CLI parsed it); `status` one of the four plugin statuses;
   * `resultJson` JSON text of at most 1,000,000 characters without U+0000, returned character for
   * character; `checkedAt` a `Date.toISOString()` time. Anything else: STORE_INVALID_ARGUMENT,
   * nothing written.
   */
  putMitmResult(record: MitmResultRecord): Promise<void>;
  /** Every target's last recorded `check mitm` result, by target. */
  listMitmResults(): Promise<MitmResultRecord[]>;

  /**
   * CA side of CAA iodef (RFC 8659 §4.4): enqueues a report in the durable outbox unless, in one
   * transaction, a report with the same dedup key was enqueued since `limits.dedupSince`, or the
   * recipient or its registered domain already got their maximum since their window start.
   */
  enqueueIodefReport(report: IodefOutboxInput, limits: IodefEnqueueLimits): Promise<IodefEnqueueResult>;
  /** Reports not sent, not given up, and due at `now` (ISO), oldest first. */
  dueIodefReports(now: string, limit: number): Promise<IodefOutboxRecord[]>;
  markIodefReportSent(id: number, at: string): Promise<void>;
  /** Records a failed attempt; `nextAttemptAt` null gives up on the report for good. */
  markIodefReportFailed(id: number, error: string, nextAttemptAt: string | null): Promise<void>;
  listIodefOutbox(): Promise<IodefOutboxRecord[]>;

  /**
   * Owner side: stores a received report once per `fingerprint` (sender and document), in one
   * transaction with its checks. A known fingerprint is `duplicate` (nothing written, quota not
   * used); past `quota` (reports or document bytes received since `quota.since`) it is
   * `over-quota` (nothing written); else `stored`, with the earlier reports that claim the same
   * `incidentKey` (at most 20, oldest first), and `conflict` when one of them has other content.
   */
  storeReceivedIodef(report: IodefReceivedInput, quota?: IodefReceivedQuota): Promise<IodefStoreResult>;
  /** Every received report, oldest first. */
  listReceivedIodef(): Promise<IodefReceivedRecord[]>;
  /** Retention: deletes received reports with `receivedAt` before `cutoff` (ISO); returns how many. */
  deleteReceivedIodefBefore(cutoff: string): Promise<number>;

  /**
   * Records the health of `r.logId` after an attempt (idempotent; last write wins), except that a
   * null `lastAttemptAt`, `lastContactAt`, `newestTreeSize` or `newestTreeTimestamp` keeps the
   * stored value: a failed attempt passes null for what it did not learn, and the last contact and
   * newest head seen are not forgotten. `lastError` (null clears it) is sanitised and cut to 500
   * characters. Never touches the log's cursor.
   */
  putLogHealth(r: LogHealthRecord): Promise<void>;
  /** Every log's health record, by log ID; empty when the monitor never recorded one. */
  listLogHealth(): Promise<LogHealthRecord[]>;
  /**
   * Merges `patch` into the monitor status: an absent key keeps its value, `null` clears it
   * (idempotent). Unknown keys are refused (STORE_INVALID_ARGUMENT).
   */
  putMonitorStatus(patch: Partial<MonitorStatusRecord>): Promise<void>;
  /** The monitor status; all-null with `inventoryErrors: 0` when none was ever written. */
  getMonitorStatus(): Promise<MonitorStatusRecord>;
  /**
   * A page of issuances in (`firstSeen`, `tbsSha256`) order, for the web pages and the cursor feed
   * of the HTTP API. Bounded: never loads more than `limit` issuances. `name` uses the
   * `issuance_names` index (exact name or suffix at a label boundary).
   */
  pageIssuances(query: IssuancePageQuery): Promise<Issuance[]>;
  /** How many issuances match `name` (as in `pageIssuances`), or all. */
  countIssuances(name?: string): Promise<number>;

  /**
   * Stores issuances read from a third party (`backfill`), marked with `source` (`backfill:…`), in
   * one transaction. Keyed by TBS hash like `commitBatch`: an issuance already stored (found in a
   * log or imported before) keeps its columns and `firstSeen` and only gains the source mark; a
   * later `commitBatch` of the same certificate adds its log entry to the same issuance.
   * Idempotent. At most 1000 records per call (STORE_INVALID_ARGUMENT beyond, or for a bad hash).
   */
  importIssuances(source: string, records: readonly ImportedIssuance[]): Promise<ImportResult>;

  /**
   * Stores a new token; an `id` or `tokenSha256` already stored is refused (STORE_INVALID_ARGUMENT).
   * `id` is 1..64 of [A-Za-z0-9._@-]; `name` 0..100 characters without control or format
   * characters, stored as given. Every time in this interface (here and below) is
   * `Date.toISOString()` text (UTC, milliseconds); any other form is refused.
   */
  createToken(token: TokenRecord): Promise<void>;
  /** The token whose secret hashes to `tokenSha256`, revoked or expired included (the caller decides). */
  findToken(tokenSha256: string): Promise<TokenRecord | null>;
  listTokens(): Promise<TokenRecord[]>;
  /**
   * Marks the token revoked at `at` and ends its sessions (`token:ID`); false when no such token.
   * Idempotent: revoking again keeps the first `revokedAt`.
   */
  revokeToken(id: string, at: string): Promise<boolean>;
  /** Records the last use (at most once a minute is enough; callers may call on every request). */
  touchToken(id: string, at: string): Promise<void>;

  /** Creates or replaces the user `user.name` (1..64 of [A-Za-z0-9._@-]). */
  putUser(user: UserRecord): Promise<void>;
  getUser(name: string): Promise<UserRecord | null>;
  listUsers(): Promise<UserRecord[]>;
  /** False when no such user. Also deletes the user's sessions. */
  deleteUser(name: string): Promise<boolean>;

  /** Refuses an `idSha256` already stored; `csrfToken` is 16..200 base64 or base64url characters. */
  createSession(session: SessionRecord): Promise<void>;
  /** The session, expired included (the caller checks `expiresAt`). */
  getSession(idSha256: string): Promise<SessionRecord | null>;
  deleteSession(idSha256: string): Promise<void>;
  /** Deletes sessions whose `expiresAt` is before `now`; returns how many. */
  deleteExpiredSessions(now: string): Promise<number>;

  /**
   * Replaces everything `host` pushed before with `items` in one transaction (an empty list clears
   * it). `host` is 1..253 characters of [A-Za-z0-9._-]; at most 100,000 items, each with at most
   * 1,000 DNS names of 1..253 characters (no control or format characters, stored as given) and
   * lower-case hex hashes. The same certificate twice is one row; twice with different data, refused.
   */
  replaceHostInventory(host: string, items: HostInventoryItem[], pushedAt: string): Promise<void>;
  /** Every pushed item, of one host or of all, by host then certificate hash. */
  listHostInventory(host?: string): Promise<HostInventoryRecord[]>;

  /**
   * Records the last CAA audit of `domain` (replaces the previous one). `domain` as a page's `name`;
   * `resultJson` must parse as JSON and is returned character for character.
   */
  putDomainAudit(record: DomainAuditRecord): Promise<void>;
  listDomainAudits(): Promise<DomainAuditRecord[]>;
}

export interface IodefOutboxInput {
  /** e.g. sha256(recipient, sorted names, reason): identical denials share it. */
  dedupKey: string;
  /** The iodef property value: `mailto:…` or `https://…`. */
  recipient: string;
  channel: 'mailto' | 'https';
  /** The recipient's registered domain (eTLD+1), for the per-domain rate limit. */
  registeredDomain: string;
  names: string[];
  reason: string;
  incidentId: string;
  /** The IODEF v2 document to send. */
  document: string;
  createdAt: string;
}

export interface IodefEnqueueLimits {
  dedupSince: string;
  recipientSince: string;
  recipientMax: number;
  domainSince: string;
  domainMax: number;
}

export interface IodefEnqueueResult {
  outcome: 'enqueued' | 'duplicate' | 'rate-limited-recipient' | 'rate-limited-domain';
  /** The new report's id, or the earlier duplicate's; null when rate-limited. */
  id: number | null;
}

export interface IodefOutboxRecord extends IodefOutboxInput {
  id: number;
  attempts: number;
  nextAttemptAt: string;
  sentAt: string | null;
  gaveUpAt: string | null;
  lastError: string | null;
}

export interface IodefReceivedInput {
  /** The dedup key: SHA-256 (hex) of `senderKey` and `documentSha256` (iodef/receiver/intake.ts). */
  fingerprint: string;
  /** The sender's identity: mTLS certificate, SMTP envelope sender and client, or client address. */
  senderKey: string;
  /** SHA-256 (hex) of the document as received. */
  documentSha256: string;
  /** SHA-256 (hex) of the IncidentID name and number; null when the document has none. */
  incidentKey: string | null;
  /** Who sent it, for people: the HTTPS client (address, certificate subject) or the SMTP envelope. */
  sender: string;
  channel: 'https' | 'smtp' | 'file';
  receivedAt: string;
  /** Whether the document validated strictly (schema-level checks); kept either way. */
  schemaValid: boolean;
  /** The lenient parse (`IodefSummary` of iodef/types.ts) as JSON. */
  summary: unknown;
  document: string;
}

export interface IodefReceivedRecord extends Omit<IodefReceivedInput, 'documentSha256'> {
  id: number;
  /** Null for reports stored before schema version 4. */
  documentSha256: string | null;
  /** Another report claimed the same IncidentID with other content before this one arrived. */
  conflict: boolean;
}

/** The owner's daily cap on what the receiver stores (DoS bound on disk and alerts). */
export interface IodefReceivedQuota {
  /** Count what was received at or after this time (ISO). */
  since: string;
  maxReports: number;
  maxBytes: number;
}

/** An earlier received report that claims the same IncidentID. */
export interface IodefRelatedReport {
  id: number;
  sender: string;
  /** Same document (by hash; by text for reports stored before schema version 4). */
  sameDocument: boolean;
}

export type IodefStoreResult =
  | { outcome: 'stored'; id: number; conflict: boolean; related: IodefRelatedReport[] }
  | { outcome: 'duplicate'; id: number }
  | { outcome: 'over-quota'; reports: number; bytes: number };

/**
 * One learned baseline of `certvigil mitm learn` (probe/mitm-types.ts `PortBaseline`): the JARMs
 * and last-hop sequences seen on one port of one target.
 */
export interface MitmBaselineRecord {
  target: string;
  port: number;
  jarms: string[];
  lastHops: string[][];
  hopCounts: number[];
  learnedAt: string;
}

/** The plugin statuses of `check mitm` (Nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN). */
export type MitmResultStatus = 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';

/**
 * The last `check mitm --record` verdict of a target: its status and the whole result as JSON text
 * (the plugin's --json line: outside text in it is escaped, not removed; a reader sanitises what it
 * shows).
 */
export interface MitmResultRecord {
  target: string;
  status: MitmResultStatus;
  resultJson: string;
  checkedAt: string;
}

/**
 * Per-log health as the monitor last saw it, for `certvigil status` and `check monitor`.
 * `unreachable`: network or HTTP failures (a log-health alert); `misbehaving`: cryptographic
 * evidence against the log; `internal`: our bug or the store (logged with its stack).
 */
export interface LogHealthRecord {
  logId: string;
  url: string;
  status: 'ok' | 'unreachable' | 'misbehaving' | 'internal';
  /** When the monitor last tried to read the log, and when the log last answered correctly. */
  lastAttemptAt: string | null;
  lastContactAt: string | null;
  /** Sanitised, at most 500 characters. */
  lastError: string | null;
  /** The newest signed tree head seen from the log (size and its timestamp), verified or not. */
  newestTreeSize: number | null;
  newestTreeTimestamp: string | null;
  updatedAt: string;
}

/** The monitor process as a whole: its log list and its last sign of life. */
export interface MonitorStatusRecord {
  logListSource: string | null;
  logListFetchedAt: string | null;
  logListError: string | null;
  /** The daemon's heartbeat: when it last finished a pass over its logs. */
  lastCycleAt: string | null;
  /** Inventory paths that could not be scanned in the last scan. */
  inventoryErrors: number;
  /**
   * The log IDs the monitor reads now (its last log list, after selection); null before the monitor
   * said. A log that left the list keeps its cursor, but is no longer expected to make progress.
   */
  monitoredLogIds: string[] | null;
  /** When the last `heartbeat` event was sent (notify `heartbeatDue`); null if never. */
  lastHeartbeatAt: string | null;
}
