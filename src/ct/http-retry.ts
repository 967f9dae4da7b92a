/**
 * @module ct/http-retry
 * When to ask a CT log again, and how long to wait first: pure decisions the client applies.
 *
 * Logs throttle hard (429, or 503 with Retry-After) and fail transiently (5xx, timeouts, cut-off
 * bodies); a monitor that gives up falls behind and one that hammers gets throttled harder. So:
 * transient failures and throttling have separate attempt budgets (throttling is normal, failure
 * is not), backoff is exponential with jitter, and a server's Retry-After wins, capped.
 */
import type { ErrorCode } from '../errors.js';

/**
 * RFC 9110 §10.2.3: `Retry-After: delay-seconds / HTTP-date`. Returns ms from `now`, or undefined
 * when absent or unreadable (the caller then backs off on its own schedule).
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/[a-z]/i.test(v)) return undefined; // an HTTP-date names a day and a month
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Backoff before attempt `failures + 1`: exponential from `baseMs`, capped at `maxMs`, "equal
 * jitter" (half fixed, half from `random` in [0, 1)).
 */
export function backoffDelay(failures: number, baseMs: number, maxMs: number, random: () => number): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/** What a non-200, non-redirect status means for the request. */
export interface StatusVerdict {
  code: Extract<ErrorCode, 'CT_RATE_LIMITED' | 'CT_HTTP'>;
  retryable: boolean;
  /** The server's Retry-After, capped; only where the status gives it meaning (429, 503). */
  retryAfterMs: number | undefined;
}

/**
 * Pure: classifies an unwanted status. `retryAfterMs` is the parsed Retry-After, if any, already
 * capped by the caller's maximum.
 */
export function classifyStatus(status: number, retryAfterMs: number | undefined): StatusVerdict {
  // RFC 6585 §4: 429 Too Many Requests, with an optional Retry-After.
  if (status === 429) return { code: 'CT_RATE_LIMITED', retryable: true, retryAfterMs };
  // RFC 9110 §15.6: 5xx are the server's trouble and may pass (not 501/505, which say "never");
  // §15.6.4: 503 may carry Retry-After; §15.5.9: 408 means the server gave up waiting for us.
  const retryable = (status >= 500 && status !== 501 && status !== 505) || status === 408;
  return { code: 'CT_HTTP', retryable, retryAfterMs: status === 503 ? retryAfterMs : undefined };
}

/** Retryable failures so far in one `get`, by kind (each kind has its own budget). */
export interface RetryTally {
  failures: number;
  rateLimited: number;
}

export interface RetryPolicy {
  /** Attempts for network errors, timeouts, truncated bodies, 408 and 5xx. */
  maxAttempts: number;
  /** Attempts while the log answers 429. */
  maxRateLimitedAttempts: number;
  /** Backoff before the next attempt after `failures` failures of one kind. */
  backoffMs(failures: number): number;
}

/** After a retryable failure: give up, or wait `delayMs` (for the whole log when `pauseLog`). */
export type RetryStep =
  | { retry: false; tally: RetryTally }
  | { retry: true; tally: RetryTally; delayMs: number; pauseLog: boolean };

/**
 * Pure: counts a retryable failure against its budget and says what to do next. The server's
 * Retry-After wins over our backoff; throttling (429, or any Retry-After) speaks for the whole log,
 * not for one request, so every request of the client waits (RFC 6585 §4; RFC 9110 §15.6.4).
 */
export function nextRetry(
  error: { code: ErrorCode; retryAfterMs: number | undefined },
  tally: RetryTally,
  policy: RetryPolicy,
): RetryStep {
  const limited = error.code === 'CT_RATE_LIMITED';
  const next: RetryTally = limited
    ? { failures: tally.failures, rateLimited: tally.rateLimited + 1 }
    : { failures: tally.failures + 1, rateLimited: tally.rateLimited };
  const used = limited ? next.rateLimited : next.failures;
  const budget = limited ? policy.maxRateLimitedAttempts : policy.maxAttempts;
  if (used >= budget) return { retry: false, tally: next };
  const delayMs = error.retryAfterMs ?? policy.backoffMs(used);
  return { retry: true, tally: next, delayMs, pauseLog: error.retryAfterMs !== undefined || limited };
}
