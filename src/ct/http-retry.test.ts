/** The retry decisions of the CT HTTP client, as tables (the client's own tests run them over HTTP). */
import { describe, expect, it } from 'vitest';
import type { ErrorCode } from '../errors.js';
import { backoffDelay, classifyStatus, nextRetry } from './http-retry.js';
import type { RetryPolicy, RetryStep, RetryTally } from './http-retry.js';

describe('classifyStatus', () => {
  it.each<[number, number | undefined, ReturnType<typeof classifyStatus>]>([
    // RFC 6585 §4: 429 keeps its Retry-After and is always retried (on its own budget).
    [429, 7_000, { code: 'CT_RATE_LIMITED', retryable: true, retryAfterMs: 7_000 }],
    [429, undefined, { code: 'CT_RATE_LIMITED', retryable: true, retryAfterMs: undefined }],
    // RFC 9110 §15.6.4: only 503 carries a Retry-After that counts among the 5xx.
    [503, 2_000, { code: 'CT_HTTP', retryable: true, retryAfterMs: 2_000 }],
    [500, 2_000, { code: 'CT_HTTP', retryable: true, retryAfterMs: undefined }],
    [502, undefined, { code: 'CT_HTTP', retryable: true, retryAfterMs: undefined }],
    // 501 and 505 say "never"; 408 (RFC 9110 §15.5.9) is worth another try; other 4xx are not.
    [501, undefined, { code: 'CT_HTTP', retryable: false, retryAfterMs: undefined }],
    [505, undefined, { code: 'CT_HTTP', retryable: false, retryAfterMs: undefined }],
    [408, undefined, { code: 'CT_HTTP', retryable: true, retryAfterMs: undefined }],
    [404, 1_000, { code: 'CT_HTTP', retryable: false, retryAfterMs: undefined }],
    [400, undefined, { code: 'CT_HTTP', retryable: false, retryAfterMs: undefined }],
  ])('HTTP %i (Retry-After %s ms)', (status, retryAfter, verdict) => {
    expect(classifyStatus(status, retryAfter)).toEqual(verdict);
  });
});

describe('backoffDelay', () => {
  it.each([
    // [failures, random, expected]: step = min(max, base·2^(failures−1)); half fixed, half jitter.
    [1, 0, 500],
    [1, 0.999, 1_000],
    [2, 0, 1_000],
    [3, 0.5, 3_000],
    [10, 0, 30_000], // capped at the 60 s maximum
    [0, 0, 500], // "before the first attempt" counts as the first step
  ])('after %i failure(s), random %d: %i ms', (failures, random, expected) => {
    expect(backoffDelay(failures, 1_000, 60_000, () => random)).toBe(expected);
  });
});

describe('nextRetry', () => {
  const policy: RetryPolicy = { maxAttempts: 3, maxRateLimitedAttempts: 2, backoffMs: (n) => n * 100 };
  const t = (failures: number, rateLimited: number): RetryTally => ({ failures, rateLimited });
  // Rows: what, code, Retry-After, tally before, then the step (tally after, delay, whole-log pause).
  const wait = (after: RetryTally, delayMs: number, pauseLog: boolean): RetryStep => ({
    retry: true,
    tally: after,
    delayMs,
    pauseLog,
  });
  const stop = (after: RetryTally): RetryStep => ({ retry: false, tally: after });
  it.each<[string, ErrorCode, number | undefined, RetryTally, RetryStep]>([
    ['a first network error backs off', 'CT_NETWORK', undefined, t(0, 0), wait(t(1, 0), 100, false)],
    ['a second one backs off longer', 'CT_TIMEOUT', undefined, t(1, 0), wait(t(2, 0), 200, false)],
    ['the third spends the budget', 'CT_HTTP', undefined, t(2, 0), stop(t(3, 0))],
    ['503 with Retry-After pauses the log', 'CT_HTTP', 5_000, t(0, 0), wait(t(1, 0), 5_000, true)],
    [
      '429 pauses the log without Retry-After',
      'CT_RATE_LIMITED',
      undefined,
      t(2, 0),
      wait(t(2, 1), 100, true),
    ],
    ['429 has its own budget', 'CT_RATE_LIMITED', 1_000, t(0, 1), stop(t(0, 2))],
  ])('%s', (_what, code, retryAfterMs, tally, step) => {
    expect(nextRetry({ code, retryAfterMs }, tally, policy)).toEqual(step);
  });
});
