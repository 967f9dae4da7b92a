/**
 * @module ct/http-body
 * Reading a CT log's response body under a byte ceiling, and decoding it strictly.
 *
 * Why not let the HTTP library decode: fetch/undici decode `Content-Encoding: gzip` leniently, so a
 * gzip stream cut short inside a complete HTTP body comes back as silently short data (undici
 * flushes with Z_SYNC_FLUSH). Here the raw bytes are counted against the ceiling while they stream
 * in and against Content-Length, then gunzipped with Z_FINISH, so every kind of truncation is an
 * error and short data never passes for a complete tile or response. static-ct-api data tiles may
 * also be stored gzip'ed and served without `Content-Encoding`: `sniffGzip` decodes those.
 *
 * Failures are not thrown: each is handed to the caller's `fail` (the client turns it into a
 * `CtHttpError` with the URL and status), so the caller can classify and retry.
 */
import { errorMessage } from '../errors.js';
import { isAscii } from 'node:buffer';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { Dispatcher } from 'undici';
import type { ErrorCode } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import type { CtHttpErrorDetails } from './http.js';
import type { CtGetOptions } from './http-limits.js';

/** Builds the caller's failure value from an error code, a message and the error's details. */
export type Fail<F> = (code: ErrorCode, message: string, extra?: Partial<CtHttpErrorDetails>) => F;

const gunzipAsync = promisify(zlib.gunzip);

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
const SNIPPET_BYTES = 512;
const SNIPPET_CHARS = 200;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC_0 && bytes[1] === GZIP_MAGIC_1;
}

/** One response header as a string (repeated headers joined as RFC 9110 §5.3 allows). */
export function header(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/** The start of a log's error body, made safe for a terminal or a log line (it is the log's text). */
export function snippet(bytes: Uint8Array): string {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, SNIPPET_BYTES)).toString(
    'utf8',
  );
  // Runs of whitespace and line breaks become one space first, so a multi-line HTML page reads as
  // one line; every other control, bidi or separator character becomes a visible escape.
  return sanitizeText(text.replace(/[\t\n\r ]+/g, ' ').trim(), { maxLength: SNIPPET_CHARS });
}

/** Reads up to `SNIPPET_BYTES` of an error body for the report, then lets the rest go. */
export async function readSnippet(body: Dispatcher.ResponseData['body']): Promise<string | undefined> {
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

/**
 * Reads the whole raw body, refusing more than `limit` (plus gzip's framing when the body may be
 * compressed) as soon as the count passes it, and less than Content-Length. Nothing past the
 * limit is ever buffered: the connection is dropped instead.
 */
export async function readBody<F>(
  res: Dispatcher.ResponseData,
  limit: number,
  options: CtGetOptions,
  fail: Fail<F>,
): Promise<Uint8Array | F> {
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

/**
 * Undoes `Content-Encoding` (gzip or identity only: static-ct-api "Clients SHOULD include gzip and
 * identity in their Accept-Encoding", and we ask for nothing else), then a stored gzip layer when
 * `sniffGzip` asks for it; the decoded body is held to `limit`.
 */
export async function decodeBody<F>(
  res: Dispatcher.ResponseData,
  raw: Uint8Array,
  limit: number,
  options: CtGetOptions,
  fail: Fail<F>,
): Promise<Uint8Array | F> {
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
    const why = errorMessage(cause);
    return fail('CT_BAD_RESPONSE', `corrupt or truncated gzip body (${why})`, { cause });
  }
  return body;
}

/**
 * Z_FINISH (zlib's default) makes a stream that ends early an error instead of short data;
 * `maxOutputLength` stops inflating a gzip bomb at `limit` bytes instead of after it.
 */
async function gunzip(bytes: Uint8Array, limit: number): Promise<Uint8Array> {
  return gunzipAsync(bytes, { maxOutputLength: limit });
}

/**
 * The body as text, strictly UTF-8 (an invalid sequence throws, never becomes U+FFFD). A log's
 * JSON is ASCII (base64 and digits), and ASCII bytes are the same characters in UTF-8 and Latin-1:
 * for them Node copies the bytes into a one-byte string without the UTF-8 decoder, which took
 * ~5 % of `monitor --once`'s CPU profile decoding ~1 MB per get-entries response.
 */
export function strictUtf8(body: Uint8Array): string {
  if (isAscii(body)) return Buffer.from(body.buffer, body.byteOffset, body.length).toString('latin1');
  return new TextDecoder('utf-8', { fatal: true }).decode(body);
}
