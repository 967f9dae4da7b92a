/**
 * @module ct/http
 * The one HTTP client both CT transports use (RFC 6962 JSON API and static-ct-api tiles): GET with
 * a per-attempt deadline, bounded retries with exponential backoff and jitter, `Retry-After`
 * honoured for the whole log, a per-log cap on requests in flight and an optional request rate,
 * strict gzip, a body-size ceiling per client and a tighter one per endpoint (`RESPONSE_LIMITS`),
 * enforced while the body streams in, redirects followed only within the log's own origin, and
 * typed errors that carry the URL, status and a (sanitised) body snippet.
 *
 * Built on `undici.request` rather than `fetch` because fetch decodes `Content-Encoding: gzip`
 * leniently: a gzip stream cut short inside a complete HTTP body comes back as silently short data
 * (undici flushes with Z_SYNC_FLUSH). Here the raw bytes are read, counted against Content-Length,
 * and gunzipped with Z_FINISH, so every kind of truncation is an error.
 *
 * One `CtHttpClient` per log: the concurrency and rate limits, and the Retry-After pause, belong to
 * the instance. Nothing is printed; retries are reported through `onRetry` for the caller to log.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Dispatcher, ProxyAgent } from 'undici';
import type * as Undici from 'undici';
import type { z } from 'zod';
import { CertvigilError } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import { packageVersion } from '../package-files.js';
import { sanitizeText } from '../sanitize.js';
import { describeProxy, proxyConfigFromEnv, proxyFor } from './proxy.js';
import type { ProxyConfig } from './proxy.js';
import { Semaphore, systemClock, TokenBucket } from './rate-limit.js';
import type { Clock } from './rate-limit.js';

export const DEFAULT_USER_AGENT = `certvigil/${packageVersion()}`;

let undiciModule: Promise<typeof Undici> | undefined;
/**
 * undici, loaded on the first request rather than with this module: `check endpoint` imports the
 * CT client but, with `--ct-policy none`, `--min-scts 0` or a private CA, never asks a log
 * anything, and undici is the largest package a plugin run would otherwise load (~20 ms).
 */
function undici(): Promise<typeof Undici> {
  undiciModule ??= import('undici');
  return undiciModule;
}
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

const KIB = 1024;
const MIB = 1024 * KIB;

/**
 * Response ceilings per endpoint, in decoded bytes, each far above what a real log sends and far
 * below what would hurt: without one, a 66 MB get-sth is buffered and JSON-parsed whole (3.4 GB of RSS).
 * The client's own `maxBodyBytes` still applies on top (the smaller one wins).
 */
export const RESPONSE_LIMITS = {
  /** get-sth JSON is ~300 bytes; a checkpoint with a few dozen cosignatures a few KiB. */
  treeHead: 64 * KIB,
  /**
   * get-sth-consistency / get-proof-by-hash: a proof in a tree of < 2^64 leaves holds at most 64
   * (audit path) or 2·64 (consistency) hashes of 44 base64 characters (RFC 6962 §2.1.1, §2.1.2);
   * 64 bytes per hash leaves room for quotes, commas and whitespace.
   */
  proof: 4 * KIB + 128 * 64,
  /** One get-entries item (leaf_input + extra_data, base64): chains of large certificates fit. */
  entryJson: 256 * KIB,
  /** The JSON around the entries of one get-entries answer. */
  entriesOverhead: 64 * KIB,
  /** One TileLeaf of a static-ct-api data tile (binary, so smaller than its JSON form). */
  dataTileEntry: 128 * KIB,
  /** static-ct-api: "Full tiles MUST be exactly 256 hashes wide, or 8,192 bytes". */
  hashTileHash: 32,
  /** One DER issuer certificate (static-ct-api `issuer/<fingerprint>`). */
  issuer: 256 * KIB,
  /** get-roots: a few hundred root certificates in base64. */
  roots: 16 * MIB,
  /** A CT log list (Google's all-logs list is ~200 KB). */
  logList: 8 * MIB,
  /** A detached log list signature (512 bytes for RSA-4096). */
  logListSignature: 64 * KIB,
} as const;

/** `options` with `maxBytes` lowered to `cap` (a caller's smaller cap is kept). */
export function withCap(options: CtGetOptions, cap: number): CtGetOptions {
  return { ...options, maxBytes: Math.min(options.maxBytes ?? cap, cap) };
}

/** Redirects followed at most per request (all within the log's origin). */
export const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

const gunzipAsync = promisify(zlib.gunzip);

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

export interface CtGetOptions {
  signal?: AbortSignal;
  /**
   * After HTTP decoding, gunzip the body again if it still starts with the gzip magic 1f 8b
   * (static-ct-api data tiles stored gzip'ed and served without `Content-Encoding`). Only for
   * bodies that cannot legitimately start with those bytes: never for hash tiles.
   */
  sniffGzip?: boolean;
  /**
   * Largest body accepted for this request, after decoding (the client's `maxBodyBytes` still
   * applies when smaller): a per-endpoint cap from `RESPONSE_LIMITS`, checked while streaming.
   */
  maxBytes?: number;
}

export interface CtResponse {
  url: string;
  status: number;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The decoded body. */
  body: Uint8Array;
}

/** One attempt's result: a response, a redirect to judge, or an error saying whether to try again. */
type Attempt =
  | { ok: true; response: CtResponse }
  | { ok: false; error: CtHttpError }
  | { ok: 'redirect'; location: string };

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
const SNIPPET_BYTES = 512;
const SNIPPET_CHARS = 200;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1;
}

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

function header(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** The start of a log's error body, made safe for a terminal or a log line (it is the log's text). */
function snippet(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, SNIPPET_BYTES)).toString(
    'utf8',
  );
  // Runs of whitespace and line breaks become one space first, so a multi-line HTML page reads as
  // one line; every other control, bidi or separator character becomes a visible escape.
  return sanitizeText(text.replace(/[\t\n\r ]+/g, ' ').trim(), { maxLength: SNIPPET_CHARS });
}

/** A redirect target for a message: no credentials, controls escaped, bounded length. */
function describeLocation(location: string, base: string): string {
  try {
    const u = new URL(location, base);
    u.username = '';
    u.password = '';
    return sanitizeText(u.href, { maxLength: 200 });
  } catch {
    return sanitizeText(JSON.stringify(location), { maxLength: 200 });
  }
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

/** undici error codes that mean "the deadline passed", as opposed to "the network failed". */
const UNDICI_TIMEOUTS = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

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
  /** The pool given in the options, or ours once the first request has made it. */
  private dispatcher: Dispatcher | undefined;
  private readonly ownsDispatcher: boolean;
  private readonly proxyConfig: ProxyConfig;
  /** One pool per proxy URL, made on first use (an unused HTTPS_PROXY costs nothing). */
  private readonly proxyAgents = new Map<string, ProxyAgent>();
  private readonly connections: number;
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
    this.ownsDispatcher = options.dispatcher === undefined;
    this.connections = concurrency;
    this.proxyConfig =
      options.dispatcher !== undefined || options.proxy === false
        ? {}
        : (options.proxy ?? proxyConfigFromEnv());
    this.dispatcher = options.dispatcher;
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
    const step = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** Math.max(0, failures - 1));
    return Math.round(step / 2 + this.random() * (step / 2));
  }

  /**
   * GET `url` and return its decoded body (status 200 only). Retries network errors, timeouts,
   * truncated bodies, 408 and 5xx up to `maxAttempts`, and 429 up to `maxRateLimitedAttempts`;
   * throws `CtHttpError` otherwise.
   */
  async get(url: string | URL, options: CtGetOptions = {}): Promise<CtResponse> {
    const href = String(url);
    const call = linkSignals([this.signal, options.signal]);
    let failures = 0;
    let rateLimited = 0;
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
          // Only the waits above throw here (all aborts): attempt() returns its failures.
          throw err instanceof CtHttpError ? err : this.aborted(href);
        } finally {
          release?.();
        }
        if (outcome.ok === 'redirect') {
          current = this.redirectTarget(href, current, outcome.location, ++redirects);
          continue;
        }
        if (outcome.ok) return outcome.response;
        const { error } = outcome;
        if (!error.retryable) throw error;
        const limited = error.code === 'CT_RATE_LIMITED';
        if (limited) rateLimited++;
        else failures++;
        const used = limited ? rateLimited : failures;
        const budget = limited ? this.maxRateLimitedAttempts : this.maxAttempts;
        if (used >= budget) throw this.exhausted(error, failures + rateLimited);
        const delayMs = error.retryAfterMs ?? this.backoffMs(used);
        this.onRetry?.({ url: href, attempt: failures + rateLimited, delayMs, error });
        if (error.retryAfterMs !== undefined || limited) {
          // Throttling speaks for the whole log, not for one request: every request of this client
          // waits (429: RFC 6585 §4; 503 with Retry-After: RFC 9110 §15.6.4).
          this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + delayMs);
        } else {
          await this.clock.sleep(delayMs, call.signal).catch(() => {
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
      return new TextDecoder('utf-8', { fatal: true }).decode(res.body);
    } catch (cause) {
      throw badResponse(res, 'body is not valid UTF-8', cause);
    }
  }

  /** GET, parse JSON and validate it with `schema`; any mismatch is `CT_BAD_RESPONSE`. */
  async getJson<S extends z.ZodType>(
    url: string | URL,
    schema: S,
    options: CtGetOptions = {},
  ): Promise<z.output<S>> {
    const res = await this.get(url, options);
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(res.body));
    } catch (cause) {
      throw badResponse(res, res.body.length === 0 ? 'empty body, expected JSON' : 'body is not JSON', cause);
    }
    const parsed = schema.safeParse(json);
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
    if (this.ownsDispatcher)
      await Promise.all([this.dispatcher?.close(), ...[...this.proxyAgents.values()].map((a) => a.close())]);
  }

  /** Like `close`, but drops open connections at once. */
  async destroy(): Promise<void> {
    if (this.ownsDispatcher)
      await Promise.all([
        this.dispatcher?.destroy(),
        ...[...this.proxyAgents.values()].map((a) => a.destroy()),
      ]);
  }

  /** The proxy `url` goes through under this client's settings, or undefined (direct). */
  proxyFor(url: string | URL): string | undefined {
    return proxyFor(new URL(String(url)), this.proxyConfig);
  }

  /** The pool for `url`: direct, or the proxy's (HTTPS_PROXY / HTTP_PROXY unless NO_PROXY). */
  private async dispatcherFor(url: string): Promise<{ dispatcher: Dispatcher; proxy?: string }> {
    const proxy = this.ownsDispatcher ? this.proxyFor(url) : undefined;
    const { Agent, ProxyAgent } = await undici();
    if (proxy === undefined) {
      // Keep-alive pool; one connection per allowed in-flight request (HTTP/1.1, no pipelining).
      this.dispatcher ??= new Agent({
        keepAliveTimeout: 30_000,
        connections: this.connections,
        pipelining: 1,
      });
      return { dispatcher: this.dispatcher };
    }
    let agent = this.proxyAgents.get(proxy);
    if (agent === undefined) {
      try {
        agent = new ProxyAgent({
          uri: proxy,
          // http:// targets as absolute-form requests to the proxy (RFC 9112 §3.2.2), not CONNECT
          // tunnels: proxies commonly allow CONNECT to port 443 only. https:// still tunnels
          // (RFC 9110 §9.3.6), so TLS runs end to end with the log and the proxy sees no content.
          proxyTunnel: false,
          keepAliveTimeout: 30_000,
          connections: this.connections,
          pipelining: 1,
        });
      } catch (cause) {
        throw new CtHttpError('CT_INVALID_ARGUMENT', `the proxy for ${url} is not a usable URL`, {
          url,
          cause,
        });
      }
      this.proxyAgents.set(proxy, agent);
    }
    return { dispatcher: agent, proxy };
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

  /**
   * Where a redirect may lead: only to the origin (scheme, host, port) of the URL first asked for.
   * A log's URL comes from a signed log list; a redirect to another origin would let whoever
   * controls a response (a compromised CDN edge, a misconfigured proxy) send the monitor to any
   * host, including internal ones, and a scheme change could downgrade https to http.
   */
  private redirectTarget(original: string, current: string, location: string, count: number): string {
    const refuse = (why: string): CtHttpError =>
      new CtHttpError('CT_REDIRECT', `GET ${original}: ${why}`, { url: original, retryable: false });
    let target: URL;
    try {
      target = new URL(location, current);
    } catch {
      throw refuse(`redirected to an unparsable Location ${describeLocation(location, current)}`);
    }
    const origin = new URL(original).origin;
    if (target.origin !== origin || target.username !== '' || target.password !== '') {
      throw refuse(
        `redirected to ${describeLocation(location, current)}, outside the log's origin ${origin}: refused`,
      );
    }
    if (count > MAX_REDIRECTS) throw refuse(`more than ${MAX_REDIRECTS} redirects`);
    target.hash = '';
    return target.href;
  }

  private aborted(url: string): CtHttpError {
    return new CtHttpError('CT_ABORTED', `GET ${url}: cancelled`, { url });
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

  /** One request/response under its own deadline. Never throws: failures are classified. */
  private async attempt(url: string, options: CtGetOptions, callSignal: AbortSignal): Promise<Attempt> {
    // Outside the try: an unusable proxy URL is a configuration error, not a network one to retry.
    const { dispatcher, proxy } = await this.dispatcherFor(url);
    const { request } = await undici();
    // Said in network errors: "ECONNREFUSED 10.0.0.1:3128" alone does not say it was the proxy.
    const via = proxy === undefined ? '' : ` (through proxy ${describeProxy(proxy)})`;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timeoutMs);
    const onAbort = (): void => controller.abort();
    callSignal.addEventListener('abort', onAbort, { once: true });
    let res: Dispatcher.ResponseData | undefined;
    const fail = (code: ErrorCode, message: string, extra: Partial<CtHttpErrorDetails> = {}): Attempt => ({
      ok: false,
      error: new CtHttpError(code, `GET ${url}: ${message}`, { url, status: res?.statusCode, ...extra }),
    });
    try {
      res = await request(url, {
        method: 'GET',
        dispatcher,
        signal: controller.signal,
        // Redirects are followed by `get`, which checks each target's origin first.
        maxRedirections: 0,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        headers: {
          'user-agent': this.userAgent,
          // static-ct-api: "Clients SHOULD include gzip and identity in their Accept-Encoding".
          'accept-encoding': 'gzip, identity',
        },
      });
      // undici's body emits an AbortError when destroyed unread (the finally below); the readers
      // here see errors through their iterators, so this listener only keeps it from going uncaught.
      res.body.on('error', () => undefined);
      const status = res.statusCode;
      const location = header(res.headers, 'location');
      if (REDIRECT_STATUSES.has(status) && location !== undefined && location !== '')
        return { ok: 'redirect', location };
      if (status !== 200) return await this.statusFailure(url, res, fail);
      const limit = Math.min(this.maxBodyBytes, options.maxBytes ?? Infinity);
      const raw = await this.readBody(res, limit, options, fail);
      if (!(raw instanceof Uint8Array)) return raw;
      const body = await this.decode(res, raw, limit, options, fail);
      if (!(body instanceof Uint8Array)) return body;
      return { ok: true, response: { url, status, headers: res.headers, body } };
    } catch (cause) {
      if (callSignal.aborted) return { ok: false, error: this.aborted(url) };
      const code = (cause as { code?: unknown }).code;
      if (timedOut || (typeof code === 'string' && UNDICI_TIMEOUTS.has(code))) {
        return fail('CT_TIMEOUT', `no complete answer within ${this.timeoutMs} ms${via}`, {
          retryable: true,
          cause,
        });
      }
      const why = cause instanceof Error ? cause.message : String(cause);
      // Headers arrived but the body did not: the connection closed early or the length lied.
      if (res !== undefined)
        return fail('CT_TRUNCATED', `body cut short (${why})`, { retryable: true, cause });
      return fail('CT_NETWORK', `${why}${via}`, { retryable: true, cause });
    } finally {
      clearTimeout(timer);
      callSignal.removeEventListener('abort', onAbort);
      if (res !== undefined && !res.body.destroyed && !res.body.readableEnded) res.body.destroy();
    }
  }

  private async statusFailure(
    url: string,
    res: Dispatcher.ResponseData,
    fail: (code: ErrorCode, message: string, extra?: Partial<CtHttpErrorDetails>) => Attempt,
  ): Promise<Attempt> {
    const status = res.statusCode;
    const bodySnippet = await readSnippet(res.body);
    const retryAfter = parseRetryAfter(header(res.headers, 'retry-after'), this.clock.now());
    const retryAfterMs = retryAfter === undefined ? undefined : Math.min(retryAfter, this.maxRetryAfterMs);
    const shown = bodySnippet ? `: ${bodySnippet}` : '';
    // RFC 6585 §4: 429 Too Many Requests, with an optional Retry-After.
    if (status === 429)
      return fail('CT_RATE_LIMITED', `HTTP 429${shown}`, { bodySnippet, retryable: true, retryAfterMs });
    // RFC 9110 §15.6: 5xx are the server's trouble and may pass (not 501/505, which say "never");
    // §15.6.4: 503 may carry Retry-After; §15.5.9: 408 means the server gave up waiting for us.
    const retryable = (status >= 500 && status !== 501 && status !== 505) || status === 408;
    return fail('CT_HTTP', `HTTP ${status}${shown}`, {
      bodySnippet,
      retryable,
      retryAfterMs: status === 503 ? retryAfterMs : undefined,
    });
  }

  /**
   * Reads the whole raw body, refusing more than `limit` (plus gzip's framing when the body may be
   * compressed) as soon as the count passes it, and less than Content-Length. Nothing past the
   * limit is ever buffered: the connection is dropped instead.
   */
  private async readBody(
    res: Dispatcher.ResponseData,
    limit: number,
    options: CtGetOptions,
    fail: (code: ErrorCode, message: string, extra?: Partial<CtHttpErrorDetails>) => Attempt,
  ): Promise<Uint8Array | Attempt> {
    const encoding = header(res.headers, 'content-encoding')?.trim().toLowerCase();
    const mayBeGzip = encoding === 'gzip' || encoding === 'x-gzip' || options.sniffGzip === true;
    // Incompressible data grows by gzip's 18-byte frame and 5 bytes per 16 KiB stored block
    // (RFC 1951 §3.2.4); the decoded size is held to `limit` by gunzip itself.
    const rawLimit = mayBeGzip ? limit + 1024 + Math.ceil(limit / 1024) : limit;
    const lengthHeader = header(res.headers, 'content-length');
    const declared = lengthHeader === undefined ? undefined : Number(lengthHeader);
    if (declared !== undefined && declared > rawLimit) {
      return fail('CT_BODY_TOO_LARGE', `Content-Length ${declared} exceeds the ${rawLimit}-byte limit`);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > rawLimit) {
        return fail('CT_BODY_TOO_LARGE', `body exceeds the ${rawLimit}-byte limit`);
      }
      chunks.push(chunk);
    }
    // undici already refuses a short body on a closed connection; this also covers any other path
    // to a length mismatch, because short data must never pass for a complete tile or response.
    if (declared !== undefined && Number.isFinite(declared) && total !== declared) {
      return fail('CT_TRUNCATED', `got ${total} of ${declared} bytes`, { retryable: true });
    }
    return Buffer.concat(chunks, total);
  }

  private async decode(
    res: Dispatcher.ResponseData,
    raw: Uint8Array,
    limit: number,
    options: CtGetOptions,
    fail: (code: ErrorCode, message: string, extra?: Partial<CtHttpErrorDetails>) => Attempt,
  ): Promise<Uint8Array | Attempt> {
    const encoding = header(res.headers, 'content-encoding')?.trim().toLowerCase();
    let body = raw;
    try {
      if (encoding === 'gzip' || encoding === 'x-gzip') body = await gunzip(body, limit);
      else if (encoding !== undefined && encoding !== '' && encoding !== 'identity') {
        return fail(
          'CT_BAD_RESPONSE',
          `unsupported Content-Encoding "${encoding}" (asked for gzip or identity)`,
        );
      }
      if (options.sniffGzip === true && isGzip(body)) body = await gunzip(body, limit);
      if (body.length > limit)
        return fail('CT_BODY_TOO_LARGE', `decompressed body exceeds the ${limit}-byte limit`);
    } catch (cause) {
      if ((cause as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
        return fail('CT_BODY_TOO_LARGE', `decompressed body exceeds the ${limit}-byte limit`, {
          cause,
        });
      }
      const why = cause instanceof Error ? cause.message : String(cause);
      return fail('CT_BAD_RESPONSE', `corrupt or truncated gzip body (${why})`, { cause });
    }
    return body;
  }
}

/**
 * Z_FINISH (zlib's default) makes a stream that ends early an error instead of short data;
 * `maxOutputLength` stops inflating a gzip bomb at `limit` bytes instead of after it.
 */
async function gunzip(bytes: Uint8Array, limit: number): Promise<Uint8Array> {
  return gunzipAsync(bytes, { maxOutputLength: limit });
}

/** Reads up to `SNIPPET_BYTES` of an error body for the report, then lets the rest go. */
async function readSnippet(body: Dispatcher.ResponseData['body']): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      total += chunk.length;
      if (total >= SNIPPET_BYTES) break;
    }
  } catch {
    // The snippet is decoration; a broken error body does not change the error.
  }
  const text = snippet(Buffer.concat(chunks));
  return text === '' ? undefined : text;
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
