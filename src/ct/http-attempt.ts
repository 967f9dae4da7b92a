/**
 * @module ct/http-attempt
 * One GET of a CT log under its own deadline (from sending to the last body byte), and what came
 * of it: a decoded response, a redirect for the client to judge, or a classified failure that says
 * whether another attempt could succeed. It never throws and never retries: retries, redirects and
 * the per-log limits belong to the client (`ct/http`), which turns a failure into a `CtHttpError`.
 *
 * Built on `undici.request` rather than `fetch` so the raw body can be read under a ceiling and
 * decoded strictly (`ct/http-body`).
 */
import { errorMessage } from '../errors.js';
import type { Dispatcher } from 'undici';
import type { ErrorCode } from '../errors.js';
import type { CtHttpErrorDetails } from './http.js';
import { decodeBody, header, readBody, readSnippet } from './http-body.js';
import type { CtGetOptions } from './http-limits.js';
import { isRedirect } from './http-redirect.js';
import { classifyStatus, parseRetryAfter } from './http-retry.js';
import { describeProxy } from './proxy.js';
import { undici } from './http-pool.js';

export interface CtResponse {
  url: string;
  status: number;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The decoded body. */
  body: Uint8Array;
}

/** A failed attempt, ready to become a `CtHttpError(code, message, details)`. */
export interface AttemptFailure {
  code: ErrorCode;
  message: string;
  details: CtHttpErrorDetails;
}

/** One attempt's result: a response, a redirect to judge, or a failure saying whether to try again. */
export type Attempt =
  | { ok: true; response: CtResponse }
  | { ok: false; failure: AttemptFailure }
  | { ok: 'redirect'; location: string };

/** What one attempt needs from the client. */
export interface AttemptSettings {
  dispatcher: Dispatcher;
  /** The proxy the request goes through, named in network errors. */
  proxy?: string;
  timeoutMs: number;
  userAgent: string;
  /** Largest decoded body accepted. */
  limit: number;
  /** Longest Retry-After reported. */
  maxRetryAfterMs: number;
  /** Clock time, for Retry-After HTTP-dates. */
  now: () => number;
}

/** undici error codes that mean "the deadline passed", as opposed to "the network failed". */
const UNDICI_TIMEOUTS = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The failure of a request cancelled by its caller. */
export function abortedFailure(url: string): AttemptFailure {
  return { code: 'CT_ABORTED', message: `GET ${url}: cancelled`, details: { url } };
}

/** One request/response under its own deadline. Never throws: failures are classified. */
export async function attemptGet(
  url: string,
  options: CtGetOptions,
  settings: AttemptSettings,
  callSignal: AbortSignal,
): Promise<Attempt> {
  const { request } = await undici();
  // Said in network errors: "ECONNREFUSED 10.0.0.1:3128" alone does not say it was the proxy.
  const via = settings.proxy === undefined ? '' : ` (through proxy ${describeProxy(settings.proxy)})`;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, settings.timeoutMs);
  const onAbort = (): void => controller.abort();
  callSignal.addEventListener('abort', onAbort, { once: true });
  let res: Dispatcher.ResponseData | undefined;
  const fail = (code: ErrorCode, message: string, extra: Partial<CtHttpErrorDetails> = {}): Attempt => ({
    ok: false,
    failure: { code, message: `GET ${url}: ${message}`, details: { url, status: res?.statusCode, ...extra } },
  });
  try {
    res = await request(url, {
      method: 'GET',
      dispatcher: settings.dispatcher,
      signal: controller.signal,
      // Redirects are followed by the client, which checks each target's origin first.
      maxRedirections: 0,
      headersTimeout: settings.timeoutMs,
      bodyTimeout: settings.timeoutMs,
      headers: {
        'user-agent': settings.userAgent,
        // static-ct-api: "Clients SHOULD include gzip and identity in their Accept-Encoding".
        'accept-encoding': 'gzip, identity',
      },
    });
    // undici's body emits an AbortError when destroyed unread (the finally below); the readers
    // here see errors through their iterators, so this listener only keeps it from going uncaught.
    res.body.on('error', () => undefined);
    const status = res.statusCode;
    const location = header(res.headers, 'location');
    if (isRedirect(status, location)) return { ok: 'redirect', location };
    if (status !== 200) return await statusFailure(res, settings, fail);
    const raw = await readBody(res, settings.limit, options, fail);
    if (!(raw instanceof Uint8Array)) return raw;
    const body = await decodeBody(res, raw, settings.limit, options, fail);
    if (!(body instanceof Uint8Array)) return body;
    return { ok: true, response: { url, status, headers: res.headers, body } };
  } catch (cause) {
    if (callSignal.aborted) return { ok: false, failure: abortedFailure(url) };
    const code = (cause as { code?: unknown }).code;
    if (timedOut || (typeof code === 'string' && UNDICI_TIMEOUTS.has(code))) {
      return fail('CT_TIMEOUT', `no complete answer within ${settings.timeoutMs} ms${via}`, {
        retryable: true,
        cause,
      });
    }
    const why = errorMessage(cause);
    // Headers arrived but the body did not: the connection closed early or the length lied.
    if (res !== undefined) return fail('CT_TRUNCATED', `body cut short (${why})`, { retryable: true, cause });
    return fail('CT_NETWORK', `${why}${via}`, { retryable: true, cause });
  } finally {
    clearTimeout(timer);
    callSignal.removeEventListener('abort', onAbort);
    if (res !== undefined && !res.body.destroyed && !res.body.readableEnded) res.body.destroy();
  }
}

/** An unwanted status, with the start of its body and, where it counts, the server's Retry-After. */
async function statusFailure(
  res: Dispatcher.ResponseData,
  settings: AttemptSettings,
  fail: (code: ErrorCode, message: string, extra?: Partial<CtHttpErrorDetails>) => Attempt,
): Promise<Attempt> {
  const status = res.statusCode;
  const bodySnippet = await readSnippet(res.body);
  const retryAfter = parseRetryAfter(header(res.headers, 'retry-after'), settings.now());
  const capped = retryAfter === undefined ? undefined : Math.min(retryAfter, settings.maxRetryAfterMs);
  const shown = bodySnippet ? `: ${bodySnippet}` : '';
  const verdict = classifyStatus(status, capped);
  return fail(verdict.code, `HTTP ${status}${shown}`, {
    bodySnippet,
    retryable: verdict.retryable,
    retryAfterMs: verdict.retryAfterMs,
  });
}
