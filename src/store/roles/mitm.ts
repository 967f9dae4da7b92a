/**
 * @module store/roles/mitm
 * What the MITM probe keeps: the baselines `certvigil mitm learn` learned, and the last
 * `check mitm --record` verdict per target.
 */
import type { MitmBaselineRecord, MitmResultRecord } from '../types.js';

/**
 * MITM baselines and results.
 *
 * Guarantees: every write is one statement, an upsert keyed by (target, port) for a baseline and
 * by target for a result, so writing again replaces (last write wins, idempotent); a baseline is
 * replaced whole, never merged. Lists are ordered by target, then port. `learnedAt` is stored as
 * `toISOString()` text (any ISO 8601 form accepted); a time that is none, or a target with U+0000,
 * is STORE_INVALID_ARGUMENT on both engines.
 */
export interface MitmRecords {
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
}
