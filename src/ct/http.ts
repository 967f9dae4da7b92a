/**
 * @module ct/http
 * The one HTTP client both CT transports use (RFC 6962 §4 JSON API and c2sp.org/static-ct-api
 * tiles): one `CtHttpClient` per log, because the limits that protect a log (and keep it from
 * throttling us) are per log: a cap on requests in flight, an optional request rate, and the
 * Retry-After pause, which speaks for the whole log. Its `get` runs the loop: wait for a slot,
 * make one attempt (`ct/http-attempt`: deadline, strict body reading and decoding under the
 * per-endpoint ceilings of `ct/http-limits`), follow a redirect only within the log's origin
 * (`ct/http-redirect`), retry with backoff or give up (`ct/http-retry`). Pools and proxies live in
 * `ct/http-pool`.
 *
 * Failures are typed `CtHttpError`s that carry the URL, status and a (sanitised) body snippet.
 * Nothing is printed; retries are reported through `onRetry` for the caller to log.
 */
import { isIP } from 'node:net';
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import { CertvigilError } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import { packageVersion } from '../package-files.js';
import { abortedFailure, attemptGet } from './http-attempt.js';
import type { Attempt, AttemptFailure, CtResponse } from './http-attempt.js';
import { snippet, strictUtf8 } from './http-body.js';
import { DEFAULT_MAX_BODY_BYTES } from './http-limits.js';
import type { CtGetOptions } from './http-limits.js';
import { DispatcherPool } from './http-pool.js';
import { redirectTarget } from './http-redirect.js';
import { backoffDelay, nextRetry } from './http-retry.js';
import type { RetryTally } from './http-retry.js';
import { proxyConfigFromEnv } from './proxy.js';
import type { ProxyConfig } from './proxy.js';
import { Semaphore, systemClock, TokenBucket } from './rate-limit.js';
import type { Clock } from './rate-limit.js';

export const DEFAULT_USER_AGENT = `certvigil/${packageVersion()}`;

/** Details every transport error carries, whatever its code. */
export interface CtHttpErrorDetails {
  url: string;
  /** HTTP status when a response arrived. */
  status?: number;
  /** The start of the response body, control characters replaced, for the error report. */
  bodySnippet?: string;
  /** Whether another attempt could succeed (network trouble, 5xx, 429, timeout, truncation). */
  retryable?: boolean;
  /** The server's Retry-After, in ms, capped (429 and 503 only). */
  retryAfterMs?: number;
  /** Attempts made before giving up. */
  attempts?: number;
  cause?: unknown;
}

/**
 * A failed GET. `code` says what kind (`CT_HTTP` for an unwanted status, `CT_TIMEOUT`, `CT_NETWORK`,
 * `CT_TRUNCATED`, `CT_BODY_TOO_LARGE`, `CT_RATE_LIMITED`, `CT_ABORTED`, `CT_BAD_RESPONSE`).
 */
export class CtHttpError extends CertvigilError {
  readonly url: string;
  readonly status: number | undefined;
  readonly bodySnippet: string | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly attempts: number;

  constructor(code: ErrorCode, message: string, details: CtHttpErrorDetails) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'CtHttpError';
    this.url = details.url;
    this.status = details.status;
    this.bodySnippet = details.bodySnippet;
    this.retryable = details.retryable ?? false;
    this.retryAfterMs = details.retryAfterMs;
    this.attempts = details.attempts ?? 1;
  }
}

/** Reported before each retry, for the caller's logger. */
export interface RetryEvent {
  url: string;
  /** The attempt that just failed (1-based). */
  attempt: number;
  delayMs: number;
  error: CtHttpError;
}

export interface CtHttpOptions {
  /** Deadline for one attempt, from sending to the last body byte. Default 30 s. */
  timeoutMs?: number;
  /** Attempts for network errors, timeouts, truncated bodies and 5xx. Default 5. */
  maxAttempts?: number;
  /** Attempts while the log answers 429. Default 10: throttling is normal, failure is not. */
  maxRateLimitedAttempts?: number;
  /** First backoff step; doubles per failed attempt up to `backoffMaxMs`. Defaults 1 s and 60 s. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Longest Retry-After obeyed; longer ones are cut to this. Default 120 s. */
  maxRetryAfterMs?: number;
  /** Requests in flight to this log at most. Default 4. */
  maxConcurrency?: number;
  /** Optional request rate limit (token bucket) and its burst (default max(1, rate)). */
  requestsPerSecond?: number;
  burst?: number;
  /** Largest body accepted, after decompression. Default 64 MiB. */
  maxBodyBytes?: number;
  userAgent?: string;
  /** Cancels every request of this client, now and later. */
  signal?: AbortSignal;
  /**
   * Connection pool; by default the client owns a keep-alive `undici.Agent` (and one
   * `undici.ProxyAgent` per proxy in use). A dispatcher given here is used as is, proxy or not.
   */
  dispatcher?: Dispatcher;
  /**
   * Source address (a literal IP of this host) of direct connections from the client's own pool:
   * logs rate-limit per client IP, so workers on a multi-homed host each take one. Default: kernel's.
   */
  localAddress?: string;
  /**
   * Proxy settings (see `ct/proxy`). Default: `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` (and lower-case
   * forms) from the environment as it is when the client is made; `false`: never a proxy.
   */
  proxy?: ProxyConfig | false;
  /** Backoff, Retry-After and rate-limit waits. Per-attempt deadlines use real timers. */
  clock?: Clock;
  /** In [0, 1); jitter source. */
  random?: () => number;
  onRetry?: (event: RetryEvent) => void;
}

/** A signal that aborts when any of `signals` does; `dispose` detaches it again. */
function linkSignals(signals: (AbortSignal | undefined)[]): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  const onAbort = (): void => controller.abort();
  for (const s of present) {
    if (s.aborted) controller.abort();
    else s.addEventListener('abort', onAbort, { once: true });
  }
  return {
    signal: controller.signal,
    dispose: () => present.forEach((s) => s.removeEventListener('abort', onAbort)),
  };
}

/**
 * GETs against one CT log.
 *
 * @example
 * const http = new CtHttpClient({ maxConcurrency: 4, requestsPerSecond: 10 });
 * const sth = await http.getJson('https://ct.example/log/ct/v1/get-sth', sthSchema);
 * await http.close();
 */
export class CtHttpClient {
  readonly timeoutMs: number;
  readonly maxAttempts: number;
  readonly maxRateLimitedAttempts: number;
  readonly maxBodyBytes: number;
  readonly userAgent: string;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly semaphore: Semaphore;
  private readonly bucket: TokenBucket | undefined;
  private readonly pool: DispatcherPool;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly signal: AbortSignal | undefined;
  private readonly onRetry: ((event: RetryEvent) => void) | undefined;
  /** Clock time before which no request is sent: the log asked us to wait (Retry-After, 429). */
  private pausedUntil = 0;

  constructor(options: CtHttpOptions = {}) {
    this.timeoutMs = positive(options.timeoutMs ?? 30_000, 'timeoutMs');
    this.maxAttempts = positiveInt(options.maxAttempts ?? 5, 'maxAttempts');
    this.maxRateLimitedAttempts = positiveInt(options.maxRateLimitedAttempts ?? 10, 'maxRateLimitedAttempts');
    this.backoffBaseMs = nonNegative(options.backoffBaseMs ?? 1_000, 'backoffBaseMs');
    this.backoffMaxMs = nonNegative(options.backoffMaxMs ?? 60_000, 'backoffMaxMs');
    this.maxRetryAfterMs = nonNegative(options.maxRetryAfterMs ?? 120_000, 'maxRetryAfterMs');
    this.maxBodyBytes = positiveInt(options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, 'maxBodyBytes');
    this.userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.signal = options.signal;
    this.onRetry = options.onRetry;
    const concurrency = positiveInt(options.maxConcurrency ?? 4, 'maxConcurrency');
    this.semaphore = new Semaphore(concurrency);
    this.bucket =
      options.requestsPerSecond === undefined
        ? undefined
        : new TokenBucket(
            options.requestsPerSecond,
            options.burst ?? Math.max(1, options.requestsPerSecond),
            this.clock,
          );
    const proxyConfig: ProxyConfig =
      options.dispatcher !== undefined || options.proxy === false
        ? {}
        : (options.proxy ?? proxyConfigFromEnv());
    const localAddress = options.localAddress;
    if (localAddress !== undefined && isIP(localAddress) === 0)
      throw new CertvigilError('CT_INVALID_ARGUMENT', 'localAddress must be a literal IPv4 or IPv6 address');
    this.pool = new DispatcherPool(options.dispatcher, proxyConfig, concurrency, localAddress);
  }

  /** Requests in flight right now. */
  get inFlight(): number {
    return this.semaphore.inFlight;
  }

  /** The injected clock's sleep (the log clients use it for their own bounded re-asks). */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.clock.sleep(ms, signal);
  }

  /** Backoff before attempt `failures + 1`: exponential, "equal jitter" (half fixed, half random). */
  backoffMs(failures: number): number {
    return backoffDelay(failures, this.backoffBaseMs, this.backoffMaxMs, this.random);
  }

  /**
   * GET `url` and return its decoded body (status 200 only). Retries network errors, timeouts,
   * truncated bodies, 408 and 5xx up to `maxAttempts`, and 429 up to `maxRateLimitedAttempts`;
   * throws `CtHttpError` otherwise.
   */
  async get(url: string | URL, options: CtGetOptions = {}): Promise<CtResponse> {
    const href = String(url);
    const call = linkSignals([this.signal, options.signal]);
    let tally: RetryTally = { failures: 0, rateLimited: 0 };
    let redirects = 0;
    let current = href;
    try {
      for (;;) {
        if (call.signal.aborted) throw this.aborted(href);
        let outcome: Attempt;
        let release: (() => void) | undefined;
        try {
          release = await this.semaphore.acquire(call.signal);
          await this.waitWhilePaused(call.signal);
          await this.bucket?.take(call.signal);
          outcome = await this.attempt(current, options, call.signal);
        } catch (err) {
          // Only the waits above throw here (all aborts), and an unusable proxy (a CtHttpError):
          // attempt() returns its failures.
          throw err instanceof CtHttpError ? err : this.aborted(href);
        } finally {
          release?.();
        }
        if (outcome.ok === 'redirect') {
          const target = redirectTarget(href, current, outcome.location, ++redirects);
          if ('refused' in target) {
            throw new CtHttpError('CT_REDIRECT', `GET ${href}: ${target.refused}`, {
              url: href,
              retryable: false,
            });
          }
          current = target.href;
          continue;
        }
        if (outcome.ok) return outcome.response;
        const error = toError(outcome.failure);
        if (!error.retryable) throw error;
        const step = nextRetry(error, tally, this);
        tally = step.tally;
        const attempts = tally.failures + tally.rateLimited;
        if (!step.retry) throw this.exhausted(error, attempts);
        this.onRetry?.({ url: href, attempt: attempts, delayMs: step.delayMs, error });
        if (step.pauseLog) {
          // Throttling speaks for the whole log, not for one request: every request of this client
          // waits (429: RFC 6585 §4; 503 with Retry-After: RFC 9110 §15.6.4).
          this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + step.delayMs);
        } else {
          await this.clock.sleep(step.delayMs, call.signal).catch(() => {
            throw this.aborted(href);
          });
        }
      }
    } finally {
      call.dispose();
    }
  }

  /** GET and decode UTF-8 (strictly: invalid sequences are an error, not U+FFFD). */
  async getText(url: string | URL, options: CtGetOptions = {}): Promise<string> {
    const res = await this.get(url, options);
    try {
      return strictUtf8(res.body);
    } catch (cause) {
      throw badResponse(res, 'body is not valid UTF-8', cause);
    }
  }

  /** A response's body as JSON (strict UTF-8); anything else is `CT_BAD_RESPONSE`. */
  parseJson(res: CtResponse): unknown {
    try {
      return JSON.parse(strictUtf8(res.body));
    } catch (cause) {
      throw badResponse(res, res.body.length === 0 ? 'empty body, expected JSON' : 'body is not JSON', cause);
    }
  }

  /** GET, parse JSON and validate it with `schema`; any mismatch is `CT_BAD_RESPONSE`. */
  async getJson<S extends z.ZodType>(
    url: string | URL,
    schema: S,
    options: CtGetOptions = {},
  ): Promise<z.output<S>> {
    const res = await this.get(url, options);
    const parsed = schema.safeParse(this.parseJson(res));
    if (!parsed.success) {
      const issues = parsed.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
        .join('; ');
      throw badResponse(res, `unexpected JSON: ${issues}`, parsed.error);
    }
    return parsed.data;
  }

  /** Closes the pool this client created (waits for requests in flight); a shared one is left alone. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Like `close`, but drops open connections at once. */
  async destroy(): Promise<void> {
    await this.pool.destroy();
  }

  /** The proxy `url` goes through under this client's settings, or undefined (direct). */
  proxyFor(url: string | URL): string | undefined {
    return this.pool.proxyFor(url);
  }

  private async waitWhilePaused(signal: AbortSignal): Promise<void> {
    for (
      let wait = this.pausedUntil - this.clock.now();
      wait > 0;
      wait = this.pausedUntil - this.clock.now()
    ) {
      await this.clock.sleep(wait, signal);
    }
  }

  private aborted(url: string): CtHttpError {
    return toError(abortedFailure(url));
  }

  private exhausted(last: CtHttpError, attempts: number): CtHttpError {
    return new CtHttpError(last.code, `${last.message} (gave up after ${attempts} attempts)`, {
      url: last.url,
      status: last.status,
      bodySnippet: last.bodySnippet,
      retryable: true,
      retryAfterMs: last.retryAfterMs,
      attempts,
      cause: last,
    });
  }

  /** One attempt through the pool for `url`; only an unusable proxy URL throws. */
  private async attempt(url: string, options: CtGetOptions, callSignal: AbortSignal): Promise<Attempt> {
    // An unusable proxy URL is a configuration error, not a network one to retry.
    const choice = await this.pool.choose(url);
    if ('badProxy' in choice) {
      throw new CtHttpError('CT_INVALID_ARGUMENT', `the proxy for ${url} is not a usable URL`, {
        url,
        cause: choice.badProxy,
      });
    }
    return attemptGet(
      url,
      options,
      {
        dispatcher: choice.dispatcher,
        proxy: choice.proxy,
        timeoutMs: this.timeoutMs,
        userAgent: this.userAgent,
        limit: Math.min(this.maxBodyBytes, options.maxBytes ?? Infinity),
        maxRetryAfterMs: this.maxRetryAfterMs,
        now: () => this.clock.now(),
      },
      callSignal,
    );
  }
}

function toError(failure: AttemptFailure): CtHttpError {
  return new CtHttpError(failure.code, failure.message, failure.details);
}

function badResponse(res: CtResponse, message: string, cause: unknown): CtHttpError {
  return new CtHttpError('CT_BAD_RESPONSE', `GET ${res.url}: ${message}`, {
    url: res.url,
    status: res.status,
    bodySnippet: snippet(res.body),
    cause,
  });
}

function positive(n: number, name: string): number {
  if (!(n > 0) || !Number.isFinite(n))
    throw new CertvigilError('CT_INVALID_ARGUMENT', `${name} must be > 0, not ${n}`);
  return n;
}

function positiveInt(n: number, name: string): number {
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new CertvigilError('CT_INVALID_ARGUMENT', `${name} must be a positive integer, not ${n}`);
  }
  return n;
}

function nonNegative(n: number, name: string): number {
  if (!(n >= 0) || !Number.isFinite(n))
    throw new CertvigilError('CT_INVALID_ARGUMENT', `${name} must be >= 0, not ${n}`);
  return n;
}
