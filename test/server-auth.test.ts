/**
 * `/login`, `/logout`, sessions, CSRF and login rate limiting of `certvigil serve` (issue 16,
 * "Access control"), through `createApp(...).request()` over a real SQLite store.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestToken } from './fixtures/tokens.js';
import type { Kit } from './server-auth-kit.js';
import {
  form,
  fromAddress,
  login,
  makeKit,
  ORIGIN,
  sessionOf,
  sha256,
  T0,
  USER_PASSWORD,
} from './server-auth-kit.js';

const FAILED = 'Login failed: the token, or the name and password, are not valid.';

let kit: Kit;
beforeEach(async () => {
  kit = await makeKit();
  // Probes behind requireAuth and csrfProtection (routes added after createApp run after them).
  kit.app.get('/whoami', (c) => c.json(c.get('principal')));
  kit.app.post('/probe', (c) => c.json({ changed: true }));
});
afterEach(async () => {
  await kit.close();
});

describe('GET /login', () => {
  it('is a form with a password-type `token` input and a name + password form, no inline script or style', async () => {
    const res = await kit.app.request('/login');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    const page = await res.text();
    expect(page).toMatch(/<input\s+id="login-token"\s+name="token"\s+type="password"/);
    expect(page).toMatch(/<input\s+id="login-name"\s+name="name"\s+type="text"/);
    expect(page).toMatch(/<input[^>]*\sname="password"\s+type="password"/);
    expect(page).toContain('<link rel="stylesheet" href="/static/app.css" />');
    expect(page).toMatch(/<form method="post" action="\/login"/);
    expect(page).not.toMatch(/<script|style=|<style/i);
    // every input has a label
    for (const id of ['login-token', 'login-name', 'login-password'])
      expect(page).toContain(`<label for="${id}">`);
  });

  it.each([
    ['/certificates?name=example.com', '/certificates?name=example.com'],
    ['//evil.example', '/'],
    ['https://evil.example/', '/'],
    ['/\\evil.example', '/'],
  ])('keeps next=%j as %j in the hidden fields', async (next, kept) => {
    const page = await (await kit.app.request(`/login?next=${encodeURIComponent(next)}`)).text();
    const values = [...page.matchAll(/name="next" value="([^"]*)"/g)].map((m) => m[1]);
    expect(values).toEqual([kept, kept]);
  });

  it('escapes what it echoes of next', async () => {
    const page = await (await kit.app.request(`/login?next=${encodeURIComponent('/x?a="><script>')}`)).text();
    expect(page).not.toContain('"><script>');
    expect(page).toContain('value="/x?a=%22%3E%3Cscript%3E"');
  });
});

describe('POST /login', () => {
  it('with a token: a session for token:ID with its role, a strict cookie, 303 to next', async () => {
    const res = await kit.app.request(
      '/login',
      form({ token: kit.tokens.viewer.token, next: '/certificates?name=example.com' }, { origin: ORIGIN }),
    );
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/certificates?name=example.com');
    expect(res.headers.get('set-cookie')).toMatch(
      /^certvigil_session=[A-Za-z0-9_-]{43}; Max-Age=28800; Path=\/; HttpOnly; SameSite=Strict$/,
    );
    const cookie = sessionOf(res) ?? '';
    const stored = await kit.store.getSession(sha256(cookie));
    expect(stored).toMatchObject({
      principal: `token:${kit.tokens.viewer.id}`,
      role: 'viewer',
      createdAt: T0.toISOString(),
      expiresAt: '2026-12-07T20:00:00.000Z',
    });
    expect(stored?.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const me = await kit.app.request('/whoami', { headers: { cookie: `certvigil_session=${cookie}` } });
    // Shown by the token's name, not its ID.
    expect(await me.json()).toMatchObject({
      kind: 'token',
      id: kit.tokens.viewer.id,
      name: 'viewer token',
      role: 'viewer',
    });
  });

  it('with name and password: a session for user:NAME with the user role; `Secure` over TLS', async () => {
    await kit.close();
    kit = await makeKit({ secureCookies: true });
    const res = await kit.app.request('/login', form({ name: 'alice', password: USER_PASSWORD }));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    expect(res.headers.get('set-cookie')).toMatch(
      /^certvigil_session=[A-Za-z0-9_-]{43}; Max-Age=28800; Path=\/; HttpOnly; Secure; SameSite=Strict$/,
    );
    expect(await kit.store.getSession(sha256(sessionOf(res) ?? ''))).toMatchObject({
      principal: 'user:alice',
      role: 'admin',
    });
  });

  it.each([
    ['//evil.example/x', '/'],
    ['https://evil.example/', '/'],
    ['/\\evil.example', '/'],
    ['/\t/evil.example', '/'],
    ['/alerts', '/alerts'],
  ])('sends the browser to next=%j as %j', async (next, location) => {
    const res = await kit.app.request('/login', form({ token: kit.tokens.admin.token, next }));
    expect(res.headers.get('location')).toBe(location);
  });

  it('gives every wrong credential the same 401 page, no cookie', async () => {
    const attempts: Record<string, string>[] = [
      { token: 'cvt_wrongwrongwrongwrongwrongwrongwrongwrongwro' },
      { token: kit.tokens.expired.token },
      { token: kit.tokens.revoked.token },
      { token: 'x'.repeat(5000) },
      { name: 'alice', password: 'not the password at all' },
      { name: 'nobody', password: USER_PASSWORD },
      { name: 'bad name <script>', password: USER_PASSWORD },
    ];
    const bodies = new Set<string>();
    for (const [i, fields] of attempts.entries()) {
      const res = await kit.app.request('/login', form(fields), fromAddress(`192.0.2.${100 + i}`));
      expect(res.status, JSON.stringify(fields)).toBe(401);
      expect(res.headers.get('set-cookie')).toBeNull();
      const page = await res.text();
      expect(page).toContain(FAILED);
      bodies.add(page);
    }
    expect(bodies.size).toBe(1);
  });

  it('runs scrypt for a name that does not exist too (the time does not tell)', async () => {
    // warm up: the dummy hash is made on first need
    await kit.app.request(
      '/login',
      form({ name: 'nobody', password: 'x'.repeat(12) }),
      fromAddress('192.0.2.50'),
    );
    const time = async (name: string, address: string): Promise<number> => {
      const start = performance.now();
      const res = await kit.app.request(
        '/login',
        form({ name, password: 'wrong password 1' }),
        fromAddress(address),
      );
      expect(res.status).toBe(401);
      return performance.now() - start;
    };
    const missing = await time('nobody-here', '192.0.2.51');
    const existing = await time('alice', '192.0.2.52');
    // scrypt at N=2^15 takes tens of ms; a lookup alone would take about one
    expect(missing).toBeGreaterThan(15);
    expect(missing).toBeGreaterThan(existing * 0.3);
  });

  it('is 400 without a token or a name and password', async () => {
    expect((await kit.app.request('/login', form({ name: 'alice' }))).status).toBe(400);
    expect((await kit.app.request('/login', form({}))).status).toBe(400);
  });

  it.each([
    [{ origin: 'https://evil.example' }],
    [{ 'sec-fetch-site': 'cross-site' }],
    [{ 'sec-fetch-site': 'same-site' }],
  ])('refuses a cross-site login form (login CSRF): %j', async (headers) => {
    const res = await kit.app.request('/login', form({ token: kit.tokens.admin.token }, headers));
    expect(res.status).toBe(403);
    expect(res.headers.get('set-cookie')).toBeNull();
  });

  it('ends the session the browser had (no session fixation)', async () => {
    const old = await login(kit, { token: kit.tokens.viewer.token });
    const res = await kit.app.request(
      '/login',
      form({ name: 'alice', password: USER_PASSWORD }, { cookie: `certvigil_session=${old}` }),
    );
    expect(res.status).toBe(303);
    expect(sessionOf(res)).not.toBe(old);
    expect(await kit.store.getSession(sha256(old))).toBeNull();
  });

  it('caps a session opened with an expiring token at the token expiry', async () => {
    const token = await createTestToken(kit.store, 'viewer', {
      name: 'short',
      createdAt: T0,
      expiresAt: '2026-12-07T13:00:00.000Z',
    });
    const res = await kit.app.request('/login', form({ token }));
    expect(res.headers.get('set-cookie')).toContain('Max-Age=3600;');
    expect((await kit.store.getSession(sha256(sessionOf(res) ?? '')))?.expiresAt).toBe(
      '2026-12-07T13:00:00.000Z',
    );
  });
});

describe('sessions', () => {
  it('expire after sessionTtlMs (fixed clock)', async () => {
    const cookie = await login(kit, { name: 'victor', password: USER_PASSWORD });
    const get = async (): Promise<Response> =>
      kit.app.request('/whoami', { headers: { cookie: `certvigil_session=${cookie}` } });
    kit.clock.now = new Date(T0.getTime() + 8 * 3_600_000 - 1);
    expect((await get()).status).toBe(200);
    kit.clock.now = new Date(T0.getTime() + 8 * 3_600_000);
    const res = await get();
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?next=%2Fwhoami');
  });

  it('expired ones are swept from the store, at most once a minute', async () => {
    const cookie = await login(kit, { token: kit.tokens.viewer.token });
    kit.clock.now = new Date(T0.getTime() + 9 * 3_600_000);
    await kit.app.request('/healthz');
    // the sweep ran at login (T0): the session is still stored
    await kit.app.request('/whoami');
    expect(await kit.store.getSession(sha256(cookie))).toBeNull();
  });
});

describe('POST /logout', () => {
  async function session(): Promise<{ cookie: string; csrf: string }> {
    const cookie = await login(kit, { token: kit.tokens.admin.token });
    const s = await kit.store.getSession(sha256(cookie));
    return { cookie, csrf: s?.csrfToken ?? '' };
  }

  it('ends the session and clears the cookie (with the CSRF token, same origin)', async () => {
    const { cookie, csrf } = await session();
    const res = await kit.app.request(
      '/logout',
      form(
        { _csrf: csrf },
        { cookie: `certvigil_session=${cookie}`, origin: ORIGIN, 'sec-fetch-site': 'same-origin' },
      ),
    );
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login');
    expect(res.headers.get('set-cookie')).toMatch(
      /^certvigil_session=; Max-Age=0; Path=\/; HttpOnly; SameSite=Strict$/,
    );
    expect(await kit.store.getSession(sha256(cookie))).toBeNull();
    const after = await kit.app.request('/whoami', { headers: { cookie: `certvigil_session=${cookie}` } });
    expect(after.status).toBe(303);
  });

  it.each([
    ['no CSRF token', {}, false],
    ['a wrong CSRF token', { _csrf: 'A'.repeat(43) }, false],
    ['another origin', { origin: 'https://evil.example' }, true],
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }, true],
  ])('is refused with %s (403), the session lives on', async (_why, extra, withToken) => {
    const { cookie, csrf } = await session();
    const fields: Record<string, string> = withToken
      ? { _csrf: csrf }
      : { ...(extra as Record<string, string>) };
    const headers: Record<string, string> = { cookie: `certvigil_session=${cookie}` };
    if (withToken) Object.assign(headers, extra);
    const res = await kit.app.request('/logout', form(fields, headers));
    expect(res.status).toBe(403);
    expect(await kit.store.getSession(sha256(cookie))).not.toBeNull();
  });

  it('without a session only clears the cookie', async () => {
    const res = await kit.app.request('/logout', form({}, { cookie: 'certvigil_session=' + 'A'.repeat(43) }));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login');
  });
});

describe('CSRF on state-changing requests', () => {
  async function session(): Promise<{ cookie: string; csrf: string }> {
    const cookie = await login(kit, { name: 'alice', password: USER_PASSWORD });
    return { cookie, csrf: (await kit.store.getSession(sha256(cookie)))?.csrfToken ?? '' };
  }

  it.each([
    ['no token', {}, {}],
    ['a wrong token', { 'x-csrf-token': 'B'.repeat(43) }, {}],
    ['the right token from another Origin', { origin: 'https://evil.example' }, { useToken: true }],
    ['the right token, Sec-Fetch-Site cross-site', { 'sec-fetch-site': 'cross-site' }, { useToken: true }],
    ['the right token, Sec-Fetch-Site same-site', { 'sec-fetch-site': 'same-site' }, { useToken: true }],
  ])('refuses a session request with %s (403)', async (_why, headers, how) => {
    const { cookie, csrf } = await session();
    const h: Record<string, string> = { cookie: `certvigil_session=${cookie}`, ...headers };
    if ('useToken' in how) h['x-csrf-token'] = csrf;
    const res = await kit.app.request('/probe', { method: 'POST', headers: h });
    expect(res.status).toBe(403);
  });

  it('lets a session request with the token (header or form field) from our origin through', async () => {
    const { cookie, csrf } = await session();
    const viaHeader = await kit.app.request('/probe', {
      method: 'POST',
      headers: { cookie: `certvigil_session=${cookie}`, 'x-csrf-token': csrf, origin: ORIGIN },
    });
    expect(viaHeader.status).toBe(200);
    const viaForm = await kit.app.request(
      '/probe',
      form({ _csrf: csrf }, { cookie: `certvigil_session=${cookie}`, 'sec-fetch-site': 'same-origin' }),
    );
    expect(viaForm.status).toBe(200);
  });

  it('needs no CSRF token for a Bearer request (a browser never attaches one)', async () => {
    const res = await kit.app.request('/probe', {
      method: 'POST',
      headers: { authorization: `Bearer ${kit.tokens.viewer.token}`, origin: 'https://elsewhere.example' },
    });
    expect(res.status).toBe(200);
  });
});

describe('login rate limiting', () => {
  const wrong = { token: 'cvt_notavalidtokennotavalidtokennotavalidtok' };

  it('refuses the 6th failure from one address within 15 min with 429 and Retry-After; others unaffected', async () => {
    for (let i = 0; i < 5; i++)
      expect((await kit.app.request('/login', form(wrong), fromAddress('198.51.100.7'))).status).toBe(401);
    const refused = await kit.app.request(
      '/login',
      form({ token: kit.tokens.admin.token }),
      fromAddress('198.51.100.7'),
    );
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('900');
    expect(refused.headers.get('set-cookie')).toBeNull();
    // another address still gets in
    expect(
      (await kit.app.request('/login', form({ token: kit.tokens.admin.token }), fromAddress('198.51.100.8')))
        .status,
    ).toBe(303);
    // and the window ends
    kit.clock.now = new Date(T0.getTime() + 15 * 60_000);
    expect(
      (await kit.app.request('/login', form({ token: kit.tokens.admin.token }), fromAddress('198.51.100.7')))
        .status,
    ).toBe(303);
  });

  it('counts an IPv6 client by its /64', async () => {
    for (let i = 0; i < 5; i++)
      await kit.app.request('/login', form(wrong), fromAddress(`2001:db8:1:2::${i + 1}`));
    expect((await kit.app.request('/login', form(wrong), fromAddress('2001:db8:1:2:ffff::9'))).status).toBe(
      429,
    );
    expect((await kit.app.request('/login', form(wrong), fromAddress('2001:db8:1:3::1'))).status).toBe(401);
  });

  it('ignores X-Forwarded-For (any client can write it)', async () => {
    for (let i = 0; i < 5; i++)
      await kit.app.request(
        '/login',
        form(wrong, { 'x-forwarded-for': `203.0.113.${i}`, forwarded: `for=203.0.113.${i}` }),
        fromAddress('198.51.100.9'),
      );
    const res = await kit.app.request(
      '/login',
      form(wrong, { 'x-forwarded-for': '203.0.113.99' }),
      fromAddress('198.51.100.9'),
    );
    expect(res.status).toBe(429);
  });

  it('locks a user name guessed from many addresses, not the other names', async () => {
    for (let i = 0; i < 5; i++)
      await kit.app.request(
        '/login',
        form({ name: 'alice', password: `wrong password ${i}` }),
        fromAddress(`198.18.0.${i}`),
      );
    const locked = await kit.app.request(
      '/login',
      form({ name: 'alice', password: USER_PASSWORD }),
      fromAddress('198.18.1.1'),
    );
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(
      (
        await kit.app.request(
          '/login',
          form({ name: 'victor', password: USER_PASSWORD }),
          fromAddress('198.18.1.1'),
        )
      ).status,
    ).toBe(303);
  });
});
