/**
 * @module store/roles/inventory
 * What the organisation holds itself: its own inventory scan and the hashes it authorised (the
 * internal check's "ours"), and what each host's ACME clients pushed (`certvigil inventory push`).
 */
import type { Authorization, HostInventoryItem, HostInventoryRecord, InventoryRecord } from '../types.js';

/**
 * The local inventory (one scan per source) and the authorisations by hash.
 *
 * Guarantees:
 * - `replaceInventory` is one transaction: a reader sees one source's old scan or its new one,
 *   never half, and a certificate gone from the scan is gone from the store. Every record must
 *   carry `source` (STORE_INVALID_ARGUMENT otherwise); hashes are lower-cased and checked; the
 *   same certificate twice at one path is one row.
 * - `authorize` is an idempotent upsert keyed by the lower-cased hash: authorising again replaces
 *   the note and keeps `createdAt`. `unauthorize` removes that exact hash only.
 * - Lists are ordered: inventory by (source, path, certificate), authorisations by (`createdAt`,
 *   hash).
 */
export interface InventoryAuthorizations {
  /** Replaces everything previously recorded from `source` (one inventory scan). */
  replaceInventory(source: string, records: InventoryRecord[]): Promise<void>;
  listInventory(): Promise<InventoryRecord[]>;
  /** Records (or re-notes) an authorisation of a full SHA-256; idempotent. */
  authorize(hash: string, note: string | null): Promise<void>;
  /** Removes the authorisation of exactly `hash` (full SHA-256); false when there was none. */
  unauthorize(hash: string): Promise<boolean>;
  listAuthorizations(): Promise<Authorization[]>;
}

/**
 * What each host's ACME clients hold, as pushed, for the distributed internal check.
 *
 * Guarantees: one push is one transaction replacing everything that host pushed before, so a
 * reader sees the old push or the new one, never a mix; pushes of different hosts do not touch
 * each other. Everything is checked before anything is written (STORE_INVALID_ARGUMENT), and text
 * that passed is stored as given (escaping is the printer's job).
 */
export interface HostInventories {
  /**
   * Replaces everything `host` pushed before with `items` in one transaction (an empty list clears
   * it). `host` is 1..253 characters of [A-Za-z0-9._-]; at most 100,000 items, each with at most
   * 1,000 DNS names of 1..253 characters (no control or format characters, stored as given) and
   * lower-case hex hashes. The same certificate twice is one row; twice with different data, refused.
   * `pushedAt` is `Date.toISOString()` text.
   */
  replaceHostInventory(host: string, items: HostInventoryItem[], pushedAt: string): Promise<void>;
  /** Every pushed item, of one host or of all, by host then certificate hash. */
  listHostInventory(host?: string): Promise<HostInventoryRecord[]>;
}
