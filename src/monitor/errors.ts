/**
 * @module monitor/errors
 * The codes of the CT monitor itself. A log's own failures keep the ct codes they were thrown with
 * (`LogReadError` carries them as `cause`); these say what is wrong on our side.
 */
interface MonitorErrorCodes {
  /** A watch-list entry can never match a certificate name; the message names FILE:LINE. */
  WATCHLIST_INVALID: 'monitor';
  /**
   * A failure of the log, or of the way to it, while the monitor read it (`LogReadError`): the
   * log is "unreachable" for health and retry, whatever the underlying ct code was.
   */
  MONITOR_LOG_UNREADABLE: 'monitor';
  /** The monitor's own state broke an invariant (no tree state for a log it is verifying). */
  MONITOR_INTERNAL: 'monitor';
}

declare module '../errors.js' {
  interface ErrorCodes extends MonitorErrorCodes {}
}

/** The codes of this module. */
export type MonitorErrorCode = keyof MonitorErrorCodes;
