/**
 * The `certvigil iodef` CLI contract for bad input and outside text (issue 12), on the BUILT
 * binary: every bad flag or file is exit 2 with ONE line on stderr and nothing created on disk;
 * `iodef build` with a failed CAA lookup is exit 2 (not "no report due"); `iodef serve` refuses to
 * start on TLS material that cannot work; `iodef list` never prints a terminal escape or a bidi
 * override that a report carried. Only loopback; every run is bounded in time.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptReport } from '../src/iodef/index.js';
import { openStore } from '../src/store/index.js';
import { CLI, runCli } from './cli-run.js';
import { findFreePort } from './harness/processes.js';

const work = mkdtempSync(join(tmpdir(), 'certvigil-iodef-cli-'));
const state = join(work, 'state-never-created');
const f = (name: string): string => join(work, name);
/** The discard port: nothing listens there on loopback, every DNS query fails. */
const closedPort = 9;

function openssl(args: string[]): void {
  execFileSync('openssl', args, { cwd: work, stdio: 'pipe', timeout: 20_000 });
}

beforeAll(() => {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2'];
  openssl(['req', '-x509', ...ec, '-keyout', 'a.key', '-out', 'a.pem', '-subj', '/CN=a.test']);
  openssl(['req', '-x509', ...ec, '-keyout', 'b.key', '-out', 'b.pem', '-subj', '/CN=b.test']);
  writeFileSync(f('empty.pem'), '');
  writeFileSync(f('binary.pem'), Buffer.from([0x30, 0x82, 0x01, 0x00, 0x00, 0xff, 0xfe]));
  writeFileSync(f('text.txt'), 'hello, not a certificate\n');
  writeFileSync(f('garbage.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  mkdirSync(f('dir.pem'));
}, 60_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Exit 2, one line `certvigil: …` matching `message`, nothing on stdout, no state created. */
async function expectUsage(args: string[], message: RegExp): Promise<void> {
  const before = readdirSync(work).sort();
  const r = await runCli(args);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^certvigil: /);
  expect(lines[0]).toMatch(message);
  expect(r.stderr).not.toMatch(/\bat .+\.js:\d+/); // no stack trace
  expect(readdirSync(work).sort()).toEqual(before);
}

const resolver = (): string[] => [
  '--resolver',
  `127.0.0.1:${closedPort}`,
  '--timeout',
  '200ms',
  '--attempts',
  '1',
];
const build = (...extra: string[]): string[] => [
  'iodef',
  'build',
  'www.example.test',
  '--ca',
  'ca.example',
  ...resolver(),
  ...extra,
];
const send = (...extra: string[]): string[] => [
  'iodef',
  'send',
  'www.example.test',
  '--ca',
  'ca.example',
  ...resolver(),
  '--state-dir',
  state,
  '--from',
  'iodef@ca.example',
  ...extra,
];
const serve = (...extra: string[]): string[] => [
  'iodef',
  'serve',
  '--listen',
  '127.0.0.1:8443',
  '--state-dir',
  state,
  ...extra,
];

describe('iodef build', () => {
  it('a CAA lookup that fails is exit 2 with the reason, not exit 1 "no report due"', async () => {
    const start = Date.now();
    await expectUsage(build(), /could not be evaluated/);
    expect(Date.now() - start).toBeLessThan(20_000);
  });

  it.each([
    [['iodef', 'build', 'exa..mple.test', '--ca', 'ca.example', ...resolver()], /invalid name: empty label/],
    [build('--ca', 'not a domain'), /--ca must be a CA's issuer domain name/],
    [
      build('--account-uri', 'http://acme.example/acct/1'),
      /--account-uri must be the https URL of an ACME account/,
    ],
    [build('--method', 'HTTP 01'), /--method must be an ACME validation method/],
    [build('--timeout', '-5'), /--timeout must be a duration/],
    [build('--timeout', '99999999999'), /--timeout must be between/],
    [build('--attempts', '0'), /--attempts must be a positive integer/],
    [build('--attempts', '1000'), /--attempts must be at most 10/],
    [['iodef', 'build', 'www.example.test', '--ca', 'ca.example', '--resolver', '[::1'], /resolver/],
    [['iodef', 'build', 'www.example.test', '--ca', 'ca.example', '--resolver', '127.0.0.1:99999'], /port/],
  ])('refuses %j', async (args, message) => expectUsage(args, message));
});

describe('iodef send: every flag checked before anything is looked up or created', () => {
  it.each([
    [send('--smtp', '[::1'), /--smtp wants HOST:PORT/],
    [send('--smtp', 'relay.example:99999'), /--smtp wants HOST:PORT/],
    [send('--smtp', ':25'), /--smtp wants HOST:PORT/],
    [[...send().slice(0, -1), 'not-an-address'], /--from must be a mail address/],
    [send('--opt-out', 'x\u001b[31m'), /--opt-out must be 1-320 printable/],
    [send('--https-ca-file', f('missing.pem')), /--https-ca-file .*no such file/],
    [send('--https-ca-file', f('empty.pem')), /--https-ca-file .* is empty/],
    [send('--https-ca-file', f('dir.pem')), /--https-ca-file .* is a directory/],
    [send('--https-ca-file', f('binary.pem')), /--https-ca-file .* is binary/],
    [send('--https-ca-file', f('text.txt')), /--https-ca-file .* holds no PEM block/],
  ])('refuses %j', async (args, message) => expectUsage(args, message));
});

describe('iodef serve: refuses to start on bad flags or TLS material that cannot work', () => {
  it.each([
    [['iodef', 'serve', '--listen', '[::1', '--state-dir', state], /--listen wants HOST:PORT/],
    [['iodef', 'serve', '--listen', ':99999', '--state-dir', state], /--listen wants HOST:PORT/],
    [['iodef', 'serve', '--listen', '127.0.0.1:0', '--state-dir', state], /--listen wants HOST:PORT/],
    [['iodef', 'serve', '--listen', 'a b:80', '--state-dir', state], /--listen wants HOST:PORT/],
    [serve('--smtp-listen', '127.0.0.1:70000'), /--smtp-listen wants HOST:PORT/],
    [serve('--keep-days', '0'), /--keep-days must be a positive integer/],
    [serve('--keep-days', '99999'), /--keep-days must be at most 3650/],
    [serve('--max-reports-per-day', '-1'), /--max-reports-per-day must be a positive integer/],
    [serve('--max-mib-per-day', '1e9'), /--max-mib-per-day must be a positive integer/],
    [serve('--path', 'no-slash'), /--path must start with \//],
    [serve('--tls-cert', f('a.pem')), /--tls-cert and --tls-key go together/],
    [serve('--tls-cert', f('missing.pem'), '--tls-key', f('a.key')), /--tls-cert .*no such file/],
    [serve('--tls-cert', f('dir.pem'), '--tls-key', f('a.key')), /--tls-cert .* is a directory/],
    [serve('--tls-cert', f('empty.pem'), '--tls-key', f('a.key')), /--tls-cert .* is empty/],
    [serve('--tls-cert', f('binary.pem'), '--tls-key', f('a.key')), /--tls-cert .* is binary/],
    [serve('--tls-cert', f('a.pem'), '--tls-key', f('b.key')), /do not work together.*--tls-cert\/--tls-key/],
    [serve('--tls-cert', f('garbage.pem'), '--tls-key', f('a.key')), /certificate does not parse/],
    [serve('--tls-cert', f('a.pem'), '--tls-key', f('a.key'), '--client-ca', f('garbage.pem')), /client CA/],
    [
      serve('--tls-cert', f('a.pem'), '--tls-key', f('a.key'), '--client-ca', f('text.txt')),
      /--client-ca .* holds no PEM/,
    ],
  ])('refuses %j', async (args, message) => expectUsage(args, message));
});

describe('iodef list: report fields never reach the terminal raw', () => {
  it('escapes ESC, C1 and bidi overrides from an IncidentID, a contact and a description, in text and --json', async () => {
    const dir = join(work, 'list-state');
    const store = await openStore({ stateDir: dir });
    await store.migrate();
    // XML 1.0 (§2.2) admits no C0 control but ESC's 8-bit twin CSI (U+009B), bidi overrides and
    // U+2028; ESC itself comes in through the sender label.
    const evil =
      '<?xml version="1.0"?><IODEF-Document version="2.00" xmlns="urn:ietf:params:xml:ns:iodef-2.0">' +
      '<Incident purpose="reporting"><IncidentID name="ca.example">inc-\u009b2J\u202elave</IncidentID>' +
      '<GenerationTime>2026-05-01T12:00:00Z</GenerationTime><Description>see \u009b31m\u2028here</Description>' +
      '<Contact role="creator" type="organization"><ContactName>Evil \u202eAC\u009b31m</ContactName></Contact>' +
      '</Incident></IODEF-Document>';
    const r = await acceptReport(store, null, { bytes: evil, sender: 'peer\u001b[1m', channel: 'https' });
    expect(r.status).toBe('stored');
    await store.close();
    for (const json of [false, true]) {
      const out = await runCli(['iodef', 'list', '--state-dir', dir, ...(json ? ['--json'] : [])]);
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout).toMatch(/Evil/);
      // eslint-disable-next-line no-control-regex
      expect(out.stdout).not.toMatch(/[\u001b\u0007\u009b\u202e\u2028]/);
      if (json) expect(out.stdout).not.toMatch(/\\u001b|\\u0007/i); // not even JSON-escaped raw controls
    }
  });
});

describe('iodef serve --keep-days', () => {
  it('deletes received reports older than N days when it starts', async () => {
    const dir = join(work, 'retention-state');
    const store = await openStore({ stateDir: dir });
    await store.migrate();
    const doc = (id: string): string =>
      '<?xml version="1.0"?><IODEF-Document version="2.00" xmlns="urn:ietf:params:xml:ns:iodef-2.0">' +
      `<Incident purpose="reporting"><IncidentID name="ca.example">${id}</IncidentID>` +
      '<GenerationTime>2026-05-01T12:00:00Z</GenerationTime></Incident></IODEF-Document>';
    const day = 86_400_000;
    for (const [id, age] of [
      ['old-1', 40],
      ['new-1', 5],
    ] as const) {
      await acceptReport(store, null, {
        bytes: doc(id),
        sender: '192.0.2.1',
        channel: 'https',
        receivedAt: new Date(Date.now() - age * day),
      });
    }
    await store.close();
    const port = await findFreePort();
    const child = spawn(
      process.execPath,
      [CLI, 'iodef', 'serve', '--listen', `127.0.0.1:${port}`, '--state-dir', dir, '--keep-days', '30'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      for (let i = 0; i < 200 && !err.includes('iodef receiver on'); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(err).toContain('iodef receiver on');
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    const list = await runCli(['iodef', 'list', '--state-dir', dir, '--json']);
    const ids = list.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { summary: { incidentId: string } }).summary.incidentId);
    expect(ids).toEqual(['new-1']);
  });
});
