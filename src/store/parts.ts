/**
 * @module store/parts
 * The roles the `Store` contract splits into, one per file in `store/sqlite/` and
 * `store/postgres/`: each engine builds every part over its connection and spreads them into one
 * `Store`. Types only; what each method guarantees is stated in types.ts.
 */
import type { Store } from './types.js';

/** Cursors, verified heads, misbehaviour evidence and the atomic `commitBatch`. */
export type LogStatePart = Pick<
  Store,
  | 'getCursor'
  | 'ensureCursor'
  | 'listCursors'
  | 'commitBatch'
  | 'setVerifiedHead'
  | 'rewindCursor'
  | 'recordMisbehaviour'
  | 'listMisbehaviour'
>;

/** Reading back stored issuances and malformed entries. */
export type IssuancesPart = Pick<
  Store,
  | 'listIssuances'
  | 'findIssuances'
  | 'issuancesForName'
  | 'issuancesForNames'
  | 'listMalformed'
  | 'pageIssuances'
  | 'countIssuances'
>;

/** Issuances imported from third parties (`backfill`), marked with their source. */
export type BackfillPart = Pick<Store, 'importIssuances'>;

/** The inventory and authorisations by hash. */
export type InventoryPart = Pick<
  Store,
  'replaceInventory' | 'listInventory' | 'authorize' | 'unauthorize' | 'listAuthorizations'
>;

/** The alert outbox. */
export type AlertsPart = Pick<
  Store,
  | 'enqueueAlert'
  | 'pendingAlerts'
  | 'markAlertDelivered'
  | 'markAlertFailed'
  | 'listAlerts'
  | 'withDeliveryLock'
>;

/** MITM-probe baselines and the last recorded `check mitm` result per target. */
export type MitmPart = Pick<
  Store,
  'putMitmBaseline' | 'listMitmBaselines' | 'deleteMitmBaselines' | 'putMitmResult' | 'listMitmResults'
>;

/** The iodef outbox (CA side). */
export type IodefOutboxPart = Pick<
  Store,
  | 'enqueueIodefReport'
  | 'dueIodefReports'
  | 'markIodefReportSent'
  | 'markIodefReportFailed'
  | 'listIodefOutbox'
>;

/** Received iodef reports (owner side). */
export type IodefInboxPart = Pick<
  Store,
  'storeReceivedIodef' | 'deleteReceivedIodefBefore' | 'listReceivedIodef'
>;

/** Per-log health and the monitor status. */
export type HealthPart = Pick<
  Store,
  'putLogHealth' | 'listLogHealth' | 'putMonitorStatus' | 'getMonitorStatus'
>;

/** Access control of the web server: API tokens, users, sessions. */
export type AccessPart = Pick<
  Store,
  | 'createToken'
  | 'findToken'
  | 'listTokens'
  | 'revokeToken'
  | 'touchToken'
  | 'putUser'
  | 'getUser'
  | 'listUsers'
  | 'deleteUser'
  | 'createSession'
  | 'getSession'
  | 'deleteSession'
  | 'deleteExpiredSessions'
>;

/** What each host's ACME clients hold (`inventory push`), for the distributed internal check. */
export type HostInventoryPart = Pick<Store, 'replaceHostInventory' | 'listHostInventory'>;

/** The last CAA audit of each watched domain. */
export type DomainAuditPart = Pick<Store, 'putDomainAudit' | 'listDomainAudits'>;

/** Work units: ranges of a log's catch-up claimed by workers under a lease (issue 18). */
export type WorkUnitsPart = Pick<
  Store,
  | 'planUnits'
  | 'claimUnit'
  | 'renewUnitLease'
  | 'releaseUnits'
  | 'completeUnit'
  | 'doneUnitsFrom'
  | 'foldUnits'
  | 'dropUnitsAfter'
  | 'listUnits'
>;
