/**
 * `certvigil check endpoint` on the whole chain, dual-certificate servers and client certificates,
 * end to end: the built binary against real servers on loopback — `openssl s_server` with
 * `-cert_chain` (the chain sent exactly as given: expiring intermediates, wrong order, leaf only),
 * `openssl s_server -Verify 1` (a client certificate required) and nginx with an RSA and an ECDSA
 * certificate. Certificates come from a throw-away openssl PKI (test/fixtures/tls/pki.ts).
 *
 * The calls are the contract's: `check endpoint 127.0.0.1:P --sni NAME --ca-file CA --min-scts 0`
 * (plus a local, empty `--log-list`, so nothing leaves loopback). CT findings are not this file's
 * business: exit codes are asserted as "the worst of our findings", CT ones left out.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli } from './cli-run.js';
import { startOpensslServer } from './fixtures/tls/index.js';
import type { OpensslServer } from './fixtures/tls/index.js';
import { createPki } from './fixtures/tls/pki.js';
import type { Pki, PkiCert } from './fixtures/tls/pki.js';
import { startNginxTlsServer } from './harness/nginx-tls.js';
import type { NginxTlsServer } from './harness/nginx-tls.js';

const NAME = 'www.example.test';
const DAY = 86_400_000;

interface Finding {
  id: string;
  severity: string;
  message: string;
  address: string;
}

let pki: Pki;
let work: string;
let caFile: string;
let logList: string;
const certs: Record<string, PkiCert> = {};
const servers: { stop(): Promise<void> }[] = [];

const cert = (n: string): PkiCert => {
  const c = certs[n];
  if (!c) throw new Error(`no certificate ${n}`);
  return c;
};
const chain = (...names: string[]): string => names.map((n) => cert(n).certPem).join('');

async function serve(names: string[], extraArgs: string[] = []): Promise<OpensslServer> {
  const [leaf] = names;
  const s = await startOpensslServer({
    chainPem: chain(...names),
    keyPem: cert(leaf as string).keyPem,
    extraArgs,
  });
  servers.push(s);
  return s;
}

async function check(port: number, args: string[] = []) {
  const r = await runCli([
    'check',
    'endpoint',
    `127.0.0.1:${port}`,
    '--sni',
    NAME,
    '--ca-file',
    caFile,
    '--min-scts',
    '0',
    '--log-list',
    logList,
    '-t',
    '5',
    ...args,
  ]);
  return r;
}

async function checkJson(port: number, args: string[] = []) {
  const r = await check(port, [...args, '--json']);
  const [result] = jsonLines(r.stdout);
  const findings = ((result?.findings ?? []) as Finding[]) ?? [];
  return { ...r, result, findings };
}

const RANK: Record<string, number> = { ok: 0, info: 0, warning: 1, critical: 2, unknown: 3 };
/** The exit status our findings call for, CT findings (another part of the issue) left out. */
const exitWithoutCt = (fs: Finding[]): number =>
  Math.max(0, ...fs.filter((f) => !f.id.startsWith('ct-')).map((f) => RANK[f.severity] ?? 0));
const bad = (fs: Finding[]): string[] =>
  fs
    .filter((f) => (RANK[f.severity] ?? 0) > 0 && !f.id.startsWith('ct-'))
    .map((f) => `${f.id}:${f.severity}`);

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'certvigil-chain-'));
  pki = createPki();
  const now = Date.now();
  certs.root = pki.root('Chain Test Root');
  certs.int = pki.issue(cert('root'), { cn: 'Chain Test Int', ca: true, days: 365 });
  certs.leaf = pki.issue(cert('int'), { cn: NAME, dns: [NAME] });
  certs.int5 = pki.issue(cert('root'), { cn: 'Expiring Int', ca: true, notAfter: new Date(now + 5.5 * DAY) });
  certs.leaf5 = pki.issue(cert('int5'), { cn: NAME, dns: [NAME] });
  certs.int18 = pki.issue(cert('root'), {
    cn: 'Warning Int',
    ca: true,
    notAfter: new Date(now + 18.5 * DAY),
  });
  certs.leaf18 = pki.issue(cert('int18'), { cn: NAME, dns: [NAME] });
  certs.rsaLeaf = pki.issue(cert('int'), { cn: NAME, dns: [NAME], key: 'rsa:2048' });
  certs.edLeaf = pki.issue(cert('int'), { cn: NAME, dns: [NAME], key: 'ed25519' });
  certs.clientRoot = pki.root('Client Root');
  certs.client = pki.issue(cert('clientRoot'), { cn: 'monitoring client' });
  certs.otherClient = pki.issue(cert('clientRoot'), { cn: 'other client' });
  caFile = join(work, 'ca.pem');
  writeFileSync(caFile, cert('root').certPem);
  logList = join(work, 'log-list.json');
  writeFileSync(
    logList,
    JSON.stringify({ version: '1.0', log_list_timestamp: new Date().toISOString(), operators: [] }),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  pki?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the whole chain', () => {
  it('an intermediate expiring within -c is CRITICAL chain-expiry, naming it (exit 2)', async () => {
    const s = await serve(['leaf5', 'int5']);
    const r = await checkJson(s.port);
    expect(r.code).toBe(2);
    const e = r.findings.filter((f) => f.id === 'chain-expiry');
    expect(e).toHaveLength(1);
    expect(e[0]?.severity).toBe('critical');
    expect(e[0]?.message).toMatch(
      /^intermediate #1 "CN=Expiring Int" expires in 5 days \(\d{4}-[\d-]+T[\d:]+Z\)$/,
    );
    // The plain output's status line names it too.
    const text = await check(s.port);
    expect(text.code).toBe(2);
    expect(text.stdout.split('\n')[0]).toContain('"CN=Expiring Int" expires in 5 days');
  }, 30_000);

  it('an intermediate expiring within -w only is WARNING (exit 1)', async () => {
    const s = await serve(['leaf18', 'int18']);
    const r = await checkJson(s.port);
    expect(bad(r.findings)).toEqual(['chain-expiry:warning']);
    expect(r.code).toBe(1);
    expect(r.findings.find((f) => f.id === 'chain-expiry')?.message).toContain(
      '"CN=Warning Int" expires in 18 days',
    );
  }, 30_000);

  it('-w/-c apply to the chain: -c 20 makes the same intermediate CRITICAL', async () => {
    const s = await serve(['leaf18', 'int18']);
    const r = await checkJson(s.port, ['-w', '30', '-c', '20']);
    expect(r.code).toBe(2);
    expect(r.findings.find((f) => f.id === 'chain-expiry')?.severity).toBe('critical');
  }, 30_000);

  it('a good chain: one INFO line per element, the root marked as from the trust store', async () => {
    const s = await serve(['leaf', 'int']);
    const r = await checkJson(s.port);
    expect(bad(r.findings)).toEqual([]);
    expect(r.code).toBe(
      Math.max(
        exitWithoutCt(r.findings),
        r.findings.some((f) => f.id.startsWith('ct-') && f.severity === 'warning') ? 1 : 0,
      ),
    );
    const els = r.findings.filter((f) => f.id === 'chain-element').map((f) => f.message);
    expect(els).toHaveLength(3);
    // chainLength counts what was sent, not the root Node added from the trust store.
    expect((r.result?.addresses as { chainLength: number }[])[0]?.chainLength).toBe(2);
    expect(els[0]).toMatch(
      /^#0 sent: subject "CN=www.example.test", issuer "CN=Chain Test Int", notAfter \S+, key ecdsa-p256, signature ecdsa-with-SHA256$/,
    );
    expect(els[1]).toMatch(/^#1 sent: subject "CN=Chain Test Int"/);
    expect(els[2]).toMatch(/^#2 from the trust store, not sent: subject "CN=Chain Test Root"/);
  }, 30_000);

  it('wrong order (root sent between leaf and intermediate) is chain-order', async () => {
    const s = await serve(['leaf', 'root', 'int']);
    const r = await checkJson(s.port);
    expect(bad(r.findings)).toEqual(['chain-order:warning']);
    expect(r.findings.find((f) => f.id === 'chain-order')?.message).toMatch(
      /root #1 "CN=Chain Test Root" does not certify leaf #0 .*its issuer is sent later/,
    );
  }, 30_000);

  it('a server that sends only the leaf is chain-incomplete (exit 2)', async () => {
    const s = await serve(['leaf']);
    const r = await checkJson(s.port);
    expect(r.code).toBe(2);
    expect(bad(r.findings)).toEqual(['chain-untrusted:critical', 'chain-incomplete:critical']);
    expect(r.findings.find((f) => f.id === 'chain-incomplete')?.message).toContain(
      'the issuer "CN=Chain Test Int" of leaf #0',
    );
  }, 30_000);

  it('leaf only, but the --ca-file holds the intermediate: validates here, WARNING chain-incomplete', async () => {
    const s = await serve(['leaf']);
    const withInt = join(work, 'ca-with-int.pem');
    writeFileSync(withInt, chain('root', 'int'));
    const r = await checkJson(s.port, ['--ca-file', withInt]);
    expect(bad(r.findings)).toEqual(['chain-incomplete:warning']);
    expect(r.findings.find((f) => f.id === 'chain-incomplete')?.message).toContain(
      'the intermediate "CN=Chain Test Int" is not sent by the server',
    );
  }, 30_000);

  it('a TLS 1.3-only server: chain from Node (INFO chain-served-unknown), the expiring intermediate still found', async () => {
    const s = await serve(['leaf5', 'int5'], ['-tls1_3']);
    const r = await checkJson(s.port);
    expect(r.code).toBe(2);
    expect(bad(r.findings)).toEqual(['chain-expiry:critical']);
    expect(r.findings.map((f) => f.id)).toContain('chain-served-unknown');
    expect(r.findings.filter((f) => f.id === 'chain-element').map((f) => f.message.split(':')[0])).toEqual([
      '#0 sent',
      '#1 sent',
      '#2 from the trust store, not sent',
    ]);
  }, 30_000);

  it('in check endpoints the chain decides the entry too', async () => {
    const s = await serve(['leaf5', 'int5']);
    const config = join(work, 'chain.yaml');
    writeFileSync(
      config,
      `logList: ${logList}\nendpoints:\n  - { target: "127.0.0.1:${s.port}", sni: ${NAME}, caFile: ${caFile}, minScts: 0, timeout: 5 }\n`,
    );
    const r = await runCli(['check', 'endpoints', '--config', config]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('Expiring Int');
  }, 30_000);
});

describe('dual-certificate servers (--key-types)', () => {
  let dual: NginxTlsServer;
  let rsaOnly: NginxTlsServer;
  let edAndRsa: NginxTlsServer;
  beforeAll(async () => {
    dual = await startNginxTlsServer({
      certificates: [
        { chainPem: chain('rsaLeaf', 'int'), keyPem: cert('rsaLeaf').keyPem },
        { chainPem: chain('leaf', 'int'), keyPem: cert('leaf').keyPem },
      ],
    });
    servers.push(dual);
    edAndRsa = await startNginxTlsServer({
      certificates: [
        { chainPem: chain('rsaLeaf', 'int'), keyPem: cert('rsaLeaf').keyPem },
        { chainPem: chain('edLeaf', 'int'), keyPem: cert('edLeaf').keyPem },
      ],
    });
    servers.push(edAndRsa);
    rsaOnly = await startNginxTlsServer({
      certificates: [{ chainPem: chain('rsaLeaf', 'int'), keyPem: cert('rsaLeaf').keyPem }],
    });
    servers.push(rsaOnly);
  }, 30_000);

  it('checks the RSA and the ECDSA certificate, each under its own address label', async () => {
    const r = await checkJson(dual.port, ['--key-types', 'rsa,ecdsa']);
    expect(bad(r.findings)).toEqual([]);
    const addresses = (r.result?.addresses ?? []) as {
      address: string;
      certificate: { keyType: string } | null;
    }[];
    expect(addresses.map((a) => `${a.address} ${a.certificate?.keyType ?? '-'}`)).toEqual([
      '127.0.0.1 [rsa] rsa-2048',
      '127.0.0.1 [ecdsa] ecdsa-p256',
    ]);
    // Every check ran for each: path, name, and the chain's INFO lines.
    for (const label of ['127.0.0.1 [rsa]', '127.0.0.1 [ecdsa]']) {
      const mine = r.findings.filter((f) => f.address === label).map((f) => f.id);
      expect(mine).toEqual(expect.arrayContaining(['chain-trusted', 'name-match', 'chain-element']));
    }
    expect(r.findings.map((f) => f.id)).not.toContain('certificates-differ');
    // One address, two key types: counted once in the status line and in the perfdata.
    const text = await check(dual.port, ['--key-types', 'rsa,ecdsa']);
    expect(text.stdout.split('\n')[0]).not.toMatch(/addresses\)/);
    expect(text.stdout.split('\n')[0]).toMatch(/ addresses=1;;;0 failed=0;;;0$/);
  }, 30_000);

  it('a key type the server does not offer is CRITICAL key-type-missing', async () => {
    const r = await checkJson(rsaOnly.port, ['--key-types', 'rsa', '--key-types', 'ecdsa']);
    expect(r.code).toBe(2);
    expect(bad(r.findings)).toEqual(['key-type-missing:critical']);
    const f = r.findings.find((x) => x.id === 'key-type-missing');
    expect(f?.address).toBe('127.0.0.1 [ecdsa]');
    expect(f?.message).toMatch(/^no ecdsa certificate/);
    expect(f?.message).not.toContain('client certificate');
  }, 30_000);

  it('ed25519 too: present on one server, missing (ecdsa) there', async () => {
    const r = await checkJson(edAndRsa.port, ['--key-types', 'ed25519,ecdsa']);
    const addresses = (r.result?.addresses ?? []) as {
      address: string;
      certificate: { keyType: string } | null;
    }[];
    expect(addresses.map((a) => `${a.address} ${a.certificate?.keyType ?? '-'}`)).toEqual([
      '127.0.0.1 [ed25519] ed25519',
      '127.0.0.1 [ecdsa] -',
    ]);
    expect(bad(r.findings)).toEqual(['key-type-missing:critical']);
  }, 30_000);

  it('without --key-types one handshake, as before', async () => {
    const r = await checkJson(dual.port);
    const addresses = (r.result?.addresses ?? []) as { address: string }[];
    expect(addresses.map((a) => a.address)).toEqual(['127.0.0.1']);
  }, 30_000);
});

describe('client certificates', () => {
  let server: OpensslServer;
  let clientCa: string;
  let both: string;
  beforeAll(async () => {
    clientCa = join(work, 'client-ca.pem');
    writeFileSync(clientCa, cert('clientRoot').certPem);
    both = join(work, 'client-both.pem');
    writeFileSync(both, cert('client').certPem + cert('client').keyPem);
    server = await serve(['leaf', 'int'], ['-Verify', '1', '-verify_return_error', '-CAfile', clientCa]);
  }, 30_000);

  it('without a client certificate the handshake fails: CRITICAL', async () => {
    const r = await checkJson(server.port);
    expect(r.code).toBe(2);
    expect(r.findings.find((f) => f.id === 'connect-failed')?.message).toContain(
      'the server requires a client certificate (give --client-cert)',
    );
  }, 30_000);

  it('with --client-cert and --client-key: the check runs and passes', async () => {
    const r = await checkJson(server.port, [
      '--client-cert',
      cert('client').certFile,
      '--client-key',
      cert('client').keyFile,
    ]);
    expect(bad(r.findings)).toEqual([]);
    expect(r.findings.map((f) => f.id)).toContain('name-match');
  }, 30_000);

  it('a client certificate the server does not accept (TLS 1.3: refused after the handshake) is CRITICAL', async () => {
    const r = await checkJson(server.port, [
      '--client-cert',
      cert('leaf').certFile,
      '--client-key',
      cert('leaf').keyFile,
    ]);
    expect(r.code).toBe(2);
    expect(r.findings.find((f) => f.id === 'connect-failed')?.message).toMatch(
      /the server refused the client certificate \(ERR_SSL_TLSV1_ALERT_UNKNOWN_CA\)/,
    );
  }, 30_000);

  it('TLS 1.2: without a client certificate CRITICAL, with one OK', async () => {
    const tls12 = await serve(
      ['leaf', 'int'],
      ['-Verify', '1', '-verify_return_error', '-CAfile', clientCa, '-tls1_2'],
    );
    const without = await checkJson(tls12.port);
    expect(without.code).toBe(2);
    expect(without.findings.find((f) => f.id === 'connect-failed')?.message).toContain(
      'a server that requires a client certificate answers so too: --client-cert',
    );
    const withCert = await checkJson(tls12.port, ['--client-cert', both]);
    expect(bad(withCert.findings)).toEqual([]);
  }, 30_000);

  it('with the key inside the certificate file', async () => {
    const r = await checkJson(server.port, ['--client-cert', both]);
    expect(bad(r.findings)).toEqual([]);
  }, 30_000);

  it.each([
    [
      'a missing file',
      () => ['--client-cert', join(work, 'nope.pem')],
      /cannot read --client-cert .*: no such file/,
    ],
    [
      'a key of another certificate',
      () => ['--client-cert', cert('client').certFile, '--client-key', cert('otherClient').keyFile],
      /does not belong to the client certificate/,
    ],
    [
      'a certificate without key',
      () => ['--client-cert', cert('client').certFile],
      /holds no PEM private key \(give --client-key\)/,
    ],
    [
      '--client-key alone',
      () => ['--client-key', cert('client').keyFile],
      /--client-key needs --client-cert/,
    ],
    [
      'an unknown key type',
      () => ['--key-types', 'rsa,dsa'],
      /--key-types takes rsa, ecdsa, ed25519 \(got "dsa"\)/,
    ],
  ])('%s is UNKNOWN with one line, nothing probed', async (_name, args, message) => {
    const r = await check(1, args());
    expect(r.code).toBe(3);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^CERTVIGIL UNKNOWN - /);
    expect(lines[0]).toMatch(message);
  });

  it('check endpoints: clientCert/clientKey/keyTypes keys, and a bad one names the entry', async () => {
    const good = join(work, 'client.yaml');
    writeFileSync(
      good,
      `logList: ${logList}\nendpoints:\n  - { target: "127.0.0.1:${server.port}", sni: ${NAME}, caFile: ${caFile}, minScts: 0, timeout: 5, clientCert: ${cert('client').certFile}, clientKey: ${cert('client').keyFile}, keyTypes: [ecdsa] }\n`,
    );
    const r = await runCli(['check', 'endpoints', '--config', good, '--json']);
    const [one] = jsonLines(r.stdout);
    const fs = (one?.findings ?? []) as Finding[];
    expect(bad(fs)).toEqual([]);
    expect(fs.some((f) => f.address === '127.0.0.1 [ecdsa]')).toBe(true);

    const badFile = join(work, 'client-bad.yaml');
    writeFileSync(
      badFile,
      `endpoints:\n  - { target: "127.0.0.1:1", clientCert: ${cert('client').certFile}, clientKey: ${cert('otherClient').keyFile} }\n`,
    );
    const b = await runCli(['check', 'endpoints', '--config', badFile]);
    expect(b.code).toBe(3);
    expect(b.stdout).toMatch(/^CERTVIGIL UNKNOWN - .*does not belong to the client certificate\n$/);
    const badKt = join(work, 'kt-bad.yaml');
    writeFileSync(badKt, `endpoints:\n  - { target: "127.0.0.1:1", keyTypes: [dsa] }\n`);
    const k = await runCli(['check', 'endpoints', '--config', badKt]);
    expect(k.code).toBe(3);
    expect(k.stdout).toMatch(/^CERTVIGIL UNKNOWN - .*keyTypes/);
  }, 30_000);
});
