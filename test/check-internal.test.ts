/**
 * The distributed internal check end to end: the real server app (createApp over @hono/node-server
 * on 127.0.0.1) over a real SQLite store that a real `certvigil monitor --once` run filled from the
 * local CT log; hosts push with the built `certvigil inventory push`, then ask `certvigil check
 * internal`. The jabber.ru case: web1's own certificate for www.example.test, and an attacker's
 * from the same CA with another key; web2 holds api.example.test and nothing else exists for it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer as createTcpServer } from 'node:net';
import type { AddressInfo, Server as TcpServer } from 'node:net';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/server/index.js';
import { openStore } from '../src/store/index.js';
import type { AccessRole, Store } from '../src/store/index.js';
import { summarizeCertificate } from '../src/x509/index.js';
import { startCtLogServer, TestCa, TestLog, writeLogList } from './fixtures/ct-log/index.js';
import type { CtLogServer } from './fixtures/ct-log/index.js';
import { jsonLines, runCli } from './cli-run.js';
import { closeServer, listenApp, silentLogger } from './fixtures/server.js';
import { createTokenFile, HOST_TOKENS } from './fixtures/tokens.js';

const DAY = 86_400_000;
let work: string;
let stateDir: string;
let store: Store;
let ctLog: CtLogServer;
let server: ServerType;
let url: string;
const tokenFiles: Record<string, string> = {};
let attackerTbs: string;
let web1Tbs: string;
let monitorArgs: string[];
/** Accepts connections and never answers. */
let mute: TcpServer;
let silentUrl: string;

function pem(der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}
const tbsOf = (der: Buffer): string => summarizeCertificate(der).tbsSha256;

async function token(name: string, role: AccessRole): Promise<void> {
  tokenFiles[name] = (await createTokenFile(store, work, name, role)).file;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-internal-'));
  stateDir = join(work, 'state');
  const ca = await TestCa.create();
  const log = new TestLog({ name: 'certvigil internal-check log', staticCtApi: false });
  const now = Date.now();
  const web1Key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
  const web1 = log.addPrecertificate(ca, {
    dnsNames: ['www.example.test'],
    subjectKey: web1Key,
    notBefore: new Date(now - 5 * DAY),
    validityDays: 90,
    alsoLogFinal: true,
  });
  const web2 = ca.issue({ dnsNames: ['api.example.test'], notBefore: new Date(now - DAY), validityDays: 90 });
  log.addCertificate(web2);
  const attacker = log.addPrecertificate(ca, {
    dnsNames: ['www.example.test'],
    subjectKey: ca.attackerKey.publicKey,
    notBefore: new Date(now - 2 * DAY),
    validityDays: 90,
    alsoLogFinal: true,
  });
  log.publish();
  web1Tbs = tbsOf(web1.finalCert.der);
  attackerTbs = tbsOf(attacker.finalCert.der);
  for (const [host, der] of [
    ['web1', web1.finalCert.der],
    ['web2', web2.der],
  ] as const) {
    await mkdir(join(work, `inv-${host}`));
    await writeFile(join(work, `inv-${host}`, `${host}.pem`), pem(der));
  }
  ctLog = await startCtLogServer(log, { rfc6962Prefix: '/logs/i/' });
  const list = join(work, 'loglist.json');
  await writeLogList(list, [{ server: ctLog, api: 'rfc6962' }]);
  await writeFile(join(work, 'watchlist'), '.example.test\n');
  await writeFile(
    join(work, 'config.yaml'),
    `caaResolver: false\nalerts:\n  exec: { command: "cat >/dev/null; echo \\"$EVENT $TBS_SHA256\\" >> ${join(work, 'hook.log')}" }\n`,
  );
  monitorArgs = [
    'monitor',
    '--once',
    '--log-list',
    list,
    '--watchlist',
    join(work, 'watchlist'),
    '--state-dir',
    stateDir,
    '--config',
    join(work, 'config.yaml'),
  ];

  store = await openStore({ stateDir });
  await store.migrate();
  for (const [name, role] of HOST_TOKENS) await token(name, role);
  ({ url, server } = await listenApp(createApp({ store, logger: silentLogger, secureCookies: false })));
  mute = createTcpServer(() => undefined);
  await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
  silentUrl = `http://127.0.0.1:${(mute.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await closeServer(server);
  mute?.close();
  await ctLog?.close();
  await store?.close();
  await rm(work, { recursive: true, force: true });
});

const push = (host: string, tokenName: string, extra: string[] = []) =>
  runCli([
    'inventory',
    'push',
    '--server',
    url,
    '--token-file',
    tokenFiles[tokenName] ?? '',
    '--inventory',
    join(work, `inv-${host}`),
    '--host',
    host,
    ...extra,
  ]);
const checkInternal = (host: string, tokenName: string, extra: string[] = []) =>
  runCli([
    'check',
    'internal',
    '--server',
    url,
    '--token-file',
    tokenFiles[tokenName] ?? '',
    '--host',
    host,
    ...extra,
  ]);

describe('inventory push, monitor, check internal', () => {
  it('pushes each host with its own viewer token (one certificate each)', async () => {
    for (const host of ['web1', 'web2']) {
      const r = await push(host, host);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`pushed 1 certificates for host ${host}\n`);
    }
  });

  it('the central monitor counts pushed certificates as known and alerts only on the attacker', async () => {
    const run = await runCli(monitorArgs);
    expect(run.code, run.stderr).toBe(0);
    const hook = await readFile(join(work, 'hook.log'), 'utf8');
    expect(hook).toContain(attackerTbs);
    expect(hook).not.toContain(web1Tbs);
    const list = await runCli(['certs', 'list', '--state-dir', stateDir, '--json']);
    expect(list.code, list.stderr).toBe(0);
    const byTbs = new Map(jsonLines(list.stdout).map((c) => [c.tbsSha256, c]));
    expect(byTbs.get(web1Tbs)).toMatchObject({ known: true, knownBy: 'host:web1' });
    expect(byTbs.get(attackerTbs)).toMatchObject({ known: false });
  });

  it('OK for web2: every certificate for its name is one it pushed', async () => {
    const r = await checkInternal('web2', 'web2');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^CERTVIGIL OK - no unknown certificate for 1 name of web2 \(1 checked\) \| unknown=0;;0;0 checked=1;;;0 age=\d+s;172800;;0\n$/,
    );
  });

  it('CRITICAL for web1: the attacker’s certificate, with issuer, TBS prefix and reasons', async () => {
    const r = await checkInternal('web1', 'web1');
    expect(r.code, r.stdout + r.stderr).toBe(2);
    const [head, ...rest] = r.stdout.trimEnd().split('\n');
    expect(head).toMatch(
      new RegExp(
        `^CERTVIGIL CRITICAL - 1 certificate for web1's names not obtained by web1: www\\.example\\.test from .+ \\(tbs ${attackerTbs.slice(0, 16)}; managed-name-not-in-inventory.*\\) \\| unknown=1;;0;0 checked=2;;;0 age=\\d+s;172800;;0$`,
      ),
    );
    expect(rest).toHaveLength(1);
    expect(rest[0]).toMatch(/^\[CRITICAL\] unknown-certificate: www\.example\.test from .*new-key/);
  });

  it('--json: one object with the verdict and the server answer', async () => {
    const r = await checkInternal('web1', 'ops', ['--json']);
    expect(r.code).toBe(2);
    const [v] = jsonLines(r.stdout);
    expect(v).toMatchObject({ status: 'CRITICAL', answer: { host: 'web1', unknownCount: 1, checked: 2 } });
  });

  it('WARNING when the inventory is older than --max-age', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const r = await checkInternal('web2', 'web2', ['--max-age', '1s']);
    expect(r.code, r.stdout).toBe(1);
    expect(r.stdout).toMatch(/^CERTVIGIL WARNING - inventory of web2 is \d+s old/);
    expect(r.stdout).toMatch(/\[WARNING\] inventory-stale: /);
  });

  it.each([
    [
      'a wrong token (401)',
      async () => {
        const bad = join(work, 'bad.token');
        await writeFile(bad, 'cvt_not_a_token_we_know\n');
        return runCli(['check', 'internal', '--server', url, '--token-file', bad, '--host', 'web1']);
      },
      /^CERTVIGIL UNKNOWN - check refused: HTTP 401: authentication required \(token unknown, revoked or expired\)\n$/,
    ],
    [
      'a host that never pushed (404)',
      () => checkInternal('web3', 'ops'),
      /^CERTVIGIL UNKNOWN - no inventory pushed for host web3/,
    ],
    [
      'a server that is not there',
      () =>
        runCli([
          'check',
          'internal',
          '--server',
          'http://127.0.0.1:9',
          '--token-file',
          tokenFiles.ops ?? '',
          '--host',
          'web1',
          '-t',
          '2s',
        ]),
      /^CERTVIGIL UNKNOWN - server http:\/\/127\.0\.0\.1:9 unreachable: /,
    ],
    [
      'a server that does not answer within -t',
      () => checkInternal('web1', 'web1', ['--server', silentUrl, '-t', '1s']),
      /^CERTVIGIL UNKNOWN - server http:\/\/127\.0\.0\.1:\d+ unreachable: no answer within 1 s\n$/,
    ],
    [
      'no token at all',
      () => runCli(['check', 'internal', '--server', url, '--host', 'web1'], { CERTVIGIL_TOKEN: '' }),
      /^CERTVIGIL UNKNOWN - give the API token/,
    ],
    [
      'plain http to a remote server',
      () => checkInternal('web1', 'web1', ['--server', 'http://certvigil.example.net']),
      /^CERTVIGIL UNKNOWN - --server http:\/\/ to a non-loopback address/,
    ],
    [
      'a bad --max-age',
      () => checkInternal('web1', 'web1', ['--max-age', 'soon']),
      /^CERTVIGIL UNKNOWN - --max-age/,
    ],
  ])('UNKNOWN (3), never OK, for %s', async (_, run, line) => {
    const r = await run();
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(r.stdout).toMatch(line);
    expect(r.stderr).toBe('');
  });
});
