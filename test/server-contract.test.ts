/**
 * Issue 16's CONTRACT end to end, as an acceptance test sees it: only the built binary and real
 * components. A real `certvigil monitor --once` fills a state directory from the local CT log
 * (RFC 6962), one of whose certificates is not ours and one carries `<script>` in a dNSName (an
 * IA5String, RFC 5280 §4.2.1.6: the CA fixture encodes it as given, as a misbehaving CA could);
 * `certvigil token create` mints the token; `certvigil serve` is a child process; the API, /metrics
 * (checked by `promtool check metrics`) and the login form in headless Chromium are used as a user
 * would; SIGTERM stops the server with exit 0.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCtLogServer, TestCa, TestLog, writeLogList } from './fixtures/ct-log/index.js';
import type { CtLogServer } from './fixtures/ct-log/index.js';
import { CLI, jsonLines, runCli } from './cli-run.js';

const CHROMIUM = '/usr/bin/chromium';
const PROMTOOL = '/usr/bin/promtool';
const DAY = 86_400_000;
const OURS = ['www.example.test', 'example.test'];
const ATTACKER = ['www.example.test', 'mail.example.test'];
const SCRIPT_NAME = '<script>alert(1)</script>.evil.example.test';

let work: string;
let stateDir: string;
let ctLog: CtLogServer | undefined;
let child: ChildProcess | undefined;
let exited: Promise<number | null>;
let base: string;
let token: string;
let browser: Browser | undefined;
let serveStderr = '';

function pem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** `promtool check metrics` reads the exposition on stdin; resolves its exit status and output. */
function promtool(body: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const p = execFile(PROMTOOL, ['check', 'metrics'], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, output: stdout + stderr });
    });
    p.stdin?.end(body);
  });
}

const within = (name: string, q: string): boolean => name === q || name.endsWith(`.${q}`);
const key = (o: Record<string, unknown>): string => JSON.stringify(o);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-contract-'));
  stateDir = join(work, 'state');
  const ca = await TestCa.create();
  const log = new TestLog({ name: 'certvigil contract log', staticCtApi: false });
  const ourKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const now = Date.now();
  const ours = log.addPrecertificate(ca, {
    dnsNames: OURS,
    subjectKey: ourKey,
    notBefore: new Date(now - 5 * DAY),
    validityDays: 90,
    alsoLogFinal: true,
  });
  log.addCertificate(ca.issue({ dnsNames: ['www.other.test'] }));
  log.addCertificate(
    ca.issue({
      dnsNames: ATTACKER,
      subjectKey: ca.attackerKey.publicKey,
      notBefore: new Date(now - 2 * DAY),
    }),
  );
  log.addCertificate(ca.issue({ dnsNames: [SCRIPT_NAME], notBefore: new Date(now - DAY) }));
  log.publish();
  ctLog = await startCtLogServer(log, { rfc6962Prefix: '/logs/c/' });
  const list = join(work, 'loglist.json');
  await writeLogList(list, [{ server: ctLog, api: 'rfc6962' }]);
  const inventory = join(work, 'inventory');
  await mkdir(inventory);
  await writeFile(join(inventory, 'www.example.test.pem'), pem(ours.finalCert.der));
  const watchlist = join(work, 'watchlist');
  await writeFile(watchlist, '.example.test\n');
  const config = join(work, 'config.yaml');
  await writeFile(config, 'caaResolver: false\nalerts:\n  exec: { command: "cat >/dev/null" }\n');

  const once = await runCli([
    'monitor',
    '--once',
    '--log-list',
    list,
    '--watchlist',
    watchlist,
    '--inventory',
    inventory,
    '--state-dir',
    stateDir,
    '--config',
    config,
  ]);
  expect(once.code, once.stderr).toBe(0);

  const created = await runCli([
    'token',
    'create',
    '--state-dir',
    stateDir,
    '--role',
    'viewer',
    '--name',
    'contract',
  ]);
  expect(created.code, created.stderr).toBe(0);
  token = created.stdout.split('\n')[0] ?? '';
  expect(token).toMatch(/^\S{20,}$/);

  const port = await freePort();
  const c = spawn(
    process.execPath,
    [CLI, 'serve', '--listen', `127.0.0.1:${port}`, '--state-dir', stateDir],
    {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  child = c;
  exited = new Promise((resolve) => c.once('exit', (code) => resolve(code)));
  base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${serveStderr}`)), 20_000);
    c.stderr?.on('data', (chunk: Buffer) => {
      serveStderr += chunk.toString();
      const m = /serving on (http:\/\/\S+)/.exec(serveStderr);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ''));
      }
    });
    c.once('exit', (code) => reject(new Error(`serve exited ${String(code)}: ${serveStderr}`)));
  });
  expect(base).toBe(`http://127.0.0.1:${port}`);
}, 90_000);

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await ctLog?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('issue 16 CONTRACT through the built binary', () => {
  it.each(['example.test', 'www.example.test', 'evil.example.test', 'nothing.invalid'])(
    'GET /api/v1/certificates?name=%s: 401 without a token; with it the issuances of certs list --json',
    async (name) => {
      const url = `${base}/api/v1/certificates?name=${encodeURIComponent(name)}`;
      const anonymous = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      expect(anonymous.status).toBe(401);
      const res = await fetch(url, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(10_000),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { certificates: Record<string, unknown>[] };
      const listed = await runCli(['certs', 'list', '--json', '--state-dir', stateDir]);
      expect(listed.code, listed.stderr).toBe(0);
      const expected = jsonLines(listed.stdout).filter((o) =>
        (o.dnsNames as string[]).some((n) => within(n.toLowerCase(), name)),
      );
      expect(body.certificates.map(key).sort()).toEqual(expected.map(key).sort());
      for (const c of body.certificates) {
        expect(Object.keys(c)).toEqual(
          expect.arrayContaining([
            'tbsSha256',
            'dnsNames',
            'issuer',
            'notBefore',
            'notAfter',
            'known',
            'reasons',
          ]),
        );
      }
      const counts: Record<string, number> = {
        'example.test': 3,
        'www.example.test': 2,
        'evil.example.test': 1,
        'nothing.invalid': 0,
      };
      expect(body.certificates).toHaveLength(counts[name] ?? -1);
    },
    30_000,
  );

  it('the API shows the unknown certificate and the <script> name as data', async () => {
    const res = await fetch(`${base}/api/v1/certificates?name=example.test`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    });
    const { certificates } = (await res.json()) as {
      certificates: { dnsNames: string[]; known: boolean; reasons: unknown[] }[];
    };
    const attacker = certificates.find((c) => c.dnsNames.includes('mail.example.test'));
    expect(attacker).toMatchObject({ known: false });
    expect(attacker?.reasons.length).toBeGreaterThan(0);
    expect(certificates.find((c) => c.dnsNames.includes(SCRIPT_NAME))).toMatchObject({ known: false });
    expect(certificates.find((c) => c.dnsNames.includes('example.test'))).toMatchObject({ known: true });
  }, 20_000);

  it('GET /metrics with the token passes promtool check metrics and has certvigil_ samples', async () => {
    expect((await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(10_000) })).status).toBe(401);
    const res = await fetch(`${base}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(10_000),
    });
    expect(res.status).toBe(200);
    const body = await res.text();
    const checked = await promtool(body);
    expect(checked.code, checked.output).toBe(0);
    expect(body).toMatch(/^certvigil_[a-zA-Z0-9_:]*(\{[^}]*\})? \S+/m);
  }, 30_000);

  it('a browser: / → /login, the token form signs in, the unknown certificate is shown, <script> is text', async () => {
    const { certificates } = (await (
      await fetch(`${base}/api/v1/certificates?name=mail.example.test`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(10_000),
      })
    ).json()) as { certificates: { reasons: unknown[] }[] };
    const codes = (certificates[0]?.reasons ?? []).map((r) =>
      typeof r === 'string' ? r : String((r as { code?: unknown }).code),
    );
    expect(codes.length).toBeGreaterThan(0);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 30_000 });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(15_000);
    context.setDefaultNavigationTimeout(15_000);
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });

    await page.goto(`${base}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    const field = page.locator('form input[type="password"][name="token"]');
    await expect(field.count()).resolves.toBe(1);
    await field.fill(token);
    await Promise.all([page.waitForNavigation(), field.press('Enter')]);
    expect(new URL(page.url()).pathname).not.toBe('/login');

    // The overview lists the unknown certificates; the certificates page is one click away as well.
    let text = await page.locator('body').innerText();
    if (!text.includes('mail.example.test')) {
      await page.goto(`${base}/certificates?known=unknown`);
      text = await page.locator('body').innerText();
    }
    for (const n of ATTACKER) expect(text).toContain(n);
    for (const c of codes) expect(text).toContain(c);
    expect(text).toContain(SCRIPT_NAME);
    // No element came from the name: the only scripts are the server's own files.
    expect(await page.locator('script:not([src])').count()).toBe(0);
    expect(dialogs).toEqual([]);
    // To be looked at (the Verify section): kept outside the state directory, which afterAll removes.
    const shots = await mkdtemp(join(tmpdir(), 'certvigil-contract-shots-'));
    await page.screenshot({ path: join(shots, 'signed-in.png'), fullPage: true });
    console.log(`screenshot in ${shots}`);
    await context.close();
  }, 90_000);

  it('SIGTERM stops serve with exit 0', async () => {
    child?.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise<string>((resolve) => setTimeout(() => resolve('timeout'), 15_000)),
    ]);
    expect(code, serveStderr).toBe(0);
  }, 20_000);
});
