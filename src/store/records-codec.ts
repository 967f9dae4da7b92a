/**
 * @module store/records-codec
 * What both engines share for the smaller roles' rows, so that an engine file holds only its SQL:
 * the log cursor (`LogStateStore`: the row `ensureCursor` writes, the `verified` column, the
 * checks of a rewind), the inventory and authorisations (`InventoryAuthorizations`), and the MITM
 * baselines (`MitmRecords`). Pure.
 */
import { checkPosition, cleanText, firstByKey, isoInstant, normalizeHash, toJsonText } from './codec.js';
import { invalidArgument } from './errors.js';
import type { InventoryRecord, LogCursor, MitmBaselineRecord, StoredHead, TreeState } from './types.js';

/** A `logs` row as `ensureCursor` writes it: text cleaned, the tree as JSON text. */
export interface CursorRow {
  logId: string;
  url: string;
  kind: LogCursor['kind'];
  description: string;
  position: number;
  tree: string | null;
}

/** Checks `ensureCursor`'s argument (`checkCursorInit`) and turns it into its row. */
export function cursorRow(init: Omit<LogCursor, 'updatedAt' | 'verified' | 'verifiedTree'>): CursorRow {
  checkCursorInit(init);
  return {
    logId: init.logId,
    url: cleanText(init.url),
    kind: init.kind,
    description: cleanText(init.description),
    position: init.position,
    tree: init.tree === null ? null : toJsonText(init.tree),
  };
}

/** A baseline must name a target and a TCP port; everything else is data. */
export function checkBaseline(b: MitmBaselineRecord): void {
  if (b.target.trim() === '') throw invalidArgument('a MITM baseline needs a target');
  // Both engines refuse the same targets: PostgreSQL text cannot hold U+0000 at all.
  if (b.target.includes('\0')) throw invalidArgument('a MITM baseline target cannot contain U+0000');
  if (!Number.isInteger(b.port) || b.port < 1 || b.port > 65535)
    throw invalidArgument(`MITM baseline port must be 1..65535 (got ${b.port})`);
}

/** The JSON column of `mitm_baselines`: what was learned, without the key columns. */
export function baselineDocument(
  b: MitmBaselineRecord,
): Pick<MitmBaselineRecord, 'jarms' | 'lastHops' | 'hopCounts'> {
  return { jarms: b.jarms, lastHops: b.lastHops, hopCounts: b.hopCounts };
}

/** Checks a baseline and turns it into its `mitm_baselines` row (the document as JSON text). */
export function baselineRow(b: MitmBaselineRecord): {
  target: string;
  port: number;
  baseline: string;
  learnedAt: string;
} {
  checkBaseline(b);
  return {
    target: b.target,
    port: b.port,
    baseline: toJsonText(baselineDocument(b)),
    learnedAt: isoInstant('learnedAt', b.learnedAt),
  };
}

const stringArray = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x) => typeof x === 'string') : [];

/** Reads a stored baseline back, tolerating missing fields (a document written by a newer version). */
export function baselineFromRow(
  target: string,
  port: number,
  doc: unknown,
  learnedAt: string,
): MitmBaselineRecord {
  const d = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  return {
    target,
    port,
    jarms: stringArray(d.jarms),
    lastHops: Array.isArray(d.lastHops) ? d.lastHops.map(stringArray) : [],
    hopCounts: Array.isArray(d.hopCounts)
      ? d.hopCounts.filter((x): x is number => typeof x === 'number')
      : [],
    learnedAt,
  };
}

/**
 * The `verified` column holds the head and (in state written since the tree was stored) its compact tree (`{...head, tree}`):
 * no new column, and an older row (head only) still reads.
 */
export function verifiedColumn(head: StoredHead, tree: TreeState | undefined): string {
  if (tree !== undefined && tree.size !== head.treeSize)
    throw invalidArgument(`verified tree size ${tree.size} does not match head size ${head.treeSize}`);
  return toJsonText(tree === undefined ? head : { ...head, tree });
}

export function splitVerified(value: unknown): { verified: StoredHead | null; verifiedTree?: TreeState } {
  if (value === null || value === undefined) return { verified: null };
  const v = (typeof value === 'string' ? JSON.parse(value) : value) as StoredHead & { tree?: TreeState };
  const { tree, ...head } = v;
  return tree === undefined ? { verified: head } : { verified: head, verifiedTree: tree };
}

export function checkRewind(expectedPosition: number, to: { position: number; tree: TreeState }): void {
  checkPosition('expectedPosition', expectedPosition);
  checkPosition('position', to.position);
  if (to.position > expectedPosition)
    throw invalidArgument(`a rewind cannot move forward (${expectedPosition} to ${to.position})`);
  if (to.tree.size !== to.position)
    throw invalidArgument(`tree size ${to.tree.size} does not match position ${to.position}`);
}

/** `ensureCursor`: a start position, and a tree (if any) of exactly that many entries. */
export function checkCursorInit(init: { position: number; tree: TreeState | null }): void {
  checkPosition('position', init.position);
  if (init.tree !== null && init.tree.size !== init.position)
    throw invalidArgument(`tree size ${init.tree.size} does not match position ${init.position}`);
}

export interface InventoryRow {
  source: string;
  path: string;
  certSha256: string;
  tbsSha256: string;
  spkiSha256: string;
  dnsNames: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
}

export function inventoryRows(source: string, records: InventoryRecord[]): InventoryRow[] {
  const rows = records.map((r): InventoryRow => {
    if (r.source !== source)
      throw invalidArgument(`inventory record from ${r.source} in a scan of ${source}`);
    return {
      source: cleanText(r.source),
      path: cleanText(r.path),
      certSha256: normalizeHash('certSha256', r.certSha256),
      tbsSha256: normalizeHash('tbsSha256', r.tbsSha256),
      spkiSha256: normalizeHash('spkiSha256', r.spkiSha256),
      dnsNames: toJsonText(r.dnsNames.map(cleanText)),
      issuer: cleanText(r.issuer),
      notBefore: cleanText(r.notBefore),
      notAfter: cleanText(r.notAfter),
    };
  });
  // The same certificate found twice at one path is one record.
  return firstByKey(rows, (r) => `${r.path}\n${r.certSha256}`);
}

/** An `authorizations` row: the hash lower-cased and checked, the note cleaned. */
export function authorizationRow(hash: string, note: string | null): { hash: string; note: string | null } {
  return { hash: normalizeHash('hash', hash), note: note === null ? null : cleanText(note) };
}
