/**
 * @module store/roles/issuances
 * Reading back the issuances the monitor stored (the CLI, the web server, the heuristics'
 * histories), and adding the ones `certvigil backfill` imports from third parties.
 */
import type {
  ImportResult,
  ImportedIssuance,
  Issuance,
  IssuancePageQuery,
  MalformedInput,
} from '../types.js';

/**
 * The stored issuances and malformed entries, read-only.
 *
 * Guarantees:
 * - One snapshot per call: an issuance's row, certificate hashes, log entries and sources are read
 *   in one read transaction (SQLite: one deferred transaction; PostgreSQL: REPEATABLE READ READ
 *   ONLY), so a concurrent `commitBatch` is seen whole or not at all. Two calls (a page, then a
 *   count) are two snapshots.
 * - Order: issuances by (`firstSeen`, `tbsSha256`) unless a page asks for `desc`; within one,
 *   `certSha256s` and `sources` sorted, `entries` by (`logId`, `index`). `firstSeen` is the clock
 *   of the process that first stored the issuance.
 * - Bounded where a caller can ask for much: a page reads at most `limit` issuances by a keyset
 *   walk of an index (no sort, no offset), and a history lookup takes at most 1000 names; bad
 *   arguments are STORE_INVALID_ARGUMENT. `listIssuances` and `listMalformed` read everything:
 *   for the CLI and tests, not for a request handler.
 */
export interface IssuanceQueries {
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
  /** Every malformed entry, by log ID and index. */
  listMalformed(): Promise<(MalformedInput & { createdAt: string })[]>;
  /**
   * A page of issuances in (`firstSeen`, `tbsSha256`) order, for the web pages and the cursor feed
   * of the HTTP API. Bounded: never loads more than `limit` issuances. `name` uses the
   * `issuance_names` index (exact name or suffix at a label boundary).
   */
  pageIssuances(query: IssuancePageQuery): Promise<Issuance[]>;
  /** How many issuances match `name` (as in `pageIssuances`), or all. */
  countIssuances(name?: string): Promise<number>;
}

/**
 * Issuances from third parties (`certvigil backfill`: crt.sh, Cert Spotter), marked with their
 * source.
 *
 * Guarantees:
 * - Atomic: one call is one transaction (SQLite IMMEDIATE: a running monitor commits between two
 *   imports, never inside one).
 * - Keyed exactly as `LogStateStore.commitBatch` and `WorkUnitQueue.completeUnit` (TBS hash,
 *   certificate hash, name, suffix; source mark by (TBS hash, source)), so an import racing a
 *   monitor, or run twice, stores each certificate once: a certificate seen both ways is one
 *   issuance with both its log entries and its source.
 * - Outside text is cleaned as for a logged certificate (U+0000 → U+FFFD); a source's own id is
 *   cut to 200 characters.
 */
export interface IssuanceImport {
  /**
   * Stores issuances read from a third party (`backfill`), marked with `source` (`backfill:…`), in
   * one transaction. Keyed by TBS hash like `commitBatch`: an issuance already stored (found in a
   * log or imported before) keeps its columns and `firstSeen` and only gains the source mark; a
   * later `commitBatch` of the same certificate adds its log entry to the same issuance.
   * Idempotent. At most 1000 records per call (STORE_INVALID_ARGUMENT beyond, or for a bad hash).
   */
  importIssuances(source: string, records: readonly ImportedIssuance[]): Promise<ImportResult>;
}
