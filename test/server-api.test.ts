/**
 * The HTTP API (`/api/v1`) over a real state: the local CT log (RFC 6962) with the jabber.ru
 * scenario, a real `certvigil monitor --once` run (the built binary), then `createApp(deps).request()`
 * against that store. The certificates are checked against `certs list --json` of the same state
 * (the CONTRACT), plus pagination, filters, the feed, authorisation (roles), the other resources,
 * hostile data and bounded parameters.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/server/index.js';
import type { ServerDeps } from '../src/server/index.js';
import { openStore } from '../src/store/index.js';
import type { AccessRole, Store } from '../src/store/index.js';
// eslint-disable-next-line certvigil/no-deep-imports -- a test fixture of src/, not part of store's API
import { LOG_B, batch, issuance } from '../src/store/store.fixture.js';
import type { CtLogServer } from './fixtures/ct-log/index.js';
import { runMonitorOnce, startMonitorSetup } from './fixtures/monitor-run.js';
import { createTestToken } from './fixtures/tokens.js';
import { jsonLines, runCli } from './cli-run.js';

let work: string;
let server: CtLogServer;
let stateDir: string;
let store: Store;
const tokens: Record<AccessRole, string> = { viewer: '', admin: '' };
const warnings: string[] = [];
const logger: ServerDeps['logger'] = {
  info: () => undefined,
  warn: (_o, msg) => warnings.push(msg),
  error: (_o, msg) => warnings.push(msg),
};

const createToken = (role: AccessRole, expiresAt: string | null = null): Promise<string> =>
  createTestToken(store, role, { expiresAt });

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-server-api-'));
  const setup = await startMonitorSetup(work, { bulk: 200 });
  server = setup.server;
  stateDir = join(work, 'state');
  const run = await runMonitorOnce(setup, stateDir);
  expect(run.code, run.stderr).toBe(0);
  store = await openStore({ stateDir });
  await store.migrate();
  tokens.viewer = await createToken('viewer');
  tokens.admin = await createToken('admin');
}, 120_000);

afterAll(async () => {
  await store?.close();
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

function app(extra: Partial<ServerDeps> = {}) {
  return createApp({ store, logger, secureCookies: false, ...extra });
}

async function get(
  path: string,
  role: AccessRole | null = 'viewer',
  a = app(),
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await a.request(path, role ? { headers: { authorization: `Bearer ${tokens[role]}` } } : {});
  const text = await res.text();
  return {
    status: res.status,
    body: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {},
    headers: res.headers,
  };
}

async function post(path: string, role: AccessRole, body?: unknown, a = app()) {
  const res = await a.request(path, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens[role]}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

type View = Record<string, unknown> & { tbsSha256: string; dnsNames: string[]; known: boolean };

async function certsListJson(): Promise<View[]> {
  const out = await runCli(['certs', 'list', '--state-dir', stateDir, '--json']);
  expect(out.code, out.stderr).toBe(0);
  return jsonLines(out.stdout) as View[];
}

const under = (name: string) => (v: View) =>
  v.dnsNames.some((n) => {
    const bare = n.replace(/^\*\./, '');
    return bare === name || bare.endsWith(`.${name}`);
  });

describe('GET /api/v1/certificates (CONTRACT)', () => {
  it('401 without a token, with a wrong one and with an expired one', async () => {
    expect((await get('/api/v1/certificates?name=example.test', null)).status).toBe(401);
    const wrong = await app().request('/api/v1/certificates?name=example.test', {
      headers: { authorization: 'Bearer cvt_wrongwrongwrongwrongwrongwrongwrongwrongwro' },
    });
    expect(wrong.status).toBe(401);
    const expired = await createToken('viewer', '2000-01-01T00:00:00.000Z');
    const res = await app().request('/api/v1/certificates', {
      headers: { authorization: `Bearer ${expired}` },
    });
    expect(res.status).toBe(401);
  });

  it.each(['example.test', 'www.example.test'])(
    'name=%s: exactly the `certs list --json` objects of NAME and its subdomains',
    async (name) => {
      const res = await get(`/api/v1/certificates?name=${name}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      const api = res.body.certificates as View[];
      const cli = (await certsListJson()).filter(under(name));
      expect(cli.length).toBeGreaterThanOrEqual(4);
      const byTbs = (a: View, b: View) => a.tbsSha256.localeCompare(b.tbsSha256);
      expect([...api].sort(byTbs)).toEqual([...cli].sort(byTbs));
      expect(res.body.next).toBeNull();
      for (const v of api)
        for (const key of ['tbsSha256', 'dnsNames', 'issuer', 'notBefore', 'notAfter', 'known', 'reasons'])
          expect(v).toHaveProperty(key);
      const unknown = api.filter((v) => !v.known);
      expect(unknown).toHaveLength(1);
      expect((unknown[0]?.reasons as { code: string }[]).map((r) => r.code)).toEqual(
        expect.arrayContaining(['not-in-inventory', 'new-key']),
      );
    },
  );

  it('normalises NAME (case, trailing dot, %. / *. prefix) and refuses what is not a name', async () => {
    const base = ((await get('/api/v1/certificates?name=example.test')).body.certificates as View[]).length;
    for (const n of ['EXAMPLE.Test.', '%.example.test', '*.example.test', '.example.test'])
      expect(
        ((await get(`/api/v1/certificates?name=${encodeURIComponent(n)}`)).body.certificates as View[])
          .length,
      ).toBe(base);
    for (const bad of [
      'exa mple.test',
      'http://example.test/',
      '1.2.3.4',
      'a..b',
      '\u202eevil.test',
      'x'.repeat(600),
    ]) {
      const res = await get(`/api/v1/certificates?name=${encodeURIComponent(bad)}`);
      expect(res.status, bad).toBe(400);
      expect(String(res.body.error)).not.toMatch(/[\u202e]/);
    }
    expect((await get('/api/v1/certificates?name=nothing.invalid')).body.certificates as View[]).toEqual([]);
    // crt.sh's form typed as is (`%.` is not a valid percent escape, and is taken literally).
    expect(((await get('/api/v1/certificates?name=%.example.test')).body.certificates as View[]).length).toBe(
      base,
    );
  });

  it('newest first, and walking the cursor with limit=1 gives the same list', async () => {
    const all = (await get('/api/v1/certificates?name=example.test&limit=1000')).body.certificates as View[];
    const firstSeen = all.map((v) => String(v.firstSeen));
    expect(firstSeen).toEqual([...firstSeen].sort().reverse());
    const walked: View[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 50; i++) {
      const res = await get(
        `/api/v1/certificates?name=example.test&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      walked.push(...(res.body.certificates as View[]));
      cursor = res.body.next as string | null;
      if (cursor === null) break;
    }
    expect(walked.map((v) => v.tbsSha256)).toEqual(all.map((v) => v.tbsSha256));
  });

  it('filters: known, severity, issuer, since', async () => {
    const all = (await get('/api/v1/certificates?name=example.test')).body.certificates as View[];
    const unknown = (await get('/api/v1/certificates?name=example.test&known=false')).body
      .certificates as View[];
    expect(unknown.map((v) => v.tbsSha256)).toEqual(all.filter((v) => !v.known).map((v) => v.tbsSha256));
    const known = (await get('/api/v1/certificates?name=example.test&known=true&limit=1')).body;
    expect((known.certificates as View[]).every((v) => v.known)).toBe(true);
    expect(known.next).not.toBeNull();
    const sev = String(unknown[0]?.severity);
    const bySeverity = (await get(`/api/v1/certificates?name=example.test&severity=${sev}`)).body
      .certificates as View[];
    expect(bySeverity.map((v) => v.tbsSha256)).toContain(unknown[0]?.tbsSha256);
    const issuer = String(all[0]?.issuer).slice(-6).toUpperCase();
    expect(
      (
        (await get(`/api/v1/certificates?name=example.test&issuer=${encodeURIComponent(issuer)}`)).body
          .certificates as View[]
      ).length,
    ).toBe(all.length);
    const since = new Date(Date.now() - 4 * 86_400_000).toISOString();
    const recent = (await get(`/api/v1/certificates?name=example.test&since=${since}`)).body
      .certificates as View[];
    expect(recent.map((v) => v.tbsSha256)).toEqual(
      all.filter((v) => Date.parse(String(v.notBefore)) >= Date.parse(since)).map((v) => v.tbsSha256),
    );
    expect(recent.length).toBeGreaterThan(0);
  });

  it.each([
    ['limit=0'],
    ['limit=1001'],
    ['limit=abc'],
    ['known=yes'],
    ['severity=fatal'],
    ['since=yesterday'],
    ['cursor=!!'],
    ['cursor=eyJhIjoxfQ'],
    [`issuer=${'x'.repeat(201)}`],
  ])('400 for %s', async (q) => {
    const res = await get(`/api/v1/certificates?${q}`);
    expect(res.status).toBe(400);
    expect(typeof res.body.error).toBe('string');
  });
});

describe('one certificate', () => {
  it('detail by TBS hash, by prefix, by certificate hash; 404, 400', async () => {
    const [attacker] = (await get('/api/v1/certificates?name=example.test&known=false')).body
      .certificates as View[];
    const tbs = String(attacker?.tbsSha256);
    const full = await get(`/api/v1/certificates/${tbs}`);
    expect(full.status).toBe(200);
    expect(full.body.certificate).toEqual(attacker);
    expect((await get(`/api/v1/certificates/${tbs.slice(0, 12).toUpperCase()}`)).body.certificate).toEqual(
      attacker,
    );
    const cert = (attacker?.certSha256s as string[])[0] ?? '';
    expect((await get(`/api/v1/certificates/${cert}`)).body.certificate).toEqual(attacker);
    expect((await get(`/api/v1/certificates/${'0'.repeat(64)}`)).status).toBe(404);
    expect((await get('/api/v1/certificates/xyz')).status).toBe(400);
    expect((await get(`/api/v1/certificates/${tbs}`, null)).status).toBe(401);
  });

  it('PEM: the logged certificate of an issuance the monitor alerted on; 404 with the log entries otherwise', async () => {
    const all = (await get('/api/v1/certificates?name=example.test&limit=100')).body.certificates as View[];
    const unknown = all.find((v) => v.known === false);
    const known = all.find((v) => v.known === true);
    expect(unknown && known).toBeTruthy();
    const res = await app().request(`/api/v1/certificates/${String(unknown?.tbsSha256)}/pem`, {
      headers: { authorization: `Bearer ${tokens.viewer}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-pem-file');
    const pem = await res.text();
    const m = /^-----BEGIN CERTIFICATE-----\n([A-Za-z0-9+/=\n]+)\n-----END CERTIFICATE-----\n$/.exec(pem);
    expect(m).not.toBeNull();
    const der = Buffer.from((m?.[1] ?? '').replace(/\n/g, ''), 'base64');
    expect(unknown?.certSha256s).toContain(createHash('sha256').update(der).digest('hex'));
    const other = await get(`/api/v1/certificates/${String(known?.tbsSha256)}/pem`);
    expect(other.status).toBe(404);
    expect(other.body.entries).toEqual(known?.entries);
    expect(String(other.body.error)).toMatch(/not stored/);
  });

  it('authorize: viewer 403, bad body 400, admin 200; the API and `certs list` then say known', async () => {
    const [attacker] = (await get('/api/v1/certificates?name=www.example.test&known=false')).body
      .certificates as View[];
    const tbs = String(attacker?.tbsSha256);
    const a = app();
    expect((await post(`/api/v1/certificates/${tbs}/authorize`, 'viewer', { note: 'x' }, a)).status).toBe(
      403,
    );
    expect((await post(`/api/v1/certificates/${tbs}/authorize`, 'admin', { note: '' }, a)).status).toBe(400);
    expect((await post(`/api/v1/certificates/${tbs}/authorize`, 'admin', { nope: 1 }, a)).status).toBe(400);
    expect((await post(`/api/v1/certificates/${tbs}/authorize`, 'admin', [1], a)).status).toBe(400);
    const done = await post(
      `/api/v1/certificates/${tbs.slice(0, 16)}/authorize`,
      'admin',
      { note: 'ours after all' },
      a,
    );
    expect(done.status).toBe(200);
    expect(done.body.authorized).toBe(tbs);
    const after = done.body.certificate as View;
    expect(after.known).toBe(true);
    expect(after.authorizations).toEqual([
      expect.objectContaining({ hash: tbs, matches: 'tbs', note: 'ours after all' }),
    ]);
    // The same app instance (its cached view context) sees it at once.
    expect(((await get(`/api/v1/certificates/${tbs}`, 'viewer', a)).body.certificate as View).known).toBe(
      true,
    );
    const cli = (await certsListJson()).find((v) => v.tbsSha256 === tbs);
    expect(cli).toEqual(after);
    await store.unauthorize(tbs);
  });
});

describe('GET /api/v1/issuances (cursor feed)', () => {
  it('walks every issuance once, oldest first; at the end `next` stays put for polling', async () => {
    const total = await store.countIssuances();
    const seen: View[] = [];
    let after: string | null = null;
    for (let i = 0; i < 100; i++) {
      const res = await get(`/api/v1/issuances?limit=3${after ? `&after=${after}` : ''}`);
      expect(res.status).toBe(200);
      const page = res.body.issuances as View[];
      expect(typeof res.body.next).toBe('string');
      const next = res.body.next as string;
      if (page.length === 0) {
        expect(next).toBe(after);
        break;
      }
      seen.push(...page);
      after = next;
    }
    expect(seen).toHaveLength(total);
    expect(new Set(seen.map((v) => v.tbsSha256)).size).toBe(total);
    const order = seen.map((v) => `${String(v.firstSeen)} ${v.tbsSha256}`);
    expect(order).toEqual([...order].sort());
    // A new issuance after the end shows up on the next poll, and only it.
    await store.ensureCursor({
      logId: LOG_B,
      url: 'https://ct.example/b/',
      kind: 'rfc6962',
      description: 'B',
      position: 0,
      tree: { size: 0, hashes: [] },
    });
    await store.commitBatch(
      batch(LOG_B, 0, 1, {
        issuances: [issuance({ index: 0, logId: LOG_B, dnsNames: ['feed.example.test'] })],
      }),
    );
    const poll = await get(`/api/v1/issuances?after=${after ?? ''}`);
    expect((poll.body.issuances as View[]).map((v) => v.dnsNames)).toEqual([['feed.example.test']]);
  });

  it('a bad cursor or limit is 400', async () => {
    expect((await get('/api/v1/issuances?after=abc')).status).toBe(400);
    expect((await get('/api/v1/issuances?limit=5000')).status).toBe(400);
  });
});

describe('the other resources', () => {
  it('GET /api/v1/logs: the scenario log with its cursor and health', async () => {
    const res = await get('/api/v1/logs');
    expect(res.status).toBe(200);
    const logs = res.body.logs as { url: string; status: string; position: number; backlog: number }[];
    const scenario = logs.find((l) => l.url.startsWith(server.baseUrl));
    expect(scenario).toMatchObject({ status: 'ok', backlog: 0 });
    expect(scenario?.position).toBeGreaterThan(200);
  });

  it('GET /api/v1/alerts: the issuance alert of the attacker, newest first, bounded', async () => {
    const res = await get('/api/v1/alerts?limit=1000');
    expect(res.status).toBe(200);
    const alerts = res.body.alerts as { id: number; kind: string; deliveredAt: string | null }[];
    expect(alerts.some((a) => a.kind === 'issuance')).toBe(true);
    expect(alerts.map((a) => a.id)).toEqual([...alerts.map((a) => a.id)].sort((x, y) => y - x));
    const pending = (await get('/api/v1/alerts?pending=true')).body.alerts as {
      deliveredAt: string | null;
    }[];
    expect(pending.every((a) => a.deliveredAt === null)).toBe(true);
    expect((await get('/api/v1/alerts?limit=1')).body.alerts).toHaveLength(1);
    expect((await get('/api/v1/alerts?pending=maybe')).status).toBe(400);
  });

  it('domains: watched with last audit; POST audit is admin-only, watched-only, stored', async () => {
    const calls: string[] = [];
    const a = app({
      watchedDomains: async () => ['example.test', 'other.test'],
      auditDomain: async (d) => {
        calls.push(d);
        return { domain: d, grade: 'B', findings: [{ id: 'no-iodef', message: 'see \u202e here' }] };
      },
    });
    const before = await get('/api/v1/domains', 'viewer', a);
    expect(before.body).toMatchObject({ watchListConfigured: true, auditConfigured: true });
    expect(post('/api/v1/domains/example.test/audit', 'viewer', undefined, a)).resolves.toMatchObject({
      status: 403,
    });
    expect((await post('/api/v1/domains/unwatched.test/audit', 'admin', undefined, a)).status).toBe(404);
    expect((await post('/api/v1/domains/not a name/audit', 'admin', undefined, a)).status).toBe(400);
    const done = await post('/api/v1/domains/Example.Test/audit', 'admin', undefined, a);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ domain: 'example.test', audit: { grade: 'B' } });
    expect(calls).toEqual(['example.test']);
    const list = (await get('/api/v1/domains', 'viewer', a)).body.domains as Record<string, unknown>[];
    expect(list).toEqual([
      expect.objectContaining({
        domain: 'example.test',
        watched: true,
        audit: expect.objectContaining({ grade: 'B' }),
      }),
      { domain: 'other.test', watched: true, checkedAt: null, audit: null },
    ]);
    // DNS text in the stored audit is served as visible escapes.
    expect(JSON.stringify(list)).not.toMatch(/\u202e/);
    expect(JSON.stringify(list)).toContain('\\\\u202E');
    // Without the capabilities: said so, and the POST is 503.
    const plain = await get('/api/v1/domains');
    expect(plain.body).toMatchObject({ watchListConfigured: false, auditConfigured: false });
    expect((await post('/api/v1/domains/example.test/audit', 'admin')).status).toBe(503);
  });

  it('iodef reports and MITM baselines, sanitised', async () => {
    await store.storeReceivedIodef({
      fingerprint: 'f'.repeat(64),
      senderKey: 'client 127.0.0.1',
      documentSha256: 'd'.repeat(64),
      incidentKey: null,
      sender: 'CA <script>alert(1)</script> \u202eevil',
      channel: 'https',
      receivedAt: new Date().toISOString(),
      schemaValid: true,
      summary: { names: ['\u001b[2Jx.example.test'] },
      document: '<IODEF-Document/>',
    });
    const iodef = await get('/api/v1/iodef/reports');
    expect(iodef.status).toBe(200);
    const [report] = iodef.body.reports as Record<string, unknown>[];
    expect(report).toMatchObject({ sender: 'CA <script>alert(1)</script> \\u202Eevil', documentBytes: 17 });
    expect(report).not.toHaveProperty('document');
    expect(JSON.stringify(report)).toContain('\\\\x1B[2J');
    await store.putMitmBaseline({
      target: 'mail.example.test',
      port: 443,
      jarms: ['2ad2ad0002ad2ad00042d42d000000'],
      lastHops: [['192.0.2.1']],
      hopCounts: [7],
      learnedAt: new Date().toISOString(),
    });
    const mitm = await get('/api/v1/mitm');
    expect(mitm.body.baselines).toEqual([
      expect.objectContaining({ target: 'mail.example.test', port: 443 }),
    ]);
    expect((await get('/api/v1/mitm?target=none.test')).body.baselines as unknown[]).toEqual([]);
  });

  it('hostile certificate names and issuers are visible escapes in every answer', async () => {
    await store.commitBatch(
      batch(LOG_B, 1, 2, {
        issuances: [
          issuance({
            index: 1,
            logId: LOG_B,
            dnsNames: ['evil\u202etset.example.test', '<script>alert(1)</script>.example.test'],
            issuer: `CN=Bad \u001b[2J CA ${'A'.repeat(10_000)}`,
          }),
        ],
      }),
    );
    const res = await app().request('/api/v1/certificates?name=example.test', {
      headers: { authorization: `Bearer ${tokens.viewer}` },
    });
    const text = await res.text();
    // eslint-disable-next-line no-control-regex -- no control character may reach the client
    expect(text).not.toMatch(/[\u0000-\u001f\u202e]/);
    const hostile = (JSON.parse(text) as { certificates: View[] }).certificates.find((v) =>
      v.dnsNames.some((n) => n.startsWith('evil')),
    );
    expect(hostile?.dnsNames).toEqual([
      'evil\\u202Etset.example.test',
      '<script>alert(1)</script>.example.test',
    ]);
    expect(String(hostile?.issuer)).toMatch(/^CN=Bad \\x1B\[2J CA A+…$/);
    expect(String(hostile?.issuer).length).toBeLessThanOrEqual(4001);
  });
});

describe('authorisation matrix over every /api/v1 route of the OpenAPI document', () => {
  async function routes(): Promise<[string, string][]> {
    const doc = (await get('/api/v1/openapi.json')).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const [one] = (await get('/api/v1/certificates?name=example.test&limit=1')).body.certificates as View[];
    return Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map(
        (m) =>
          [
            m.toUpperCase(),
            path
              .replace('{hash}', String(one?.tbsSha256))
              .replace('{domain}', 'example.test')
              .replace('{host}', 'web1.example.test'),
          ] as [string, string],
      ),
    );
  }

  it('anonymous and a wrong token: 401; viewer: 403 on state changes only; admin: neither', async () => {
    const a = app();
    const list = await routes();
    expect(list.length).toBeGreaterThanOrEqual(12);
    for (const [method, path] of list) {
      const ask = (authorization?: string) =>
        a.request(path, {
          method,
          headers: {
            ...(authorization ? { authorization } : {}),
            ...(method !== 'GET' ? { 'content-type': 'application/json' } : {}),
          },
          ...(method !== 'GET' ? { body: '{}' } : {}),
        });
      expect((await ask()).status, `${method} ${path} anonymous`).toBe(401);
      expect(
        (await ask('Bearer cvt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).status,
        `${method} ${path}`,
      ).toBe(401);
      const viewer = (await ask(`Bearer ${tokens.viewer}`)).status;
      const admin = (await ask(`Bearer ${tokens.admin}`)).status;
      if (method === 'GET') {
        expect([200, 404], `${method} ${path} viewer`).toContain(viewer);
        expect(admin, `${method} ${path} admin`).toBe(viewer);
      } else {
        expect(viewer, `${method} ${path} viewer`).toBe(403);
        // 400: an empty host inventory push ({} has no `items`); 503: audits not configured.
        expect([200, 400, 503], `${method} ${path} admin`).toContain(admin);
      }
    }
  });
});
