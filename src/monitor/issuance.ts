/**
 * @module monitor/issuance
 * The one place a certificate record (`CertificateRecord`, declared in `store/types.ts` because the
 * store persists it) is built from what the monitor read: a CT log entry's summary, an inventory
 * certificate, or a stored inventory row turned into history for the heuristics. Each builder
 * picks its fields explicitly, so no extra property of the source (`subjectCommonName`, an
 * inventory `serial`, …) leaks into a stored row.
 */
import type { InventoryCertificate } from '../inventory/index.js';
import type { CertificateRecord, InventoryRecord, IssuanceInput, LoggedCertificate } from '../store/index.js';
import type { HistoryItem, IssuanceFacts } from './classify.js';

/** The shared facts of `c`, and nothing else. */
export function certificateRecord(c: CertificateRecord): CertificateRecord {
  return {
    tbsSha256: c.tbsSha256,
    dnsNames: c.dnsNames,
    issuer: c.issuer,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    spkiSha256: c.spkiSha256,
  };
}

/** The store row of a watched entry the log `logId` holds at `index`. */
export function issuanceInput(c: LoggedCertificate, logId: string, index: number): IssuanceInput {
  const { certSha256, type, ipAddresses, serial, keyType, timestamp } = c;
  return { ...certificateRecord(c), certSha256, type, ipAddresses, serial, keyType, timestamp, logId, index };
}

/** The inventory row of a certificate found on disk (its serial is not stored: matching never uses it). */
export function inventoryRecord(c: InventoryCertificate): InventoryRecord {
  return { ...certificateRecord(c), source: c.source, path: c.path, certSha256: c.certSha256 };
}

/** What the classifier compares of one CT issuance: the logged form's hash as the list it expects. */
export function issuanceFacts(i: IssuanceInput): IssuanceFacts {
  return { ...certificateRecord(i), certSha256s: i.certSha256 ? [i.certSha256] : [], keyType: i.keyType };
}

/**
 * An inventory certificate as history for a name: ours by definition (`known`), and with no key
 * type, which the inventory row does not keep (the heuristics then skip the key-type comparison).
 */
export function inventoryHistoryItem(r: InventoryRecord): HistoryItem {
  return { ...certificateRecord(r), certSha256s: [r.certSha256], keyType: '', known: true };
}
