/**
 * @module server/auth/login
 * `/login` (a form: an API token, or a user's name and password), `/logout`.
 *
 * A login opens a browser session (see `sessions.ts`) for `token:ID` with the token's role or for
 * `user:NAME` with the user's role, and sends the browser on to `next` (a path on this site only).
 * Every wrong answer gets the same page and status (401) — which part was wrong, or whether the
 * user exists, is not said; and a name that does not exist still costs one scrypt run, so the
 * time taken does not tell either. Failures are rate limited per client address and per name.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { AppEnv, ServerDeps } from '../types.js';
import { csrfProtection, SESSION_COOKIE } from './middleware.js';
import { clientAddressKey, LoginRateLimiter, userNameKey } from './rate-limit.js';
import type { LoginRateLimitOptions } from './rate-limit.js';
import { hashPassword, newSecret, secretHash, verifyPassword } from './secrets.js';
import {
  clearSessionCookie,
  DEFAULT_SESSION_TTL_MS,
  openSession,
  safeNextPath,
  SessionSweeper,
  setSessionCookie,
} from './sessions.js';

export interface LoginOptions {
  rateLimit?: LoginRateLimitOptions;
}

/** The one message for every wrong credential. */
export const LOGIN_FAILED = 'Login failed: the token, or the name and password, are not valid.';

// Longer than any token or password we issue or accept: more is not a credential, and scrypt over
// a megabyte of "password" is work we need not do.
const MAX_TOKEN = 200;
const MAX_NAME = 100;
const MAX_PASSWORD = 1024;

/**
 * The hash a login for a name that does not exist is checked against: the same scrypt cost as a
 * real one, so the answer takes as long (computed once, on first need).
 */
let dummyHash: Promise<string> | null = null;
function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(newSecret());
  return dummyHash;
}

/** One labelled, required input of the login forms, with id `login-NAME` and a length bound. */
function loginField(
  name: string,
  label: string,
  type: 'text' | 'password',
  autocomplete: string,
  maxLength: number,
): HtmlEscapedString | Promise<HtmlEscapedString> {
  return html`<label for="login-${name}">${label}</label>
    <input
      id="login-${name}"
      name="${name}"
      type="${type}"
      autocomplete="${autocomplete}"
      required
      maxlength="${maxLength}"
    />`;
}

function loginPage(next: string, message: string | null): HtmlEscapedString | Promise<HtmlEscapedString> {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>Log in — certvigil</title>
        <link rel="stylesheet" href="/static/app.css" />
      </head>
      <body>
        <main class="login">
          <h1>certvigil</h1>
          ${message !== null ? html`<p class="error" role="alert">${message}</p>` : ''}
          <form method="post" action="/login" class="login-token">
            <h2>Log in with an API token</h2>
            ${loginField('token', 'API token', 'password', 'off', MAX_TOKEN)}
            <input type="hidden" name="next" value="${next}" />
            <button type="submit">Log in</button>
          </form>
          <form method="post" action="/login" class="login-user">
            <h2>Log in with name and password</h2>
            ${loginField('name', 'Name', 'text', 'username', MAX_NAME)}
            ${loginField('password', 'Password', 'password', 'current-password', MAX_PASSWORD)}
            <input type="hidden" name="next" value="${next}" />
            <button type="submit">Log in</button>
          </form>
        </main>
      </body>
    </html>`;
}

/** The socket's peer address; never a header a client writes. Undefined without a socket (tests). */
function peerAddress(c: Context<AppEnv>): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

/**
 * Login CSRF: a form on another site could log the victim in as the attacker (and what the victim
 * then does lands in the attacker's view). No session exists yet, so there is no CSRF token to
 * check; the browser's own `Origin` / `Sec-Fetch-Site` say where the form was.
 */
function crossSite(c: Context<AppEnv>): boolean {
  const origin = c.req.header('origin');
  const site = c.req.header('sec-fetch-site');
  return (
    (origin !== undefined && origin !== new URL(c.req.url).origin) ||
    (site !== undefined && site !== 'same-origin')
  );
}

function field(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  return typeof v === 'string' ? v : '';
}

export function registerLogin(app: Hono<AppEnv>, deps: ServerDeps, options: LoginOptions = {}): void {
  const now = deps.now ?? (() => new Date());
  const ttlMs = deps.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS;
  const limiter = new LoginRateLimiter(options.rateLimit, () => now().getTime());
  const sweeper = new SessionSweeper(deps.store, (err) =>
    deps.logger.warn({ err }, 'deleting expired sessions failed'),
  );

  // Every request after this point (the authenticated ones) may trigger the once-a-minute sweep.
  app.use('*', async (c, next) => {
    await sweeper.maybeSweep(now());
    return next();
  });

  app.get('/login', (c) => c.html(loginPage(safeNextPath(c.req.query('next')), null)));

  app.post('/login', async (c) => {
    if (crossSite(c)) return c.html(loginPage('/', 'Cross-site login refused.'), 403);
    const body = await c.req.parseBody();
    const next = safeNextPath(field(body, 'next'));
    const token = field(body, 'token');
    const name = field(body, 'name');
    const password = field(body, 'password');
    const fail = (status: 400 | 401): Response | Promise<Response> =>
      c.html(loginPage(next, LOGIN_FAILED), status);
    if (token === '' && (name === '' || password === '')) return fail(400);

    const keys = [clientAddressKey(peerAddress(c))];
    if (token === '' && userNameProblem(name) === null) keys.push(userNameKey(name));
    const decision = limiter.check(keys);
    if (!decision.allowed) {
      c.header('Retry-After', String(decision.retryAfterSeconds));
      return c.html(loginPage(next, 'Too many failed logins: try again later.'), 429);
    }

    const at = now();
    let who: { principal: string; role: 'viewer' | 'admin'; notAfter: string | null } | null = null;
    if (token !== '') {
      if (token.length <= MAX_TOKEN) {
        const t = await deps.store.findToken(secretHash(token));
        const iso = at.toISOString();
        if (t && t.revokedAt === null && (t.expiresAt === null || t.expiresAt > iso))
          who = { principal: `token:${t.id}`, role: t.role, notAfter: t.expiresAt };
      }
    } else if (password.length <= MAX_PASSWORD) {
      // A name the store could not hold is no user (and is never passed to it: it would refuse it).
      const user = userNameProblem(name) === null ? await deps.store.getUser(name) : null;
      // Same work whether or not the user exists: the time taken must not tell.
      const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyPasswordHash()));
      if (user !== null && ok) who = { principal: `user:${user.name}`, role: user.role, notAfter: null };
    }
    if (who === null) {
      limiter.fail(keys);
      deps.logger.warn({ address: keys[0], kind: token !== '' ? 'token' : 'user' }, 'login failed');
      return fail(401);
    }
    if (token === '') limiter.forget(userNameKey(name));

    // A fresh ID on every login (no session fixation): a session the browser had is ended.
    const old = getCookie(c, SESSION_COOKIE);
    if (old !== undefined && old.length <= 200) await deps.store.deleteSession(secretHash(old));
    const session = await openSession(deps.store, who, at, ttlMs, who.notAfter);
    setSessionCookie(c, session.id, {
      secure: deps.secureCookies,
      maxAgeSeconds: (Date.parse(session.record.expiresAt) - at.getTime()) / 1000,
    });
    deps.logger.info({ principal: who.principal }, 'logged in');
    return c.redirect(next, 303);
  });

  // `/logout` is registered here, before app.ts installs requireAuth and csrfProtection for every
  // later route, so it carries its own: without a valid session there is nothing to end (the
  // cookie is cleared, nothing else changes); with one, the request must pass the same CSRF check
  // as every other state change (a cross-site logout is a nuisance attack, still refused).
  app.post(
    '/logout',
    async (c, next) => {
      if (c.get('principal') !== null) return next();
      clearSessionCookie(c, deps.secureCookies);
      return c.redirect('/login', 303);
    },
    csrfProtection(),
    async (c) => {
      const session = c.get('session');
      if (session !== null) await deps.store.deleteSession(session.idSha256);
      clearSessionCookie(c, deps.secureCookies);
      return c.redirect('/login', 303);
    },
  );
}

/** Shortest password `user add` accepts (NIST SP 800-63B §3.1.1.2 asks for at least 8; we ask 12). */
export const MIN_PASSWORD_LENGTH = 12;

/**
 * Why `name` is not a valid user or token name, or null: 1 to 100 characters, printable (no
 * control, format or bidi characters: a name is shown in pages, lists and logs), no spaces around.
 */
export function accessNameProblem(name: string): string | null {
  const length = [...name].length;
  if (length < 1 || length > MAX_NAME) return `must be 1 to ${MAX_NAME} characters (got ${length})`;
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (/[\u0000-\u001f\u007f-\u009f\p{Cf}\p{Cs}\u2028\u2029]/u.test(name))
    return 'must be printable (no control, format or bidi characters)';
  if (name.trim() !== name) return 'must not begin or end with a space';
  return null;
}

/**
 * Why `name` is not a valid user name, or null: 1 to 64 of `[A-Za-z0-9._@-]` (the store's rule,
 * `checkUserName` in store/web-codec.ts: a name that needs no escaping in a URL path, a session
 * principal or a log line).
 */
export function userNameProblem(name: string): string | null {
  return /^[A-Za-z0-9._@-]{1,64}$/.test(name) ? null : 'must be 1 to 64 characters of A-Z a-z 0-9 . _ @ -';
}

/** Why `password` is not acceptable, or null: at least 12 characters, at most 1024. */
export function passwordProblem(password: string): string | null {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH)
    return `must be at least ${MIN_PASSWORD_LENGTH} characters (got ${length})`;
  if (password.length > MAX_PASSWORD) return `must be at most ${MAX_PASSWORD} characters`;
  return null;
}
