/**
 * The dashboard in real headless Chromium (Debian `chromium` + playwright-core) over a real socket
 * and a real SQLite store: a signed-in browser sees the unknown certificate's DNS names and reason
 * codes; a certificate name with `<script>` is shown as text and never runs (no dialog, title
 * unchanged); the CSP reports no violation (app.css and app.js load, nothing inline); every page
 * also works with JavaScript off. Screenshots go to a temporary directory (printed) to be looked at.
 *
 * The session is made directly in the store and set as the cookie (what /login sets), so this
 * test does not depend on the login form; the server is @hono/node-server's `serve` on port 0.
 */
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import type { ServerType } from '@hono/node-server';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestToken } from './fixtures/tokens.js';
import { issuance, makePagesKit, sha256Hex } from './server-pages-kit.js';
import type { PagesKit, Session } from './server-pages-kit.js';

const CHROMIUM = '/usr/bin/chromium';
const SCRIPT_NAME = "<script>document.title='pwned';alert('xss')</script>.evil.example.com";
const IMG_NAME = '"><img src=x onerror="document.title=\'pwned2\'">.example.com';
const UNKNOWN_TBS = sha256Hex('browser unknown');

let kit: PagesKit;
let server: ServerType;
let base: string;
let browser: Browser;
let shots: string;

beforeAll(async () => {
  kit = await makePagesKit({ watchedDomains: async () => ['example.com'], auditDomain: async () => ({}) });
  await kit.add([
    issuance({
      index: 0,
      tbsSha256: sha256Hex('browser known'),
      dnsNames: ['www.example.com', 'example.com'],
      notBefore: '2026-09-01T00:00:00Z',
      notAfter: '2026-11-30T00:00:00Z',
    }),
    issuance({
      index: 1,
      tbsSha256: UNKNOWN_TBS,
      dnsNames: ['login.example.com', 'secure-login.example.com'],
      issuer: 'C=XX, O=Shady Issuing Ltd, CN=Shady CA 1',
      notBefore: '2026-11-20T00:00:00Z',
      notAfter: '2027-11-20T00:00:00Z',
    }),
    issuance({
      index: 2,
      tbsSha256: sha256Hex('browser hostile'),
      dnsNames: [SCRIPT_NAME, IMG_NAME, 'moc.elpmaxe\u202e.example.com'],
      notBefore: '2026-11-25T00:00:00Z',
    }),
  ]);
  await kit.store.authorize(sha256Hex('browser known'), 'our ACME client');
  await kit.store.putDomainAudit({
    domain: 'example.com',
    resultJson: JSON.stringify({
      domain: 'example.com',
      grade: 'B',
      findings: [
        {
          id: 'no-iodef',
          severity: 'warning',
          name: 'example.com',
          message: 'No iodef property: CAs cannot report refused requests.',
          fix: 'example.com. CAA 0 iodef "mailto:security@example.com"',
        },
      ],
    }),
    checkedAt: '2026-12-01T00:00:00.000Z',
  });
  await new Promise<void>((resolve) => {
    server = serve({ fetch: kit.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  shots = await mkdtemp(join(tmpdir(), 'certvigil-shots-'));
  console.log(`screenshots in ${shots}`);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await kit?.close();
});

interface Watched {
  page: Page;
  context: BrowserContext;
  dialogs: string[];
  problems: string[];
}

async function open(who: Session, javaScriptEnabled = true): Promise<Watched> {
  const context = await browser.newContext({ javaScriptEnabled, viewport: { width: 1280, height: 900 } });
  await context.addCookies([
    { name: 'certvigil_session', value: who.cookie, url: base, httpOnly: true, sameSite: 'Strict' },
  ]);
  const page = await context.newPage();
  const dialogs: string[] = [];
  const problems: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  // Runs before any page script and is not subject to the page's CSP: it records violations.
  await page.addInitScript({
    content:
      "window.__csp = []; document.addEventListener('securitypolicyviolation', function (e) { window.__csp.push(e.violatedDirective + ' ' + e.blockedURI); });",
  });
  return { page, context, dialogs, problems };
}

async function cspViolations(page: Page): Promise<string[]> {
  // A string: the test is compiled without the DOM library.
  return JSON.parse(String(await page.evaluate('JSON.stringify(window.__csp)'))) as string[];
}

describe('dashboard in headless Chromium', () => {
  it('CONTRACT: / without a session goes to /login; a viewer token typed into the form leads to the unknown certificate', async () => {
    const token = await createTestToken(kit.store, 'viewer', { name: 'browser viewer' });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    const tokenInput = page.locator('input[type="password"][name="token"]');
    await tokenInput.fill(token);
    await page.screenshot({ path: join(shots, 'login.png'), fullPage: true });
    await Promise.all([page.waitForURL(`${base}/`, { timeout: 10_000 }), tokenInput.press('Enter')]);
    const main = await page.locator('main').innerText();
    expect(main).toContain('login.example.com');
    expect(main).toContain('secure-login.example.com');
    expect(main).toContain('not-in-inventory');
    expect(await page.locator('header .who').innerText()).toContain('viewer');
    // Log out (POST /logout with the CSRF field of the layout) and / sends to /login again.
    await Promise.all([page.waitForURL(/\/login/), page.getByRole('button', { name: 'Log out' }).click()]);
    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('overview: the unknown certificate with its DNS names and reason codes, hostile names as text', async () => {
    const w = await open(kit.viewer);
    const res = await w.page.goto(`${base}/`);
    expect(res?.status()).toBe(200);
    await expect(w.page.title()).resolves.toBe('Overview · certvigil');
    const unknownSection = w.page.locator('section', { has: w.page.locator('h2#unknown') });
    const text = await unknownSection.innerText();
    expect(text).toContain('login.example.com');
    expect(text).toContain('secure-login.example.com');
    expect(text).toContain('not-in-inventory');
    // The known (authorised) certificate is not among the unknown ones.
    expect(text).not.toContain('www.example.com');
    // The <script> name is visible as text, the bidi override as an escape.
    expect(text).toContain(SCRIPT_NAME);
    expect(text).toContain('moc.elpmaxe\\u202E.example.com');
    // app.js ran (relative times), under the CSP.
    await w.page.waitForSelector('.rel');
    await w.page.screenshot({ path: join(shots, 'overview.png'), fullPage: true });
    expect(w.dialogs).toEqual([]);
    expect(await w.page.title()).toBe('Overview · certvigil');
    expect(await w.page.locator('img').count()).toBe(0);
    expect(await cspViolations(w.page)).toEqual([]);
    expect(w.problems).toEqual([]);
    await w.context.close();
  });

  it('certificates: search, filter, detail page with reasons; admin sees the authorize form and it works', async () => {
    const w = await open(kit.admin);
    await w.page.goto(`${base}/certificates?q=${encodeURIComponent('%.example.com')}&known=unknown`);
    const table = await w.page.locator('table.certs').innerText();
    expect(table).toContain('login.example.com');
    expect(table).toContain('Shady CA 1');
    expect(table).not.toContain('www.example.com');
    await w.page.screenshot({ path: join(shots, 'certificates.png'), fullPage: true });
    // Submit-on-change (app.js): choosing "known" reloads the list.
    await Promise.all([
      w.page.waitForURL(/known=known/, { timeout: 5000 }),
      w.page.selectOption('#known', 'known'),
    ]);
    expect(await w.page.locator('table.certs').innerText()).toContain('www.example.com');

    await w.page.goto(`${base}/certificates/${UNKNOWN_TBS}`);
    const detail = await w.page.locator('main').innerText();
    expect(detail).toContain('secure-login.example.com');
    expect(detail).toContain('not-in-inventory');
    expect(detail).toContain('https://ct.example/a/');
    expect(await w.page.getByRole('link', { name: 'Download PEM' }).getAttribute('href')).toBe(
      `/api/v1/certificates/${UNKNOWN_TBS}/pem`,
    );
    await w.page.screenshot({ path: join(shots, 'detail.png'), fullPage: true });
    await w.page.getByLabel('Note (who requested it, ticket)').fill('CHG-7 approved', { timeout: 5000 });
    await Promise.all([
      w.page.waitForURL(`${base}/certificates/${UNKNOWN_TBS}`),
      w.page.getByRole('button', { name: 'Authorise' }).click(),
    ]);
    expect(await w.page.locator('main').innerText()).toContain('CHG-7 approved');
    expect((await kit.store.listAuthorizations()).some((a) => a.hash === UNKNOWN_TBS)).toBe(true);
    await kit.store.unauthorize(UNKNOWN_TBS);
    expect(await cspViolations(w.page)).toEqual([]);
    expect(w.problems).toEqual([]);
    expect(w.dialogs).toEqual([]);
    await w.context.close();
  });

  it('the hostile certificate page: text only, nothing runs', async () => {
    const w = await open(kit.viewer);
    await w.page.goto(`${base}/certificates/${sha256Hex('browser hostile')}`);
    const names = await w.page.locator('dl.facts ul.names').innerText();
    expect(names).toContain(SCRIPT_NAME);
    expect(names).toContain(IMG_NAME);
    await w.page.waitForTimeout(300);
    expect(w.dialogs).toEqual([]);
    // The title is the first name as text (escaped in <title>), not what the name's script would set.
    expect(await w.page.title()).toBe(`${SCRIPT_NAME} · certvigil`);
    expect(await w.page.locator('main img, main script').count()).toBe(0);
    await w.page.screenshot({ path: join(shots, 'hostile.png'), fullPage: true });
    expect(await cspViolations(w.page)).toEqual([]);
    expect(w.problems).toEqual([]);
    // Control: the detector does see a violation (an inline <style> added at run time is refused).
    await w.page.evaluate(
      "var s = document.createElement('style'); s.textContent = 'body { color: red }'; document.head.appendChild(s);",
    );
    await expect.poll(() => cspViolations(w.page)).toEqual([expect.stringMatching(/^style-src/)]);
    await w.context.close();
  });

  it('domain page with the SVG chart, and every page without JavaScript', async () => {
    const w = await open(kit.viewer);
    await w.page.goto(`${base}/domains/example.com`);
    expect(await w.page.locator('svg.chart rect.bar').count()).toBe(12);
    expect(await w.page.locator('main').innerText()).toContain('no-iodef');
    await w.page.screenshot({ path: join(shots, 'domain.png'), fullPage: true });
    expect(await cspViolations(w.page)).toEqual([]);
    await w.context.close();

    const nojs = await open(kit.viewer, false);
    for (const p of [
      '/',
      '/certificates',
      '/domains',
      '/domains/example.com',
      '/iodef',
      '/mitm',
      '/alerts',
    ]) {
      const res = await nojs.page.goto(`${base}${p}`);
      expect(res?.status(), p).toBe(200);
      expect(await nojs.page.locator('main h1').count(), p).toBe(1);
    }
    await nojs.page.goto(`${base}/certificates?q=login.example.com`);
    expect(await nojs.page.locator('table.certs').innerText()).toContain('login.example.com');
    await nojs.page.screenshot({ path: join(shots, 'certificates-nojs.png'), fullPage: true });
    expect(nojs.problems).toEqual([]);
    await nojs.context.close();
  });
});
