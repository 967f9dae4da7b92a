/**
 * The dashboard pages over a real SQLite store: what each page shows, the certificate search
 * (suffix names, filters, keyset pages), the detail page and the admin's authorize form (roles,
 * CSRF), the domains pages, iodef/MITM/alerts, and the static files. No socket: app.request().
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// eslint-disable-next-line certvigil/no-deep-imports -- a test fixture of src/, not part of notify's API
import { issuanceEvent } from '../src/notify/events.fixture.js';
import { issuance, makePagesKit, sha256Hex, textOf } from './server-pages-kit.js';
import type { PagesKit } from './server-pages-kit.js';

let kit: PagesKit;

function cert(n: number, names: string[], extra: Partial<Parameters<typeof issuance>[0]> = {}) {
  return issuance({ index: n, tbsSha256: sha256Hex(`pages tbs ${n}`), dnsNames: names, ...extra });
}

beforeEach(async () => {
  kit = await makePagesKit();
});
afterEach(async () => {
  await kit.close();
});

/** No inline script, inline style or event handler attribute: the CSP would block them. */
function expectCspClean(body: string): void {
  expect(body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/i);
  expect(body).not.toMatch(/\sstyle\s*=/i);
  expect(body).not.toMatch(/\son[a-z]+\s*=/i);
  expect(body).not.toMatch(/<style/i);
}

describe('access', () => {
  it.each([
    '/',
    '/certificates',
    '/domains',
    '/iodef',
    '/mitm',
    '/alerts',
    `/certificates/${sha256Hex('x')}`,
  ])('GET %s without a session redirects to /login', async (path) => {
    const res = await kit.get(path);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^\/login/);
  });

  it('serves app.css and app.js without a session, with their types and an ETag', async () => {
    const css = await kit.get('/static/app.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    expect(await css.text()).toContain(':focus-visible');
    const js = await kit.get('/static/app.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    const etag = js.headers.get('etag') ?? '';
    expect(etag).not.toBe('');
    const again = await kit.app.request('/static/app.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });
});

describe('headers', () => {
  // Regression: under `Referrer-Policy: no-referrer` Chromium sends `Origin: null` on our own form
  // POSTs, which the CSRF check refuses (the authorize form failed in the browser test).
  it('pages go out with Referrer-Policy same-origin and the CSP without inline script or style', async () => {
    const res = await kit.get('/', kit.viewer);
    expect(res.headers.get('referrer-policy')).toBe('same-origin');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(await res.text()).not.toContain('name="referrer"');
  });
});

describe('overview', () => {
  it('shows the unknown certificate first with its names and reason codes, the logs, alerts and log list', async () => {
    await kit.add([cert(1, ['www.example.com', 'example.com'])]);
    await kit.store.enqueueAlert({ key: 'issuance:x', kind: 'issuance', payload: issuanceEvent() });
    await kit.store.putMonitorStatus({
      logListSource: 'https://loglist.example/v3.json',
      logListFetchedAt: new Date().toISOString(),
    });
    const res = await kit.get('/', kit.viewer);
    expect(res.status).toBe(200);
    const body = await res.text();
    expectCspClean(body);
    const t = textOf(body);
    expect(t).toContain('Unknown certificates');
    expect(t).toContain('www.example.com');
    expect(t).toContain('not-in-inventory');
    expect(t).toContain('https://ct.example/a/');
    expect(t).toContain('1 waiting');
    expect(t).toContain('https://loglist.example/v3.json');
    expect(t).toContain('Signed in as victor');
    // The logout form carries the session's CSRF token.
    expect(body).toContain(`name="_csrf" value="${kit.viewer.csrf}"`);
    expect(body).toMatch(/<main id="main"/);
    expect(body).toMatch(/<nav aria-label="Main">/);
  });
});

describe('certificates', () => {
  beforeEach(async () => {
    await kit.add([
      cert(1, ['example.com', 'www.example.com'], { notBefore: '2025-01-10T00:00:00Z' }),
      cert(2, ['api.example.com'], {
        issuer: 'C=US, O=Google Trust Services, CN=WR1',
        notBefore: '2025-02-10T00:00:00Z',
      }),
      cert(3, ['example.org'], { notBefore: '2025-03-10T00:00:00Z' }),
      cert(4, ['deep.a.example.com'], { notBefore: '2025-04-10T00:00:00Z' }),
      cert(5, ['notexample.com'], { notBefore: '2025-05-10T00:00:00Z' }),
    ]);
  });

  it.each(['%.example.com', 'example.com', '*.example.com', 'EXAMPLE.COM.'])(
    'q=%s lists the name and every name below it, not look-alikes',
    async (q) => {
      const body = await (await kit.get(`/certificates?q=${encodeURIComponent(q)}`, kit.viewer)).text();
      const t = textOf(body);
      expect(t).toContain('api.example.com');
      expect(t).toContain('deep.a.example.com');
      expect(t).toContain('www.example.com');
      expect(t).not.toContain('example.org');
      expect(t).not.toContain('notexample.com');
      expect(t).toContain('3 shown of 3 issuances');
    },
  );

  it('an invalid name is said, not searched', async () => {
    const res = await kit.get(`/certificates?q=${encodeURIComponent('exa mple..com')}`, kit.viewer);
    expect(res.status).toBe(200);
    expect(textOf(await res.text())).toContain('the search must be a DNS name');
  });

  it('filters by issuer, date and known/unknown', async () => {
    let t = textOf(await (await kit.get('/certificates?issuer=google', kit.viewer)).text());
    expect(t).toContain('api.example.com');
    expect(t).not.toContain('example.org');
    t = textOf(await (await kit.get('/certificates?from=2025-03-01&to=2025-04-30', kit.viewer)).text());
    expect(t).toContain('example.org');
    expect(t).toContain('deep.a.example.com');
    expect(t).not.toContain('api.example.com');
    await kit.store.authorize(sha256Hex('pages tbs 3'), 'ours');
    // The view context is cached a few seconds per app: a fresh kit app would see it at once; the
    // authorize form invalidates it (tested below). Here a new app over the same store.
    const { createApp } = await import('../src/server/index.js');
    const app = createApp({
      store: kit.store,
      logger: { info() {}, warn() {}, error() {} },
      secureCookies: false,
    });
    const get = async (p: string) =>
      textOf(
        await (
          await app.request(p, { headers: { cookie: `certvigil_session=${kit.viewer.cookie}` } })
        ).text(),
      );
    t = await get('/certificates?known=known');
    expect(t).toContain('example.org');
    expect(t).not.toContain('api.example.com');
    t = await get('/certificates?known=unknown');
    expect(t).not.toContain('example.org');
    expect(t).toContain('api.example.com');
  });

  it('pages with keyset links: every issuance once, newest first, and back again', async () => {
    const seen: string[] = [];
    let path: string | null = '/certificates?limit=2';
    const pages: string[] = [];
    while (path !== null && pages.length < 10) {
      const body = await (await kit.get(path, kit.viewer)).text();
      pages.push(path);
      for (const m of body.matchAll(/href="\/certificates\/([0-9a-f]{64})"/g)) seen.push(m[1] ?? '');
      const older = /<a href="([^"]+)" rel="next">/.exec(body);
      path = older ? (older[1] ?? '').replaceAll('&amp;', '&') : null;
    }
    // One batch shares its firstSeen: the order is then the TBS hash, as the store pages it.
    const all = (await kit.store.pageIssuances({ order: 'desc', limit: 10 })).map((i) => i.tbsSha256);
    expect(all).toHaveLength(5);
    expect(seen).toEqual(all);
    expect(pages.length).toBe(3);
    // From the last page, "Newer" goes back to the middle one.
    const last = await (await kit.get(pages[2] ?? '', kit.viewer)).text();
    const newer = /<a href="([^"]+)" rel="prev">/.exec(last);
    expect(newer).not.toBeNull();
    const middle = await (await kit.get((newer?.[1] ?? '').replaceAll('&amp;', '&'), kit.viewer)).text();
    expect([...middle.matchAll(/href="\/certificates\/([0-9a-f]{64})"/g)].map((m) => m[1])).toEqual(
      all.slice(2, 4),
    );
  });

  it('a forged page link is refused politely (newest page)', async () => {
    const res = await kit.get('/certificates?older=not-a-cursor!', kit.viewer);
    expect(res.status).toBe(200);
    expect(textOf(await res.text())).toContain('the page link is not valid');
  });
});

describe('certificate detail and authorize', () => {
  const hash = sha256Hex('pages tbs 7');
  beforeEach(async () => {
    await kit.add([cert(7, ['shop.example.com'])]);
  });

  it('shows names, issuer, validity, key, log entries, reasons and the PEM link; viewers get no form', async () => {
    const res = await kit.get(`/certificates/${hash}`, kit.viewer);
    expect(res.status).toBe(200);
    const body = await res.text();
    expectCspClean(body);
    const t = textOf(body);
    expect(t).toContain('shop.example.com');
    expect(t).toContain('C=US, O=Let&#39;s Encrypt, CN=R11');
    expect(t).toContain('2025-01-01 00:00 UTC');
    expect(t).toContain('ECDSA P-256');
    expect(t).toContain('https://ct.example/a/');
    expect(t).toContain('not-in-inventory');
    expect(body).toContain(`href="/api/v1/certificates/${hash}/pem"`);
    expect(body).not.toContain('/authorize"');
  });

  it('404 for an unknown hash, and for something that is no hash', async () => {
    expect((await kit.get(`/certificates/${sha256Hex('nope')}`, kit.viewer)).status).toBe(404);
    expect((await kit.get('/certificates/%3Cscript%3E', kit.viewer)).status).toBe(404);
  });

  it('a viewer may not authorize (403), an admin without the CSRF token neither, with it the issuance becomes known', async () => {
    expect(
      (await kit.post(`/certificates/${hash}/authorize`, { _csrf: kit.viewer.csrf }, kit.viewer)).status,
    ).toBe(403);
    expect((await kit.post(`/certificates/${hash}/authorize`, { note: 'x' }, kit.admin)).status).toBe(403);
    expect(await kit.store.listAuthorizations()).toEqual([]);

    const form = await (await kit.get(`/certificates/${hash}`, kit.admin)).text();
    expect(form).toContain(`action="/certificates/${hash}/authorize"`);
    expect(form).toContain(`name="_csrf" value="${kit.admin.csrf}"`);
    const res = await kit.post(
      `/certificates/${hash}/authorize`,
      { _csrf: kit.admin.csrf, note: 'CHG-42' },
      kit.admin,
    );
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`/certificates/${hash}`);
    expect((await kit.store.listAuthorizations()).map((a) => [a.hash, a.note])).toEqual([[hash, 'CHG-42']]);
    const after = textOf(await (await kit.get(`/certificates/${hash}`, kit.admin)).text());
    expect(after).toContain('known');
    expect(after).toContain('CHG-42');
    expect(after).not.toContain('not-in-inventory');
  });
});

describe('domains', () => {
  const audit = {
    domain: 'example.com',
    grade: 'C',
    findings: [
      {
        id: 'no-caa',
        severity: 'warning',
        name: 'example.com',
        message: 'No CAA record.',
        fix: 'example.com. CAA 0 issue "letsencrypt.org"',
      },
    ],
  };

  it('without --config says how to list the watched domains', async () => {
    const t = textOf(await (await kit.get('/domains', kit.viewer)).text());
    expect(t).toContain('start certvigil serve with --config');
  });

  it('lists watched domains with grade, and a domain page with findings, issuers and an SVG chart; admins re-run the audit', async () => {
    await kit.close();
    const calls: string[] = [];
    kit = await makePagesKit({
      watchedDomains: async () => ['example.com', 'Example.NET'],
      auditDomain: async (d) => {
        calls.push(d);
        return { ...audit, domain: d, grade: 'A', findings: [] };
      },
      now: () => new Date('2025-06-15T00:00:00Z'),
    });
    await kit.add([
      cert(1, ['www.example.com'], { notBefore: '2025-05-02T00:00:00Z' }),
      cert(2, ['api.example.com'], { notBefore: '2025-06-02T00:00:00Z', issuer: 'CN=WR1' }),
    ]);
    await kit.store.putDomainAudit({
      domain: 'example.com',
      resultJson: JSON.stringify(audit),
      checkedAt: '2025-06-01T00:00:00.000Z',
    });
    const list = textOf(await (await kit.get('/domains', kit.viewer)).text());
    expect(list).toContain('example.com');
    expect(list).toContain('example.net');
    expect(list).toContain('not audited');
    const body = await (await kit.get('/domains/example.com', kit.viewer)).text();
    expectCspClean(body);
    const t = textOf(body);
    expect(t).toContain('no-caa');
    expect(t).toContain('No CAA record.');
    expect(t).toContain('CN=WR1');
    expect(body).toMatch(/<svg\s+class="chart"[^>]*role="img"/);
    expect(body).toMatch(/<title>2025-06: 1<\/title>/);
    expect(body).not.toContain('/audit"');
    expect((await kit.get('/domains/unwatched.example', kit.viewer)).status).toBe(404);

    expect(
      (await kit.post('/domains/example.com/audit', { _csrf: kit.viewer.csrf }, kit.viewer)).status,
    ).toBe(403);
    const adminPage = await (await kit.get('/domains/example.com', kit.admin)).text();
    expect(adminPage).toContain('action="/domains/example.com/audit"');
    const res = await kit.post('/domains/example.com/audit', { _csrf: kit.admin.csrf }, kit.admin);
    expect(res.status).toBe(303);
    expect(calls).toEqual(['example.com']);
    const stored = (await kit.store.listDomainAudits()).find((a) => a.domain === 'example.com');
    expect(JSON.parse(stored?.resultJson ?? '{}')).toMatchObject({ grade: 'A' });
    expect(
      (await kit.post('/domains/other.example/audit', { _csrf: kit.admin.csrf }, kit.admin)).status,
    ).toBe(404);
  });

  it('an audit that throws is a 502 page with the (sanitised) message; the stored audit stays', async () => {
    await kit.close();
    kit = await makePagesKit({
      watchedDomains: async () => ['example.com'],
      auditDomain: async () => {
        throw new Error('resolver <b>down</b>\u202e');
      },
    });
    await kit.store.putDomainAudit({
      domain: 'example.com',
      resultJson: JSON.stringify(audit),
      checkedAt: '2025-06-01T00:00:00.000Z',
    });
    const res = await kit.post('/domains/example.com/audit', { _csrf: kit.admin.csrf }, kit.admin);
    expect(res.status).toBe(502);
    expect(await res.text()).toContain('resolver &lt;b&gt;down&lt;/b&gt;\\u202E');
    expect(JSON.parse((await kit.store.listDomainAudits())[0]?.resultJson ?? '{}')).toMatchObject({
      grade: 'C',
    });
  });
});

describe('iodef, mitm, alerts', () => {
  it('lists received iodef reports newest first with their summary', async () => {
    for (const n of [1, 2]) {
      await kit.store.storeReceivedIodef({
        fingerprint: sha256Hex(`fp ${n}`),
        senderKey: `smtp:ca${n}@ca.example`,
        documentSha256: sha256Hex(`doc ${n}`),
        incidentKey: sha256Hex(`inc ${n}`),
        sender: `ca${n}@ca.example`,
        channel: 'smtp',
        receivedAt: `2025-06-0${n}T00:00:00Z`,
        schemaValid: n === 1,
        summary: {
          incidentId: `INC-${n}`,
          names: [`n${n}.example.com`],
          reason: 'issuer-not-authorized',
          risk: 'high',
          reporter: [],
        },
        document: '<IODEF-Document/>',
      });
    }
    const body = await (await kit.get('/iodef', kit.viewer)).text();
    expectCspClean(body);
    const t = textOf(body);
    expect(t.indexOf('INC-2')).toBeLessThan(t.indexOf('INC-1'));
    expect(t).toContain('n1.example.com');
    expect(t).toContain('schema invalid');
  });

  it('lists MITM baselines', async () => {
    await kit.store.putMitmBaseline({
      target: 'mail.example.com',
      port: 443,
      jarms: ['2ad2ad0002ad2ad00042d42d00000069d641f34fe76acdc05c40262f8815e5'],
      lastHops: [['192.0.2.1', '192.0.2.2']],
      hopCounts: [7],
      learnedAt: '2025-06-01T00:00:00Z',
    });
    const t = textOf(await (await kit.get('/mitm', kit.viewer)).text());
    expect(t).toContain('mail.example.com');
    expect(t).toContain('192.0.2.1 → 192.0.2.2');
  });

  it('lists alerts newest first with their summary line and delivery state, paged', async () => {
    await kit.store.enqueueAlert({ key: 'issuance:a', kind: 'issuance', payload: issuanceEvent() });
    await kit.store.enqueueAlert({ key: 'other:b', kind: 'health', payload: { nonsense: true } });
    const [first] = await kit.store.pendingAlerts(10);
    await kit.store.markAlertDelivered(first?.id ?? 0);
    const t = textOf(await (await kit.get('/alerts', kit.viewer)).text());
    expect(t).toContain('2 alerts, 1 waiting');
    expect(t.indexOf('other:b')).toBeLessThan(t.indexOf('unknown certificate'));
    expect(t).toContain('delivered');
    for (let i = 0; i < 60; i++) await kit.store.enqueueAlert({ key: `k${i}`, kind: 'health', payload: {} });
    const p2 = textOf(await (await kit.get('/alerts?page=2', kit.viewer)).text());
    expect(p2).toContain('Page 2 of 2');
  });
});
