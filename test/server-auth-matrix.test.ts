/**
 * The authorisation matrix of `certvigil serve` (issue 16: "anonymous / viewer / admin / wrong
 * token / expired session × every route"). The routes are read from the app itself (`app.routes`),
 * so a route added later is covered without touching this file:
 * - every route but the public ones refuses anonymous, wrong-token and expired-session requests
 *   (401 for the API, /metrics and non-GET requests; 303 to /login for pages);
 * - a GET route not in EXPECTED below must at least let a viewer or admin token past authentication;
 * - a state-changing route (POST, PUT, PATCH, DELETE) not in EXPECTED fails the test: whoever adds
 *   one must say here who may call it and that a session without the CSRF token may not.
 */
import { randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppEnv } from '../src/server/index.js';
import type { Kit } from './server-auth-kit.js';
import { makeKit, ORIGIN, sha256, T0 } from './server-auth-kit.js';

type PrincipalName =
  | 'anonymous'
  | 'wrong token'
  | 'expired session'
  | 'viewer token'
  | 'admin token'
  | 'viewer session'
  | 'admin session'
  | 'admin session without CSRF token';

/**
 * What a principal gets: a status, `unauth` (401, or 303 to /login for a page), `denied` (403),
 * or `allowed` (past authentication and authorisation: neither 401 nor 403 nor 500; the sample
 * path parameters may well give 400 or 404, and a capability the test does not wire in 503).
 */
type Expect = number | 'unauth' | 'denied' | 'allowed';
type Row = Partial<Record<PrincipalName, Expect>>;

const UNAUTHENTICATED: readonly PrincipalName[] = ['anonymous', 'wrong token', 'expired session'];
const ALL: readonly PrincipalName[] = [
  ...UNAUTHENTICATED,
  'viewer token',
  'admin token',
  'viewer session',
  'admin session',
  'admin session without CSRF token',
];

/** Reachable without a principal, for everyone. */
const PUBLIC: Row = Object.fromEntries(ALL.map((p) => [p, 200]));

/** Admin-only state change: viewers 403; a session needs its CSRF token. */
const ADMIN_ACTION: Row = {
  'viewer token': 'denied',
  'admin token': 'allowed',
  'viewer session': 'denied',
  'admin session': 'allowed',
  'admin session without CSRF token': 'denied',
};

/** Key: `METHOD pattern`, as in `app.routes`. */
const EXPECTED: Record<string, Row> = {
  'GET /healthz': PUBLIC,
  'GET /login': PUBLIC,
  // An empty form: the same 400 whoever asks (a login needs credentials, not a principal).
  'POST /login': Object.fromEntries(ALL.map((p) => [p, 400])),
  // Without a valid principal there is nothing to end: the cookie is cleared (303 to /login).
  'POST /logout': {
    anonymous: 303,
    'wrong token': 303,
    'expired session': 303,
    'viewer token': 303,
    'admin token': 303,
    'viewer session': 303,
    'admin session': 303,
    'admin session without CSRF token': 'denied',
  },
  // Routes of the other parts of issue 16 (h16-api, h16-dist), known when this was written.
  'POST /api/v1/certificates/:hash/authorize': ADMIN_ACTION,
  'POST /api/v1/domains/:domain/audit': ADMIN_ACTION,
  // The dashboard's forms for the same actions (h16-pages).
  'POST /certificates/:hash/authorize': ADMIN_ACTION,
  'POST /domains/:domain/audit': ADMIN_ACTION,
  // Pushing is a machine's job: tokens only (a viewer token only for the host it is named for).
  'PUT /api/v1/hosts/:host/inventory': {
    'viewer token': 'denied',
    'admin token': 'allowed',
    'viewer session': 'denied',
    'admin session': 'denied',
    'admin session without CSRF token': 'denied',
  },
};

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Sample values for path parameters (`:hash`, `:hash{[0-9a-f]+}`, `*`). */
function samplePath(pattern: string): string {
  return pattern
    .replace(/:(\w+)(\{[^}]*\})?/g, (_m, name: string) =>
      name === 'hash'
        ? 'a'.repeat(64)
        : name === 'domain'
          ? 'example.com'
          : name === 'host'
            ? 'host1.example'
            : 'x',
    )
    .replace(/\*/g, 'x');
}

function isPublicPath(pattern: string): boolean {
  return pattern === '/healthz' || pattern === '/login' || pattern.startsWith('/static/');
}

/** Every (method, pattern) the app answers, middleware left out. */
function routesOf(app: Hono<AppEnv>): { method: string; path: string }[] {
  const seen = new Map<string, { method: string; path: string }>();
  for (const r of app.routes) {
    if (r.method === 'ALL') continue;
    seen.set(`${r.method} ${r.path}`, { method: r.method, path: r.path });
  }
  return [...seen.values()];
}

/** The state-changing routes nobody said anything about (the matrix refuses to pass them). */
function unexpectedStateChanging(app: Hono<AppEnv>): string[] {
  return routesOf(app)
    .filter((r) => STATE_CHANGING.has(r.method) && EXPECTED[`${r.method} ${r.path}`] === undefined)
    .map((r) => `${r.method} ${r.path}`);
}

let kit: Kit;

/** A fresh stored session per request: a request (POST /logout) may end the one it came with. */
async function storedSession(
  principal: string,
  role: 'viewer' | 'admin',
  expiresAt: Date,
): Promise<{ cookie: string; csrf: string }> {
  const cookie = randomBytes(32).toString('base64url');
  const csrf = randomBytes(32).toString('base64url');
  await kit.store.createSession({
    idSha256: sha256(cookie),
    principal,
    role,
    csrfToken: csrf,
    createdAt: new Date(T0.getTime() - 3_600_000).toISOString(),
    expiresAt: expiresAt.toISOString(),
  });
  return { cookie, csrf };
}

function sessionFor(who: PrincipalName): Promise<{ cookie: string; csrf: string }> | null {
  const later = new Date(T0.getTime() + 3_600_000);
  if (who === 'expired session') return storedSession('user:alice', 'admin', new Date(T0.getTime() - 1));
  if (who === 'viewer session') return storedSession('user:victor', 'viewer', later);
  if (who === 'admin session' || who === 'admin session without CSRF token')
    return storedSession('user:alice', 'admin', later);
  return null;
}

beforeAll(async () => {
  kit = await makeKit();
});
afterAll(async () => {
  await kit.close();
});

async function requestFor(who: PrincipalName, method: string): Promise<RequestInit> {
  const headers: Record<string, string> = {};
  const changing = STATE_CHANGING.has(method);
  if (changing) {
    headers['content-type'] = 'application/json';
    headers.origin = ORIGIN;
    headers['sec-fetch-site'] = 'same-origin';
  }
  if (who === 'wrong token') headers.authorization = 'Bearer cvt_thisisnotatokenthisisnotatokenthisisnota';
  if (who === 'viewer token') headers.authorization = `Bearer ${kit.tokens.viewer.token}`;
  if (who === 'admin token') headers.authorization = `Bearer ${kit.tokens.admin.token}`;
  const session = await sessionFor(who);
  if (session !== null) {
    headers.cookie = `certvigil_session=${session.cookie}`;
    if (changing && who !== 'admin session without CSRF token') headers['x-csrf-token'] = session.csrf;
  }
  return { method, headers, ...(changing ? { body: '{}' } : {}) };
}

function check(expected: Expect, res: Response, where: string, wantsJson: boolean): void {
  const status = res.status;
  switch (expected) {
    case 'unauth':
      if (wantsJson) expect(status, where).toBe(401);
      else {
        expect(status, where).toBe(303);
        expect(res.headers.get('location'), where).toMatch(/^\/login(\?next=|$)/);
      }
      return;
    case 'denied':
      expect(status, where).toBe(403);
      return;
    case 'allowed':
      expect([401, 403], where).not.toContain(status);
      expect(status, where).not.toBe(500);
      return;
    default:
      expect(status, where).toBe(expected);
  }
}

describe('authorisation matrix over app.routes', () => {
  it('knows who may call every state-changing route', () => {
    expect(unexpectedStateChanging(kit.app)).toEqual([]);
  });

  it('refuses an unknown state-changing route until the matrix names its expectation', async () => {
    const other = await makeKit();
    try {
      other.app.post('/api/v1/something-new', (c) => c.json({ ok: true }));
      expect(unexpectedStateChanging(other.app)).toEqual(['POST /api/v1/something-new']);
    } finally {
      await other.close();
    }
  });

  it('covers at least the public routes and login/logout', () => {
    const keys = routesOf(kit.app).map((r) => `${r.method} ${r.path}`);
    for (const k of ['GET /healthz', 'GET /login', 'POST /login', 'POST /logout']) expect(keys).toContain(k);
  });

  it('answers every (route, principal) as expected', async () => {
    const routes = routesOf(kit.app);
    const rows: string[] = [];
    for (const { method, path } of routes) {
      const row = EXPECTED[`${method} ${path}`] ?? {};
      const target = samplePath(path);
      const json = target.startsWith('/api/') || target === '/metrics' || method !== 'GET';
      for (const who of ALL) {
        if (who === 'admin session without CSRF token' && !STATE_CHANGING.has(method)) continue;
        let expected = row[who];
        if (expected === undefined) {
          if (UNAUTHENTICATED.includes(who)) expected = isPublicPath(path) ? 200 : 'unauth';
          else if (STATE_CHANGING.has(method))
            continue; // failed above: no expectation stated
          else expected = 'allowed';
        }
        const res = await kit.app.request(target, await requestFor(who, method));
        rows.push(`${method} ${path} ${who}: ${res.status}`);
        check(expected, res, `${method} ${target} as ${who}`, json);
      }
    }
    expect(rows.length).toBeGreaterThan(0);
  });
});
