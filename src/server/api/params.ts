/**
 * @module server/api/params
 * The query parameters, path parameters and bodies of the HTTP API, checked and bounded before any
 * store call: a bad value is a 400 naming the parameter, never an exception from deeper down.
 * Pure: no I/O.
 */
import { parseIdentifier } from '../../caa/index.js';
import { CertvigilError } from '../../errors.js';
import { sanitizeText } from '../../sanitize.js';
import type { IssuancePosition } from '../../store/index.js';

/**
 * A request the API refuses (4xx) with a one-line reason (`USAGE`: the caller's input); routes map
 * it to its status and `{"error": …}`.
 */
export class ApiInputError extends CertvigilError {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 = 400,
  ) {
    super('USAGE', message);
    this.name = 'ApiInputError';
  }
}

/** Most items one page may hold (the store contract's bound, `IssuancePageQuery.limit`). */
export const MAX_LIMIT = 1000;
/** The longest query value accepted (a cursor is about 120 characters, a name at most 253). */
export const MAX_PARAM_LENGTH = 512;

/** How a refused value is echoed: sanitised, quoted, short. */
export function shown(value: string): string {
  return JSON.stringify(sanitizeText(value, { maxLength: 60 }));
}

/** A query value, refused above `MAX_PARAM_LENGTH`; undefined when absent or empty. */
export function param(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length > MAX_PARAM_LENGTH)
    throw new ApiInputError(`${name} is longer than ${MAX_PARAM_LENGTH} characters`);
  return value;
}

/** `limit`: 1..`MAX_LIMIT`, `fallback` when absent. */
export function limitParam(value: string | undefined, fallback: number): number {
  const v = param(value, 'limit');
  if (v === undefined) return fallback;
  if (!/^\d{1,4}$/.test(v) || Number(v) < 1 || Number(v) > MAX_LIMIT)
    throw new ApiInputError(`limit must be an integer from 1 to ${MAX_LIMIT} (got ${shown(v)})`);
  return Number(v);
}

/** `true` / `false`; undefined when absent. */
export function boolParam(value: string | undefined, name: string): boolean | undefined {
  const v = param(value, name);
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new ApiInputError(`${name} must be true or false (got ${shown(v)})`);
}

/** One of `allowed`; undefined when absent. */
export function enumParam<T extends string>(
  value: string | undefined,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const v = param(value, name);
  if (v === undefined) return undefined;
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new ApiInputError(`${name} must be one of ${allowed.join(', ')} (got ${shown(v)})`);
}

/** An ISO 8601 date (`2026-01-31`) or date-time with zone; returned as a full ISO string (UTC). */
export function dateParam(value: string | undefined, name: string): string | undefined {
  const v = param(value, name);
  if (v === undefined) return undefined;
  const ok = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/.test(v);
  const t = ok ? Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v) : NaN;
  if (!Number.isFinite(t))
    throw new ApiInputError(`${name} must be an ISO 8601 date or date-time with a zone (got ${shown(v)})`);
  return new Date(t).toISOString();
}

/**
 * A domain name (for `name=` and `/domains/:domain`): the lower-case A-label form (IDNA, as the
 * store keeps certificate names), a leading `*.` or `.` dropped (crt.sh's `%.example.com` means the
 * same suffix search). Anything that is not a valid name is a 400.
 */
export function domainParam(value: string | undefined, name: string): string | undefined {
  const v = param(value, name);
  if (v === undefined) return undefined;
  const bare = v.replace(/^%\./, '').replace(/^\*\./, '').replace(/^\./, '').replace(/\.$/, '');
  const id = parseIdentifier(bare);
  if (!id.ok || id.wildcard || id.lookupName === '')
    throw new ApiInputError(`${name} is not a domain name (got ${shown(v)})`);
  return id.lookupName.replace(/\.$/, '').toLowerCase();
}

/** A TBS or certificate SHA-256 (hex), or a prefix of at least 8 digits; lower case. */
export function hashParam(value: string): string {
  const h = value.toLowerCase();
  if (!/^[0-9a-f]{8,64}$/.test(h))
    throw new ApiInputError(`not a SHA-256 hash (hex, 8 to 64 digits): ${shown(value)}`);
  return h;
}

/**
 * The opaque cursor: base64url of the JSON position `[firstSeen, tbsSha256]`. Opaque to clients (it
 * may change between versions); checked strictly on the way in, since it is echoed to the store.
 */
export function encodeCursor(p: IssuancePosition): string {
  return Buffer.from(JSON.stringify([p.firstSeen, p.tbsSha256]), 'utf8').toString('base64url');
}

export function decodeCursor(value: string | undefined, name: string): IssuancePosition | undefined {
  const v = param(value, name);
  if (v === undefined) return undefined;
  const bad = (): never => {
    throw new ApiInputError(`${name} is not a cursor this server returned (got ${shown(v)})`);
  };
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(v)) return bad();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(v, 'base64url').toString('utf8'));
  } catch {
    return bad();
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) return bad();
  const [firstSeen, tbsSha256] = parsed as unknown[];
  if (
    typeof firstSeen !== 'string' ||
    typeof tbsSha256 !== 'string' ||
    !/^\d{4}-\d{2}-\d{2}T[\d:.]+Z$/.test(firstSeen) ||
    !/^[0-9a-f]{64}$/.test(tbsSha256)
  )
    return bad();
  return { firstSeen, tbsSha256 };
}

/** `{"note": "…"}` (optional, 1..1000 characters) of `authorize`. */
export function noteOfBody(body: unknown): string | null {
  if (body === null || body === undefined) return null;
  if (typeof body !== 'object' || Array.isArray(body))
    throw new ApiInputError('the body must be a JSON object like {"note": "why"}');
  const extra = Object.keys(body).filter((k) => k !== 'note');
  if (extra.length > 0) throw new ApiInputError(`unknown field in the body: ${shown(extra[0] ?? '')}`);
  const note = (body as { note?: unknown }).note;
  if (note === undefined || note === null) return null;
  if (typeof note !== 'string' || note.trim() === '' || note.length > 1000)
    throw new ApiInputError('note must be a string of 1 to 1000 characters');
  return note;
}

/** Maps a refused input to its status and `{"error": …}`; anything else goes on to `app.onError` (500). */
export function inputErrorResponse(err: unknown): Response {
  if (!(err instanceof ApiInputError)) throw err;
  return Response.json({ error: err.message }, { status: err.status });
}
