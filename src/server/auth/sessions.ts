/**
 * @module server/auth/sessions
 * Browser sessions: creating one at login (a random ID in the cookie, only its SHA-256 stored, a
 * per-session CSRF token, an expiry), the cookie's attributes, where a login may send the browser
 * next, and sweeping expired sessions out of the store.
 */
import type { Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import type { AccessRole, SessionRecord, Store } from '../../store/index.js';
import type { AppEnv } from '../types.js';
import { SESSION_COOKIE } from './middleware.js';
import { newSecret, secretHash } from './secrets.js';

/** Default session lifetime: a working day. */
export const DEFAULT_SESSION_TTL_MS = 8 * 3_600_000;

export interface NewSession {
  /** The secret that goes into the cookie (never stored). */
  id: string;
  record: SessionRecord;
}

/**
 * A new session for `principal` (`user:NAME` or `token:ID`), stored. It never outlives `notAfter`
 * (the expiry of the token it was opened with).
 */
export async function openSession(
  store: Store,
  who: { principal: string; role: AccessRole },
  at: Date,
  ttlMs: number,
  notAfter: string | null = null,
): Promise<NewSession> {
  const id = newSecret();
  let expiresAt = new Date(at.getTime() + ttlMs).toISOString();
  if (notAfter !== null && notAfter < expiresAt) expiresAt = notAfter;
  const record: SessionRecord = {
    idSha256: secretHash(id),
    principal: who.principal,
    role: who.role,
    csrfToken: newSecret(),
    createdAt: at.toISOString(),
    expiresAt,
  };
  await store.createSession(record);
  return { id, record };
}

/**
 * The session cookie: `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page
 * sends it, the first CSRF defence), `Path=/`, `Secure` over TLS, and a `Max-Age` equal to the
 * session's remaining life (the server checks the expiry anyway).
 */
export function setSessionCookie(
  c: Context<AppEnv>,
  id: string,
  options: { secure: boolean; maxAgeSeconds: number },
): void {
  setCookie(c, SESSION_COOKIE, id, {
    httpOnly: true,
    sameSite: 'Strict',
    path: '/',
    secure: options.secure,
    maxAge: Math.max(0, Math.floor(options.maxAgeSeconds)),
  });
}

export function clearSessionCookie(c: Context<AppEnv>, secure: boolean): void {
  deleteCookie(c, SESSION_COOKIE, { httpOnly: true, sameSite: 'Strict', path: '/', secure });
}

/**
 * `next` if it is a path on this site, else `/`. Only a relative path starting with one `/` is
 * honoured: `//evil.example` and `/\evil.example` are network-path references to another host
 * (RFC 3986 §4.2; browsers read `\` as `/`), `https:…` is absolute, and browsers drop TAB, CR and
 * LF from URLs (WHATWG URL), so `/\t/evil.example` would become `//evil.example`: every control and
 * space character is refused too.
 */
export function safeNextPath(next: string | undefined | null): string {
  if (next === undefined || next === null || next.length === 0 || next.length > 2000) return '/';
  if (!next.startsWith('/') || next.startsWith('//')) return '/';
  // Backslashes, controls (C0, DEL, C1), spaces and Unicode separators/format characters.
  if (/[\\\s\p{Cc}\p{Cf}\p{Z}]/u.test(next)) return '/';
  try {
    const base = 'http://certvigil.invalid';
    const url = new URL(next, base);
    if (url.origin !== base) return '/';
    const path = `${url.pathname}${url.search}`;
    // Never back to the login form itself (a loop), nor to an endpoint that only takes POST.
    if (url.pathname === '/login' || url.pathname === '/logout') return '/';
    return path;
  } catch {
    return '/';
  }
}

/**
 * Deletes expired sessions at most once per `everyMs` (default a minute), whoever asks: cheap on
 * every request, and the table does not grow with abandoned sessions.
 */
export class SessionSweeper {
  #last = Number.NEGATIVE_INFINITY;
  #running = false;

  constructor(
    private readonly store: Store,
    private readonly onError: (err: unknown) => void,
    private readonly everyMs = 60_000,
  ) {}

  /** Starts a sweep if the last one began `everyMs` ago or more; returns it (tests await it). */
  maybeSweep(now: Date): Promise<number> | null {
    const t = now.getTime();
    if (this.#running || t - this.#last < this.everyMs) return null;
    this.#last = t;
    this.#running = true;
    return this.store
      .deleteExpiredSessions(now.toISOString())
      .catch((err: unknown) => {
        this.onError(err);
        return 0;
      })
      .finally(() => {
        this.#running = false;
      });
  }
}
