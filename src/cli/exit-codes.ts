/**
 * @module cli/exit-codes
 * Exit statuses, one table for the whole binary (documented in README.md).
 */
export const EXIT = {
  /** Everything checked and fine (caa check: every name allowed). */
  OK: 0,
  /** A negative finding (caa check: at least one name denied). */
  FINDING: 1,
  /** Could not decide: lookup failure, bad input or usage error. Wins over FINDING. */
  ERROR: 2,
  /**
   * `check` commands only, which follow the monitoring-plugins convention: 0 OK, 1 WARNING,
   * 2 CRITICAL, 3 UNKNOWN (could not check, including usage errors).
   */
  UNKNOWN: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
