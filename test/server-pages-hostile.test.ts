/**
 * Hostile data on every page: certificate names, issuers, iodef fields, MITM targets and recorded
 * `check mitm` findings, alert keys, log errors and audit findings carry HTML, attribute breakers,
 * bidi overrides (CVE-2021-42574) and 5000-character values. The pages must show them as escaped text only: no tag, attribute or
 * bidi control of theirs reaches the HTML, and long values are cut.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issuance, makePagesKit, sha256Hex } from './server-pages-kit.js';
import type { PagesKit } from './server-pages-kit.js';

const SCRIPT = '<script>alert(1)</script>.evil.example.com';
const ATTR = '"><img src=x onerror=alert(2)>.example.com';
const BIDI = 'moc.elpmaxe\u202e.example.com';
const LONG = `${'a'.repeat(5000)}.example.com`;
const HTML_ISSUER = 'CN=<b onmouseover=alert(3)>Evil CA</b>';

let kit: PagesKit;
const hash = sha256Hex('hostile tbs');

beforeAll(async () => {
  kit = await makePagesKit({
    watchedDomains: async () => ['example.com'],
  });
  await kit.add([
    issuance({
      index: 0,
      tbsSha256: hash,
      dnsNames: [SCRIPT, ATTR, BIDI, LONG, 'x.example.com'],
      issuer: HTML_ISSUER,
      serial: '<i>serial</i>',
      keyType: '<u>RSA</u>',
    }),
  ]);
  await kit.store.storeReceivedIodef({
    fingerprint: sha256Hex('hostile fp'),
    senderKey: 'smtp:x',
    documentSha256: sha256Hex('hostile doc'),
    incidentKey: null,
    sender: '<script>alert(4)</script>@ca.example',
    channel: 'smtp',
    receivedAt: '2025-06-01T00:00:00Z',
    schemaValid: false,
    summary: {
      incidentId: '"><svg onload=alert(5)>',
      names: [SCRIPT, BIDI],
      reason: '<iframe src=javascript:alert(6)>',
      risk: 'high',
      reporter: ['<a href=javascript:alert(7)>x</a>'],
      descriptions: [`<marquee>${'d'.repeat(5000)}</marquee>`],
    },
    document: '<IODEF-Document><script>alert(8)</script></IODEF-Document>',
  });
  await kit.store.putMitmBaseline({
    target: '<script>alert(9)</script>',
    port: 443,
    jarms: ['<b>jarm</b>'],
    lastHops: [['"><img onerror=alert(10)>']],
    hopCounts: [1],
    learnedAt: '2025-06-01T00:00:00Z',
  });
  // A recorded `check mitm --record` result: the target passes the store's check (no spaces or
  // controls) yet is markup; the findings are JSON from a probed server's world.
  await kit.store.putMitmResult({
    target: '<script>alert(15)</script>',
    status: 'CRITICAL',
    resultJson: JSON.stringify({
      status: 'CRITICAL',
      summary: `<img src=x onerror=alert(16)> ${'e'.repeat(5000)}`,
      findings: [
        {
          id: '"><svg onload=alert(17)>',
          severity: '"><script>',
          message: `<iframe src=javascript:alert(18)> ${BIDI} ${'a'.repeat(5000)}`,
          address: '<b>127.0.0.1:443</b>',
        },
      ],
    }),
    checkedAt: '2025-06-01T00:00:00.000Z',
  });
  await kit.store.enqueueAlert({ key: '<script>alert(11)</script>', kind: 'health', payload: { x: 1 } });
  await kit.store.putLogHealth({
    logId: Buffer.alloc(32, 0x11).toString('base64'),
    url: 'https://ct.example/a/<script>alert(12)</script>',
    status: 'unreachable',
    lastAttemptAt: '2025-06-01T00:00:00.000Z',
    lastContactAt: null,
    lastError: `<img src=x onerror=alert(13)> ${'e'.repeat(5000)}`,
    newestTreeSize: null,
    newestTreeTimestamp: null,
    updatedAt: '2025-06-01T00:00:00.000Z',
  });
  await kit.store.putDomainAudit({
    domain: 'example.com',
    resultJson: JSON.stringify({
      domain: 'example.com',
      grade: '<b>F</b>',
      findings: [
        { id: '<x>', severity: '"><script>', name: SCRIPT, message: '<script>alert(14)</script>', fix: BIDI },
      ],
    }),
    checkedAt: '2025-06-01T00:00:00.000Z',
  });
});
afterAll(async () => {
  await kit.close();
});

/** Tags the pages themselves write; anything else in the HTML would have come from the data. */
const OUR_TAGS = new Set(
  'html head meta title link script body a header div nav ul li form input button main h1 h2 h3 p section table caption thead tbody tr th td span strong code time dl dt dd label select option footer svg line text rect desc details summary pre br'.split(
    ' ',
  ),
);

function expectOnlyEscaped(body: string): void {
  // Every real tag (a raw `<`: escaped text has none) is one of ours, with no handler attribute
  // and no javascript: URL (escaped text may *say* `onerror=`; that is harmless text).
  for (const m of body.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>/g)) {
    expect(OUR_TAGS, `tag <${m[1]}>`).toContain(m[1]?.toLowerCase());
    expect(m[2] ?? '').not.toMatch(/\son[a-z]+\s*=/i);
    expect(m[2] ?? '').not.toMatch(/javascript:/i);
  }
  // Our one script tag is the external app.js.
  expect(body.match(/<script/g)?.length).toBe(1);
  expect(body).toContain('<script src="/static/app.js" defer></script>');
  // No bidi override or other format character reaches the page; it is shown as an escape.
  expect(body).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
  // No 5000-character run of outside text survives.
  expect(body).not.toMatch(/a{1000}|d{1000}|e{1000}/);
}

describe('hostile data is shown as text only', () => {
  it.each([
    ['/', ['&lt;script&gt;alert(1)&lt;/script&gt;.evil.example.com', '&lt;img src=x onerror=alert(13)&gt;']],
    [
      '/certificates',
      [
        '&lt;script&gt;alert(1)&lt;/script&gt;.evil.example.com',
        'CN=&lt;b onmouseover=alert(3)&gt;Evil CA&lt;/b&gt;',
      ],
    ],
    ['/certificates?q=%25.example.com', ['&lt;script&gt;alert(1)&lt;/script&gt;.evil.example.com']],
    [
      `/certificates/${hash}`,
      [
        '&lt;script&gt;alert(1)&lt;/script&gt;.evil.example.com',
        '&quot;&gt;&lt;img src=x onerror=alert(2)&gt;.example.com',
        'moc.elpmaxe\\u202E.example.com',
        '&lt;i&gt;serial&lt;/i&gt;',
      ],
    ],
    [
      '/iodef',
      [
        '&lt;script&gt;alert(4)&lt;/script&gt;@ca.example',
        '&quot;&gt;&lt;svg onload=alert(5)&gt;',
        '&lt;iframe src=javascript:alert(6)&gt;',
      ],
    ],
    [
      '/mitm',
      [
        '&lt;script&gt;alert(9)&lt;/script&gt;',
        '&quot;&gt;&lt;img onerror=alert(10)&gt;',
        '&lt;script&gt;alert(15)&lt;/script&gt;',
        '&lt;img src=x onerror=alert(16)&gt;',
        '&quot;&gt;&lt;svg onload=alert(17)&gt;',
        '&lt;iframe src=javascript:alert(18)&gt; moc.elpmaxe\\u202E.example.com',
        '&lt;b&gt;127.0.0.1:443&lt;/b&gt;',
      ],
    ],
    ['/alerts', ['&lt;script&gt;alert(11)&lt;/script&gt;']],
    ['/domains', ['&lt;b&gt;F&lt;/b&gt;']],
    ['/domains/example.com', ['&lt;script&gt;alert(14)&lt;/script&gt;', 'moc.elpmaxe\\u202E.example.com']],
  ])('%s', async (path, shown) => {
    const res = await kit.get(path, kit.admin);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    for (const s of shown) expect(body).toContain(s);
    expectOnlyEscaped(body);
  });
});
