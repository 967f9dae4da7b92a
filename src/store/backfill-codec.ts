/**
 * @module store/backfill-codec
 * What both engines share for `importIssuances` (issue 18, `certvigil backfill`): the checks of the
 * source label and of each imported record, and the rows to write — the same issuance, certificate,
 * name and suffix rows `commitBatch` writes for a logged certificate (codec.ts), plus one
 * `issuance_sources` row per record. Pure; the engines only run SQL.
 */
import { certRows, checkHash, cleanText, firstByKey, issuanceRow, nameRows, suffixRows } from './codec.js';
import type { IssuanceRow } from './codec.js';
import { invalidArgument } from './errors.js';
import type { ImportedIssuance } from './types.js';

/** Records per `importIssuances` call: one transaction stays short, the caller pages. */
export const MAX_IMPORT_RECORDS = 1000;

/** `backfill:crtsh`, `backfill:certspotter`: short ASCII labels, compared by value. */
const SOURCE = /^[a-z][a-z0-9-]{0,30}(?::[a-z0-9][a-z0-9.-]{0,62})?$/;

export interface ImportRows {
  source: string;
  issuances: IssuanceRow[];
  certs: { tbsSha256: string; certSha256: string }[];
  names: { dnsName: string; tbsSha256: string }[];
  suffixes: { suffix: string; tbsSha256: string }[];
  sources: { tbsSha256: string; sourceId: string }[];
}

/** Checks an import against the contract (types.ts) and turns it into rows; throws STORE_INVALID_ARGUMENT. */
export function importRows(source: string, records: readonly ImportedIssuance[]): ImportRows {
  if (!SOURCE.test(source))
    throw invalidArgument(`not a source label: ${JSON.stringify(source).slice(0, 80)}`);
  if (records.length > MAX_IMPORT_RECORDS)
    throw invalidArgument(`at most ${MAX_IMPORT_RECORDS} imported issuances per call, got ${records.length}`);
  for (const r of records) {
    checkHash('tbsSha256', r.tbsSha256);
    checkHash('spkiSha256', r.spkiSha256);
    if (r.certSha256 !== null) checkHash('certSha256', r.certSha256);
  }
  const unique = firstByKey(records, (r) => r.tbsSha256);
  // Text from a third party: the same rows, cleaned the same way, as for a logged certificate.
  const issuances = unique.map(issuanceRow);
  const certs = certRows(records);
  const names = nameRows(unique);
  const suffixes = suffixRows(names);
  const sources = unique.map((r) => ({
    tbsSha256: r.tbsSha256,
    sourceId: cleanText(r.sourceId).slice(0, 200),
  }));
  return { source, issuances, certs, names, suffixes, sources };
}
