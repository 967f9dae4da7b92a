/**
 * @module store/types
 * What the monitor keeps: the records the store takes and gives back, and the `Store` contract
 * assembled from its roles (`roles/*.ts`), with two implementations (SQLite embedded by default,
 * PostgreSQL when a `postgres://` URL is configured). Types only: the core never learns how its
 * state is stored (certspotter's `StateProvider`).
 *
 * Crash safety rests on one rule: a batch of processed entries and the log position that follows
 * it are committed in ONE transaction (`commitBatch`, or `completeUnit` for a work unit), so a
 * process killed at any moment resumes from a position whose entries are all stored, and none
 * twice.
 */
import type { LogKind, StoredHead } from '../ct/index.js';
import type { IssuanceImport, IssuanceQueries } from './roles/issuances.js';
import type { HostInventories, InventoryAuthorizations } from './roles/inventory.js';
import type { StoreLifecycle } from './roles/lifecycle.js';
import type { LogStateStore } from './roles/log-state.js';
import type { MonitorHealth } from './roles/health.js';
import type { IodefInbox } from './roles/iodef-inbox.js';
import type { MitmRecords } from './roles/mitm.js';
import type { AlertOutbox, IodefOutbox } from './roles/outboxes.js';
import type { AccessControl, DomainAudits } from './roles/web.js';
import type { WorkUnitQueue } from './roles/work-queue.js';

export type { StoredHead };
export type {
  AccessControl,
  AlertOutbox,
  DomainAudits,
  HostInventories,
  InventoryAuthorizations,
  IodefInbox,
  IodefOutbox,
  IssuanceImport,
  IssuanceQueries,
  LogStateStore,
  MitmRecords,
  MonitorHealth,
  StoreLifecycle,
  WorkUnitQueue,
};

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

/**
 * Everything the monitor, the CLI and the web server keep, stated role by role (`roles/`, each
 * role's doc comment says what it guarantees, as certspotter's `StateProvider` does). Both engines
 * implement every role (`sqlite.ts`, `postgres.ts`, one file per role in `sqlite/` and
 * `postgres/`); a caller that needs one role takes that role, not the whole `Store`.
 */
export interface Store
  extends
    StoreLifecycle,
    LogStateStore,
    WorkUnitQueue,
    IssuanceQueries,
    IssuanceImport,
    InventoryAuthorizations,
    AlertOutbox,
    MitmRecords,
    IodefOutbox,
    IodefInbox,
    MonitorHealth,
    AccessControl,
    HostInventories,
    DomainAudits {}

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
