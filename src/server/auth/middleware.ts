/**
 * @module server/auth/middleware
 * Who is asking, and may they. Every request but the public ones (`/healthz`, `/login`, static
 * assets) needs a principal: an API token (`Authorization: Bearer …`, for machines and Prometheus)
 * or a browser session cookie. A state-changing request that authenticates with the cookie must
 * also carry the session's CSRF token (form field `_csrf` or header `X-CSRF-Token`) and come from
 * our own origin: the cookie is `SameSite=Strict` too, but one defence is not enough for the
 * admin actions. Bearer requests need no CSRF token: a browser never attaches one on its own.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { AccessRole } from '../../store/index.js';
import type { AppEnv, Principal, ServerDeps } from '../types.js';
import { secretHash } from './secrets.js';

export const SESSION_COOKIE = 'certvigil_session';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function bearer(header: string | undefined): string | null {
  if (header === undefined) return null;
  const m = /^Bearer[ ]+([A-Za-z0-9._~+/=-]{1,200})$/.exec(header.trim());
  return m ? (m[1] ?? null) : null;
}

/**
 * Resolves the principal of the request (token first, then session cookie) into `principal` and
 * `session`; never refuses by itself (the public routes run after it too).
 */
export function authenticate(deps: ServerDeps): MiddlewareHandler<AppEnv> {
  const now = deps.now ?? (() => new Date());
  return async (c, next) => {
    c.set('principal', null);
    c.set('session', null);
    const token = bearer(c.req.header('authorization'));
    if (token !== null) {
      const t = await deps.store.findToken(secretHash(token));
      const at = now().toISOString();
      if (t && t.revokedAt === null && (t.expiresAt === null || t.expiresAt > at)) {
        c.set('principal', { kind: 'token', id: t.id, name: t.name, role: t.role });
        await deps.store.touchToken(t.id, at).catch(() => undefined);
      }
      // A wrong token is not "anonymous": requireAuth refuses it with 401 either way.
      return next();
    }
    const cookie = getCookie(c, SESSION_COOKIE);
    if (cookie !== undefined && /^[A-Za-z0-9_-]{20,100}$/.test(cookie)) {
      const s = await deps.store.getSession(secretHash(cookie));
      if (s && s.expiresAt > now().toISOString()) {
        c.set('session', s);
        const principal = principalOfSession(s.principal, s.role);
        // A token session is shown by the token's name (the ID is what the session records).
        if (principal.kind === 'token') {
          const token = (await deps.store.listTokens()).find((t) => t.id === principal.id);
          if (token !== undefined && token.name !== '') principal.name = token.name;
        }
        c.set('principal', principal);
      }
    }
    return next();
  };
}

function principalOfSession(principal: string, role: AccessRole): Principal {
  const [kind, ...rest] = principal.split(':');
  const id = rest.join(':');
  return { kind: kind === 'token' ? 'token' : 'user', id, name: id, role };
}

/** Whether the request wants JSON (the API, /metrics) rather than a page. */
export function wantsJson(c: Context): boolean {
  return c.req.path.startsWith('/api/') || c.req.path === '/metrics';
}

/** Refuses a request without a principal: 401 for the API and /metrics, a redirect to /login for pages. */
export function requireAuth(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.get('principal') !== null) return next();
    if (wantsJson(c) || c.req.method !== 'GET') {
      c.header('WWW-Authenticate', 'Bearer realm="certvigil"');
      return c.json({ error: 'authentication required' }, 401);
    }
    const back = c.req.path === '/' ? '' : `?next=${encodeURIComponent(c.req.path)}`;
    return c.redirect(`/login${back}`, 303);
  };
}

/** Refuses a principal below `role` (403). */
export function requireRole(role: AccessRole): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const p = c.get('principal');
    if (p !== null && (role === 'viewer' || p.role === 'admin')) return next();
    return c.json({ error: `${role} role required` }, 403);
  };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * CSRF: a state-changing request authenticated by the session cookie must echo the session's
 * token and, when the browser says where it comes from (`Origin`, else `Sec-Fetch-Site`), come
 * from this origin. Runs after `authenticate`.
 */
export function csrfProtection(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const session = c.get('session');
    if (!STATE_CHANGING.has(c.req.method) || session === null) return next();
    const origin = c.req.header('origin');
    const site = c.req.header('sec-fetch-site');
    const self = new URL(c.req.url).origin;
    if ((origin !== undefined && origin !== self) || (site !== undefined && site !== 'same-origin'))
      return c.json({ error: 'cross-site request refused' }, 403);
    let sent = c.req.header('x-csrf-token') ?? '';
    if (sent === '') {
      const type = c.req.header('content-type') ?? '';
      if (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data')) {
        const body = await c.req.parseBody();
        const field = body['_csrf'];
        sent = typeof field === 'string' ? field : '';
      }
    }
    if (!sameSecret(sent, session.csrfToken)) return c.json({ error: 'missing or wrong CSRF token' }, 403);
    return next();
  };
}
