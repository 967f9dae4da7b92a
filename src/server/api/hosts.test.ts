import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES, startEngine } from '../../store/store.fixture.js';
import type { EngineHarness, FreshState } from '../../store/store.fixture.js';
import type { IssuanceInput, Store } from '../../store/index.js';
import { createApp } from '../app.js';
import { newSecret, newToken, secretHash } from '../auth/secrets.js';
import { SESSION_COOKIE } from '../auth/middleware.js';
import type { HostCheck } from './hosts-check.js';

const NOW = new Date('2026-06-01T00:00:00.000Z');
const LOG = Buffer.alloc(32, 0x33).toString('base64');
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

let engine: EngineHarness;
let state: FreshState;
let store: Store;
let app: ReturnType<typeof createApp>;
const tokens: Record<string, string> = {};
let sessionCookie = '';
const CSRF = 'csrf-secret-for-the-test-session';

function issuance(
  index: number,
  dnsNames: string[],
  key: string,
  notAfter = '2026-09-01T00:00:00Z',
): IssuanceInput {
  const tbsSha256 = sha(`tbs ${index}`);
  return {
    tbsSha256,
    certSha256: sha(`cert ${index}`),
    type: 'x509',
    dnsNames,
    ipAddresses: [],
    issuer: 'C=US, O=Test CA, CN=R1',
    serial: `0${index}`,
    notBefore: '2026-05-01T00:00:00Z',
    notAfter,
    spkiSha256: sha(`spki ${key}`),
    keyType: 'ECDSA P-256',
    logId: LOG,
    index,
    timestamp: 1_777_000_000_000 + index,
  };
}

// web1 holds #0 (www.example.test); #1 shares its key (a renewal); #2 is another key (an attacker);
// #3 a wildcard covering www; #4 a deeper subdomain (not web1's); #5 expired; #6 another host's name.
const ISSUANCES = [
  issuance(0, ['www.example.test'], 'ours'),
  issuance(1, ['www.example.test'], 'ours'),
  issuance(2, ['www.example.test'], 'attacker'),
  issuance(3, ['*.example.test'], 'wild'),
  issuance(4, ['a.www.example.test'], 'deep'),
  issuance(5, ['www.example.test'], 'old', '2026-01-01T00:00:00Z'),
  issuance(6, ['mail.example.test'], 'mail'),
];
const item = (i: IssuanceInput): Record<string, unknown> => ({
  certSha256: i.certSha256,
  tbsSha256: i.tbsSha256,
  spkiSha256: i.spkiSha256,
  dnsNames: i.dnsNames,
  notAfter: new Date(i.notAfter).toISOString(),
});

describe.each(ENGINES)('%s store', (kind) => {
  beforeAll(async () => {
    engine = await startEngine(kind);
    state = await engine.fresh();
    store = await state.open();
    await store.migrate();
    await store.ensureCursor({
      logId: LOG,
      url: 'https://log.test/',
      kind: 'rfc6962',
      description: 'test',
      position: 0,
      tree: null,
    });
    await store.commitBatch({
      logId: LOG,
      expectedPosition: 0,
      newPosition: ISSUANCES.length,
      tree: { size: ISSUANCES.length, hashes: [] },
      issuances: ISSUANCES,
      malformed: [],
      alerts: [],
    });
    for (const [name, role] of [
      ['web1', 'viewer'],
      ['mail', 'viewer'],
      ['ops', 'admin'],
    ] as const) {
      const t = newToken();
      await store.createToken({
        id: t.id,
        name,
        role,
        tokenSha256: t.tokenSha256,
        createdAt: NOW.toISOString(),
        expiresAt: null,
        revokedAt: null,
        lastUsedAt: null,
      });
      tokens[name] = t.token;
    }
    const sid = newSecret();
    await store.createSession({
      idSha256: secretHash(sid),
      principal: 'user:alice',
      role: 'admin',
      csrfToken: CSRF,
      createdAt: NOW.toISOString(),
      expiresAt: '2030-01-01T00:00:00.000Z',
    });
    sessionCookie = `${SESSION_COOKIE}=${sid}`;
    const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
    app = createApp({ store, logger: silent, now: () => NOW, secureCookies: false });
  });
  afterAll(async () => {
    await store?.close();
    await state?.dispose();
    await engine?.stop();
  });

  function push(host: string, body: unknown, headers: Record<string, string>): Promise<Response> {
    return Promise.resolve(
      app.request(`/api/v1/hosts/${host}/inventory`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    );
  }
  const bearer = (name: string): Record<string, string> => ({
    authorization: `Bearer ${tokens[name] ?? ''}`,
  });

  describe('PUT /api/v1/hosts/:host/inventory: who may push', () => {
    const body = { items: [item(ISSUANCES[6] as IssuanceInput)] };
    it.each([
      ['anonymous', 'mail', (): Record<string, string> => ({}), 401],
      ['a wrong token', 'mail', (): Record<string, string> => ({ authorization: 'Bearer cvt_wrong' }), 401],
      ['a viewer token for its own host', 'mail', () => bearer('mail'), 200],
      ['a viewer token for its own host, other case', 'MAIL', () => bearer('mail'), 200],
      ['a viewer token for another host', 'web2', () => bearer('mail'), 403],
      ['an admin token for any host', 'web9', () => bearer('ops'), 200],
      [
        'an admin browser session (with its CSRF token)',
        'web9',
        (): Record<string, string> => ({ cookie: sessionCookie, 'x-csrf-token': CSRF }),
        403,
      ],
    ])('%s → %i', async (_, host, headers, status) => {
      const res = await push(host, body, headers());
      expect(res.status, await res.clone().text()).toBe(status);
    });

    it('refuses a viewer for another host before reading the body (even one over the limit)', async () => {
      const res = await app.request('/api/v1/hosts/web2/inventory', {
        method: 'PUT',
        headers: {
          'content-type': 'application/json',
          'content-length': String(64 << 20),
          ...bearer('mail'),
        },
        body: '{}',
      });
      expect(res.status).toBe(403);
    });
  });

  describe('PUT /api/v1/hosts/:host/inventory: what is accepted', () => {
    it.each([
      ['a bad host name', '-bad', { items: [] }, 400],
      ['a non-JSON body', 'web9', 'not json', 400],
      [
        'an item with a key field',
        'web9',
        { items: [{ ...item(ISSUANCES[0] as IssuanceInput), privateKey: 'x' }] },
        400,
      ],
      [
        'a hash in upper case',
        'web9',
        { items: [{ ...item(ISSUANCES[0] as IssuanceInput), tbsSha256: 'A'.repeat(64) }] },
        400,
      ],
    ])('%s → %i', async (_, host, body, status) => {
      const res = await push(host, body, bearer('ops'));
      expect(res.status).toBe(status);
      const json = (await res.json()) as { error: string };
      expect(json.error).toMatch(/invalid/);
    });

    it('refuses another content type (415)', async () => {
      const res = await push('web9', { items: [] }, { ...bearer('ops'), 'content-type': 'text/plain' });
      expect(res.status).toBe(415);
    });

    it('takes a body above the app default of 1 MiB (6,000 items) and refuses one above 32 MiB (413)', async () => {
      const items = Array.from({ length: 6000 }, (_, n) => ({
        ...item(ISSUANCES[6] as IssuanceInput),
        certSha256: sha(`bulk ${n}`),
      }));
      const big = JSON.stringify({ items });
      expect(big.length).toBeGreaterThan(1 << 20);
      const ok = await push('bulk', big, bearer('ops'));
      expect(ok.status, await ok.clone().text()).toBe(200);
      expect(await ok.json()).toMatchObject({ host: 'bulk', items: 6000, pushedAt: NOW.toISOString() });
      const tooBig = await app.request('/api/v1/hosts/bulk/inventory', {
        method: 'PUT',
        headers: {
          'content-type': 'application/json',
          'content-length': String((32 << 20) + 1),
          ...bearer('ops'),
        },
        body: '{}',
      });
      expect(tooBig.status).toBe(413);
      // Elsewhere the 1 MiB default still applies.
      const other = await app.request('/api/v1/hosts', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(2 << 20), ...bearer('ops') },
        body: '{}',
      });
      expect(other.status).toBe(413);
    });
  });

  describe('GET /api/v1/hosts and /api/v1/hosts/:host/check', () => {
    beforeAll(async () => {
      const res = await push(
        'web1',
        { host: 'web1', items: [item(ISSUANCES[0] as IssuanceInput)] },
        bearer('web1'),
      );
      expect(res.status).toBe(200);
    });

    it('lists the hosts with their item counts and last push', async () => {
      const res = await app.request('/api/v1/hosts', { headers: bearer('web1') });
      expect(res.status).toBe(200);
      const { hosts } = (await res.json()) as { hosts: { host: string; items: number; pushedAt: string }[] };
      expect(hosts.find((h) => h.host === 'web1')).toEqual({
        host: 'web1',
        items: 1,
        pushedAt: NOW.toISOString(),
      });
      expect(hosts.find((h) => h.host === 'bulk')?.items).toBe(6000);
    });

    it('lists for web1 the attacker and the wildcard, not its own key, deeper names, expired or other names', async () => {
      const res = await app.request('/api/v1/hosts/web1/check', { headers: bearer('web1') });
      expect(res.status).toBe(200);
      const check = (await res.json()) as HostCheck;
      expect(check).toMatchObject({
        host: 'web1',
        pushedAt: NOW.toISOString(),
        managedNames: ['www.example.test'],
      });
      expect(check.checked).toBe(4); // #0, #1 (own key), #2 attacker, #3 wildcard
      expect(check.unknownCount).toBe(2);
      expect(check.unknown.map((u) => u.tbsSha256).sort()).toEqual([sha('tbs 2'), sha('tbs 3')].sort());
      const attacker = check.unknown.find((u) => u.tbsSha256 === sha('tbs 2'));
      expect(attacker?.reasons.map((r) => r.code)).toContain('managed-name-not-in-inventory');
      expect(attacker?.knownElsewhere).toBeNull();
    });

    it('counts an authorised certificate as known, and says when another host holds one', async () => {
      await store.authorize(sha('tbs 3'), 'our wildcard');
      // The mail host pushes the attacker's certificate: known to the monitor, not to web1.
      const res = await push(
        'mail',
        { items: [item(ISSUANCES[6] as IssuanceInput), item(ISSUANCES[2] as IssuanceInput)] },
        bearer('mail'),
      );
      expect(res.status).toBe(200);
      const check = (await (
        await app.request('/api/v1/hosts/web1/check', { headers: bearer('web1') })
      ).json()) as HostCheck;
      expect(check.unknown.map((u) => [u.tbsSha256, u.knownElsewhere])).toEqual([
        [sha('tbs 2'), 'host:mail'],
      ]);
      await store.unauthorize(sha('tbs 3'));
    });

    it.each([
      ['a host that never pushed', '/api/v1/hosts/nobody/check', 404],
      ['a bad host name', '/api/v1/hosts/-x/check', 400],
    ])('%s → %i', async (_, path, status) => {
      expect((await app.request(path, { headers: bearer('web1') })).status).toBe(status);
    });

    it('needs authentication', async () => {
      expect((await app.request('/api/v1/hosts/web1/check')).status).toBe(401);
      expect((await app.request('/api/v1/hosts')).status).toBe(401);
    });
  });
});
