/**
 * `certvigil backfill` through the built binary (issue 18), against the loopback stand-ins of
 * crt.sh and the Cert Spotter API (test/fixtures/ct-apis) and the local CT log
 * (test/fixtures/ct-log), on SQLite and on a real PostgreSQL (test/harness/postgres.ts): both
 * sources, paging, subdomains, --since, a 429 waited out, 401, usage errors that write nothing,
 * and a certificate imported and later found by `monitor --once` in the log — ONE issuance, with
 * its log entry and its source, in `certs list --json`.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { summarizeCertificate } from '../src/x509/index.js';
import { jsonLines, runCli } from './cli-run.js';
import { startCertSpotterServer } from './fixtures/ct-apis/certspotter.js';
import type { CertSpotterServer } from './fixtures/ct-apis/certspotter.js';
import { startCrtShServer } from './fixtures/ct-apis/crtsh.js';
import type { CrtShServer } from './fixtures/ct-apis/crtsh.js';
import { startCtLogServer, TestCa, TestLog, writeLogList } from './fixtures/ct-log/index.js';
import type { CtLogServer, IssuedCertificate } from './fixtures/ct-log/index.js';
import { startPostgres } from './harness/postgres.js';
import type { PostgresServer } from './harness/postgres.js';

const DAY = 86_400_000;
const KEY = 'test-key-1234';
let work: string;
let pg: PostgresServer;
let log: CtLogServer;
let crtsh: CrtShServer;
let certspotter: CertSpotterServer;
let list: string;
let watchlist: string;
let config: string;
/** Logged as a certificate, known to both APIs. */
let logged: IssuedCertificate;
/** Logged as a precertificate only; crt.sh knows the precertificate and the final certificate. */
let pre: { precert: IssuedCertificate; finalCert: IssuedCertificate };
/** Never logged here (an older certificate): only the APIs know it. */
let old: IssuedCertificate;
let outside: IssuedCertificate;
const tbs = (der: Uint8Array): string => summarizeCertificate(der).tbsSha256;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-backfill-'));
  pg = await startPostgres();
  const ca = await TestCa.create();
  const ctLog = new TestLog({ name: 'certvigil backfill log', staticCtApi: false });
  const now = Date.now();
  logged = ca.issue({ dnsNames: ['www.example.test', 'example.test'], notBefore: new Date(now - 20 * DAY) });
  ctLog.addCertificate(logged);
  pre = ctLog.addPrecertificate(ca, { dnsNames: ['api.example.test'], notBefore: new Date(now - 3 * DAY) });
  old = ca.issue({ dnsNames: ['old.example.test'], notBefore: new Date(now - 60 * DAY) });
  outside = ca.issue({ dnsNames: ['www.other.test'] });
  ctLog.publish();
  log = await startCtLogServer(ctLog, { rfc6962Prefix: '/logs/b/' });
  list = join(work, 'loglist.json');
  await writeLogList(list, [{ server: log, api: 'rfc6962' }]);
  watchlist = join(work, 'watchlist');
  await writeFile(watchlist, '.example.test\n');
  config = join(work, 'config.yaml');
  await writeFile(config, 'caaResolver: false\nalerts:\n  exec: { command: "cat >/dev/null" }\n');

  crtsh = await startCrtShServer();
  const row = (c: IssuedCertificate, der = c.der) => ({
    der,
    dnsNames: c.dnsNames,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    serial: c.serial,
  });
  for (const c of [logged, old, outside, pre.finalCert]) crtsh.add(row(c));
  crtsh.add(row(pre.finalCert, pre.precert.der));
  certspotter = await startCertSpotterServer([], { apiKey: KEY, pageSize: 1 });
  for (const c of [logged, old, outside, pre.finalCert])
    certspotter.add({
      der: c.der,
      tbsSha256: tbs(c.der),
      dnsNames: c.dnsNames,
      notBefore: c.notBefore,
      notAfter: c.notAfter,
    });
}, 120_000);

afterAll(async () => {
  await Promise.all([log?.close(), crtsh?.close(), certspotter?.close()]);
  await pg?.stop();
  await rm(work, { recursive: true, force: true });
});

let counter = 0;
/** A new state for one engine: `--state-dir DIR` or `--database URL`. */
async function newState(engine: 'sqlite' | 'postgres'): Promise<string[]> {
  if (engine === 'postgres') return ['--database', await pg.createDatabase()];
  return ['--state-dir', join(work, `state-${++counter}`)];
}

async function certsList(state: string[]): Promise<Record<string, unknown>[]> {
  const out = await runCli(['certs', 'list', '--json', ...state]);
  expect(out.code, out.stderr).toBe(0);
  return jsonLines(out.stdout);
}

function summaryOf(stdout: string): Record<string, unknown> {
  const lines = jsonLines(stdout);
  expect(lines).toHaveLength(1);
  return lines[0] ?? {};
}

describe.each(['sqlite', 'postgres'] as const)('backfill on %s', (engine) => {
  it('crt.sh with --subdomains, then monitor --once on the log: one issuance per certificate', async () => {
    const state = await newState(engine);
    const run = await runCli([
      'backfill',
      '--name',
      'example.test',
      '--subdomains',
      '--source',
      'crtsh',
      '--url',
      crtsh.url,
      '--json',
      ...state,
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(summaryOf(run.stdout)).toMatchObject({
      source: 'backfill:crtsh',
      listed: 4,
      imported: 3,
      added: 3,
      known: 0,
    });
    const monitor = await runCli([
      'monitor',
      '--once',
      '--log-list',
      list,
      '--watchlist',
      watchlist,
      '--config',
      config,
      ...state,
    ]);
    expect(monitor.code, monitor.stderr).toBe(0);
    const certs = await certsList(state);
    const byTbs = new Map(certs.map((c) => [c.tbsSha256 as string, c]));
    expect(certs).toHaveLength(3);
    expect(byTbs.get(tbs(logged.der))).toMatchObject({
      sources: ['backfill:crtsh'],
      entries: [expect.objectContaining({ type: 'x509' })],
    });
    expect(byTbs.get(tbs(pre.precert.der))).toMatchObject({
      sources: ['backfill:crtsh'],
      entries: [expect.objectContaining({ type: 'precert' })],
    });
    expect(byTbs.get(tbs(old.der))).toMatchObject({ sources: ['backfill:crtsh'], entries: [] });

    // Cert Spotter afterwards (pages of one, the key from the environment): nothing new.
    const again = await runCli(
      [
        'backfill',
        '--name',
        'example.test',
        '--subdomains',
        '--source',
        'certspotter',
        '--url',
        certspotter.url,
        '--json',
        ...state,
      ],
      { CERTSPOTTER_API_KEY: KEY },
    );
    expect(again.code, again.stderr).toBe(0);
    expect(summaryOf(again.stdout)).toMatchObject({ listed: 3, imported: 3, added: 0, known: 3 });
    const after = await certsList(state);
    expect(after).toHaveLength(3);
    expect(after.find((c) => c.tbsSha256 === tbs(logged.der))?.sources).toEqual([
      'backfill:certspotter',
      'backfill:crtsh',
    ]);
  }, 120_000);

  it('Cert Spotter: the name only, --since, a 429 waited out, 401 one line', async () => {
    const state = await newState(engine);
    certspotter.faults.failNext = { status: 429, count: 1, retryAfter: '1' };
    const run = await runCli(
      [
        'backfill',
        '--name',
        'example.test',
        '--source',
        'certspotter',
        '--url',
        certspotter.url,
        '--json',
        ...state,
      ],
      { CERTSPOTTER_API_KEY: KEY },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(summaryOf(run.stdout)).toMatchObject({ listed: 1, imported: 1, retries: 1 });
    const since = new Date(Date.now() - 30 * DAY).toISOString().slice(0, 10);
    const recent = await runCli(
      [
        'backfill',
        '--name',
        'example.test',
        '--subdomains',
        '--since',
        since,
        '--source',
        'certspotter',
        '--url',
        certspotter.url,
        ...state,
      ],
      { CERTSPOTTER_API_KEY: KEY },
    );
    expect(recent.code, recent.stderr).toBe(0);
    expect(recent.stdout).toMatch(
      /3 listed .*2 issuance\(s\) imported: 1 new, 1 already known; left out: 1 before --since/,
    );
    expect((await certsList(state)).map((c) => c.tbsSha256).sort()).toEqual(
      [tbs(logged.der), tbs(pre.finalCert.der)].sort(),
    );
    const refused = await runCli(
      ['backfill', '--name', 'example.test', '--source', 'certspotter', '--url', certspotter.url, ...state],
      { CERTSPOTTER_API_KEY: 'wrong' },
    );
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    const lines = refused.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{"level"'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^certvigil: .*HTTP 401.*CERTSPOTTER_API_KEY/);
  }, 120_000);
});

describe('backfill usage', () => {
  it.each([
    [['--source', 'crtsh'], /--name DOMAIN is required/],
    [['--name', 'example.test'], /--source crtsh\|certspotter is required/],
    [['--name', 'example.test', '--source', 'censys'], /crtsh or certspotter/],
    [['--name', 'com', '--source', 'crtsh'], /not a domain name/],
    [['--name', '*.example.test', '--source', 'crtsh'], /without "\*\."/],
    [['--name', 'ex ample.test', '--source', 'crtsh'], /not a domain name/],
    [['--name', 'example.test', '--source', 'crtsh', '--since', 'last week'], /--since .* is not a date/],
    [['--name', 'example.test', '--source', 'crtsh', '--url', 'ftp://x'], /only http and https/],
    [['--name', 'example.test', '--source', 'crtsh', '--max-certs', '0'], /--max-certs must be a positive/],
  ])('%j: exit 2, one line, nothing written', async (args, message) => {
    const stateDir = join(work, `usage-${++counter}`);
    const out = await runCli(['backfill', ...args, '--state-dir', stateDir]);
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(out.stderr).toMatch(message);
    expect(existsSync(stateDir)).toBe(false);
  });

  it('--help names the sources and the exit statuses', async () => {
    const out = await runCli(['backfill', '--help']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/--source <source>/);
    expect(out.stdout).toMatch(/Exit status: 0 imported/);
    expect(out.stdout).toMatch(/CERTSPOTTER_API_KEY/);
  });

  it('a state that cannot be opened: exit 2, one line, the API never asked', async () => {
    const before = crtsh.requests.length;
    const out = await runCli([
      'backfill',
      '--name',
      'example.test',
      '--source',
      'crtsh',
      '--url',
      crtsh.url,
      '--database',
      'postgres://nobody@127.0.0.1:1/none',
    ]);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/^certvigil: [^\n]*127\.0\.0\.1:1[^\n]*\n$/);
    expect(crtsh.requests.length).toBe(before);
  });

  it('an API that answers an HTML error page: exit 2, one line, the page cleaned', async () => {
    const stateDir = join(work, `html-${++counter}`);
    crtsh.faults.status = 502;
    try {
      const out = await runCli([
        'backfill',
        '--name',
        'example.test',
        '--source',
        'crtsh',
        '--url',
        crtsh.url,
        '--state-dir',
        stateDir,
      ]);
      expect(out.code).toBe(2);
      expect(out.stderr).toMatch(/^certvigil: .*HTTP 502: <html><body>502<\/body><\/html>\n$/);
    } finally {
      delete crtsh.faults.status;
    }
  });
});
