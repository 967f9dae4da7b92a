/**
 * `certvigil check endpoint` TLS protocol policy end to end (`--require-no-tls1`,
 * `--require-no-tls1_1`, `--min-tls`, `--weak-ciphers`; `check endpoints` keys requireNoTls1,
 * requireNoTls1_1, minTls, weakCiphers): the built binary against real servers on loopback.
 *
 * - `openssl s_server` as shipped by Debian (TLS 1.2 + 1.3 only: its openssl.cnf sets
 *   MinProtocol = TLSv1.2), with `-min_protocol TLSv1 -cipher DEFAULT:@SECLEVEL=0` (TLS 1.0 and 1.1
 *   need security level 0), with `-tls1_3` only, and with a NULL or an anonymous suite enabled.
 * - nginx (Debian) as an HTTPS server with `ssl_protocols TLSv1 TLSv1.1 TLSv1.2`.
 * - `gnutls-serv` (Debian gnutls-bin) for 3DES and RC4: Debian's OpenSSL 3 no longer has either
 *   (`openssl ciphers -v 'ALL:@SECLEVEL=0'` lists none). gnutls-serv cannot be told an address and
 *   listens on every interface, on a free port, for the few seconds of this file.
 *
 * The certificates come from the shared endpoint scenarios (local CA, two local CT logs with
 * inclusion proofs), so a server that meets the policy is really OK (exit 0).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli } from './cli-run.js';
import { buildEndpointScenarios, identity } from './fixtures/endpoint-scenarios.js';
import type { EndpointScenarios, Identity } from './fixtures/endpoint-scenarios.js';
import { chainPem, startOpensslServer } from './fixtures/tls/index.js';
import { Daemon, LOOPBACK, findFreePort } from './harness/processes.js';
import { startSmtpDaemon } from './harness/tls-daemons.js';
import type { TlsDaemon } from './harness/tls-daemons.js';

const NAME = 'www.example.test';

let work: string;
let set: EndpointScenarios;
let id: Identity;
const port: Record<string, number> = {};
/** gnutls-serv and nginx processes, stopped after the file. */
const servers: Daemon[] = [];
let postfix: TlsDaemon<'smtp' | 'submission'> | undefined;

async function accepting(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: LOOPBACK, port: p });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.setTimeout(1_000, () => done(false));
  });
}

/**
 * nginx as an HTTPS server with an old-style policy (TLS 1.0-1.2, the Mozilla "old" profile's
 * SECLEVEL=0), from a private prefix, in the foreground, bound to loopback.
 */
async function startNginx(): Promise<number> {
  const dir = join(work, 'nginx');
  await mkdir(dir, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const p = await findFreePort();
    const conf = [
      'worker_processes 1;',
      'daemon off;',
      `pid ${join(dir, 'nginx.pid')};`,
      `error_log ${join(dir, 'error.log')} info;`,
      'events { worker_connections 64; }',
      'http {',
      `  access_log off; client_body_temp_path ${dir}; proxy_temp_path ${dir};`,
      `  fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};`,
      '  server {',
      `    listen ${LOOPBACK}:${p} ssl;`,
      `    ssl_certificate ${join(work, 'chain.pem')};`,
      `    ssl_certificate_key ${join(work, 'key.pem')};`,
      '    ssl_protocols TLSv1 TLSv1.1 TLSv1.2;',
      '    ssl_ciphers DEFAULT:@SECLEVEL=0;',
      '    return 204;',
      '  }',
      '}',
      '',
    ].join('\n');
    await writeFile(join(dir, 'nginx.conf'), conf);
    const daemon = new Daemon(
      'nginx',
      '/usr/sbin/nginx',
      ['-p', dir, '-c', join(dir, 'nginx.conf')],
      dir,
      join(dir, `out-${p}.log`),
      join(dir, 'error.log'),
    );
    servers.push(daemon);
    const deadline = Date.now() + 10_000;
    while (daemon.running && Date.now() < deadline && !(await accepting(p))) await sleep(50);
    if (daemon.running && (await accepting(p))) return p;
    await daemon.stop();
    if (attempt >= 3) throw new Error(`nginx did not start:\n${daemon.describeLogs()}`);
  }
}

/** gnutls-serv with a priority string (GnuTLS 3.7: 3DES-CBC and ARCFOUR-128 still built in). */
async function startGnutls(name: string, priority: string): Promise<number> {
  const certFile = join(work, 'chain.pem');
  const keyFile = join(work, 'key.pem');
  for (let attempt = 1; ; attempt++) {
    const p = await findFreePort();
    const daemon = new Daemon(
      `gnutls-serv ${name}`,
      'gnutls-serv',
      ['--priority', priority, '--x509certfile', certFile, '--x509keyfile', keyFile, '-p', String(p)],
      work,
      join(work, `gnutls-${name}-${p}.log`),
    );
    servers.push(daemon);
    const deadline = Date.now() + 10_000;
    while (daemon.running && Date.now() < deadline && !(await accepting(p))) await sleep(50);
    if (daemon.running && (await accepting(p))) return p;
    await daemon.stop();
    if (attempt >= 3) throw new Error(`gnutls-serv did not start:\n${daemon.describeLogs()}`);
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-tlspol-'));
  set = await buildEndpointScenarios(work);
  // RSA, so that the static-RSA suites (NULL-SHA256, 3DES, RC4) can be served too.
  const cert = set.issueWithScts(set.ca, [set.logA, set.logB], { dnsNames: [NAME], keyType: 'rsa-2048' });
  set.publish();
  id = identity(cert);
  const chain = chainPem(cert.der, cert.chain);
  await writeFile(join(work, 'chain.pem'), chain);
  await writeFile(join(work, 'key.pem'), id.keyPem, { mode: 0o600 });
  const openssl = async (name: string, extra: { tls13?: boolean; extraArgs?: string[] }): Promise<void> => {
    const server = await startOpensslServer({ chainPem: chain, keyPem: id.keyPem, ...extra });
    set.track(server);
    port[name] = server.port;
  };
  await Promise.all([
    openssl('modern', {}),
    openssl('old', { extraArgs: ['-min_protocol', 'TLSv1', '-cipher', 'DEFAULT:@SECLEVEL=0'] }),
    openssl('tls13', { tls13: true }),
    openssl('null', { extraArgs: ['-cipher', 'ECDHE-RSA-AES128-GCM-SHA256:NULL-SHA256:@SECLEVEL=0'] }),
    openssl('anon', { extraArgs: ['-cipher', 'ECDHE-RSA-AES128-GCM-SHA256:AECDH-AES128-SHA:@SECLEVEL=0'] }),
  ]);
  port['3des'] = await startGnutls('3des', 'NORMAL:+3DES-CBC');
  port['rc4'] = await startGnutls('rc4', 'NORMAL:+ARCFOUR-128');
  port['nginx'] = await startNginx();
  postfix = await startSmtpDaemon({ certPem: chain, keyPem: id.keyPem, hostname: NAME });
  port['smtp'] = postfix.ports.smtp;
}, 120_000);

afterAll(async () => {
  await Promise.all(servers.map((d) => d.stop()));
  await postfix?.stop();
  await set?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

interface Finding {
  id: string;
  severity: string;
  message: string;
}

async function check(server: string, flags: string[]) {
  const r = await runCli([
    'check',
    'endpoint',
    `127.0.0.1:${port[server]}`,
    '--sni',
    NAME,
    '--log-list',
    set.logList,
    '--ca-file',
    set.caFile,
    '-t',
    '10',
    '--json',
    ...flags,
  ]);
  const [result] = jsonLines(r.stdout) as { status: string; findings: Finding[] }[];
  const findings = result?.findings ?? [];
  const mine = findings.filter((f) => /^(tls-version|weak-cipher|tls-probe)/.test(f.id));
  return { ...r, findings, mine, explain: `${r.stdout}\n${r.stderr}` };
}

const sevIds = (fs: Finding[]): string[] => fs.map((f) => `${f.severity} ${f.id}`);

describe('check endpoint: TLS protocol versions (openssl s_server)', () => {
  it.each<[string, string, string[], number, string[], RegExp | null]>([
    [
      'a TLS 1.2+1.3 server meets --require-no-tls1 --require-no-tls1_1',
      'modern',
      ['--require-no-tls1', '--require-no-tls1_1'],
      0,
      ['info tls-versions'],
      /TLS 1\.0 refused, TLS 1\.1 refused; the main handshake negotiated TLS 1\.3/,
    ],
    ['…and --min-tls 1.2', 'modern', ['--min-tls', '1.2'], 0, ['info tls-versions'], /TLS 1\.1 refused/],
    [
      '…but not --min-tls 1.3',
      'modern',
      ['--min-tls', '1.3'],
      2,
      ['critical tls-version-accepted', 'info tls-versions'],
      /the server accepts TLS 1\.2 \(--min-tls 1\.3\)/,
    ],
    [
      'a server with TLS 1.0 fails --require-no-tls1',
      'old',
      ['--require-no-tls1'],
      2,
      ['critical tls-version-accepted', 'info tls-versions'],
      /the server accepts TLS 1\.0 \(--require-no-tls1; RFC 8996/,
    ],
    [
      'a server with TLS 1.1 fails --require-no-tls1_1 (and only TLS 1.1 is named)',
      'old',
      ['--require-no-tls1_1'],
      2,
      ['critical tls-version-accepted', 'info tls-versions'],
      /the server accepts TLS 1\.1 \(--require-no-tls1_1/,
    ],
    [
      '--min-tls 1.2 names both old versions',
      'old',
      ['--min-tls', 'TLSv1.2'],
      2,
      ['critical tls-version-accepted', 'critical tls-version-accepted', 'info tls-versions'],
      /TLS 1\.0 accepted, TLS 1\.1 accepted/,
    ],
    ['--min-tls 1.0 asks nothing: no probe, OK', 'old', ['--min-tls', '1.0'], 0, [], null],
    ['no policy flag: no probe, OK', 'old', [], 0, [], null],
    [
      'a TLS 1.3-only server meets --min-tls 1.3',
      'tls13',
      ['--min-tls', '1.3'],
      0,
      ['info tls-versions'],
      /TLS 1\.0 refused, TLS 1\.1 refused, TLS 1\.2 refused; the main handshake negotiated TLS 1\.3/,
    ],
  ])('%s', async (_name, server, flags, exit, ids, pattern) => {
    const r = await check(server, flags);
    expect(r.code, r.explain).toBe(exit);
    expect(sevIds(r.findings.filter((f) => f.id.startsWith('tls-version'))), r.explain).toEqual(ids);
    expect(r.mine.filter((f) => f.id === 'tls-probe-failed' || f.id === 'tls-probe-anomaly')).toEqual([]);
    if (pattern) expect(r.findings.map((f) => f.message).join('\n')).toMatch(pattern);
  });

  it('nginx with ssl_protocols TLSv1 TLSv1.1 TLSv1.2: --min-tls 1.2 names TLS 1.0 and 1.1', async () => {
    const r = await check('nginx', ['--min-tls', '1.2']);
    expect(r.code, r.explain).toBe(2);
    expect(r.mine.map((f) => f.message)).toEqual([
      'the server accepts TLS 1.0 (--min-tls 1.2; RFC 8996 deprecates TLS 1.0 and 1.1)',
      'the server accepts TLS 1.1 (--min-tls 1.2; RFC 8996 deprecates TLS 1.0 and 1.1)',
      'protocol versions: TLS 1.0 accepted, TLS 1.1 accepted; the main handshake negotiated TLS 1.2',
    ]);
  });

  it('the status line names the accepted version (text output)', async () => {
    const r = await runCli([
      'check',
      'endpoint',
      `127.0.0.1:${port.old}`,
      '--sni',
      NAME,
      '--log-list',
      set.logList,
      '--ca-file',
      set.caFile,
      '--require-no-tls1',
    ]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^CERTVIGIL CRITICAL - 127\.0\.0\.1:\d+: the server accepts TLS 1\.0 /);
    expect(r.stdout).toMatch(/\[CRITICAL\] 127\.0\.0\.1: tls-version-accepted: /);
  });
});

describe('check endpoint --weak-ciphers (openssl s_server, gnutls-serv)', () => {
  it.each<[string, string, string[], number, string[], RegExp | null]>([
    ['a server without weak suites: OK', 'modern', ['--weak-ciphers', 'critical'], 0, [], null],
    [
      'NULL encryption: CRITICAL even at warning',
      'null',
      ['--weak-ciphers', 'warning'],
      2,
      ['critical weak-cipher'],
      /agreed to TLS_RSA_WITH_NULL_SHA256 with TLS 1\.2 \(no encryption\)/,
    ],
    ['NULL without the flag: not probed, OK', 'null', [], 0, [], null],
    [
      'anonymous ECDH: CRITICAL',
      'anon',
      ['--weak-ciphers', 'warning'],
      2,
      ['critical weak-cipher'],
      /TLS_ECDH_anon_WITH_AES_128_CBC_SHA .*no server authentication/,
    ],
    [
      '3DES: WARNING at warning (SWEET32)',
      '3des',
      ['--weak-ciphers', 'warning'],
      1,
      ['warning weak-cipher'],
      /TLS_(ECDHE_)?RSA_WITH_3DES_EDE_CBC_SHA with TLS 1\.2 \(64-bit block cipher, SWEET32\)/,
    ],
    ['3DES: CRITICAL at critical', '3des', ['--weak-ciphers', 'critical'], 2, ['critical weak-cipher'], null],
    [
      'RC4: WARNING citing RFC 7465',
      'rc4',
      ['--weak-ciphers', 'warning'],
      1,
      ['warning weak-cipher'],
      /TLS_(ECDHE_)?RSA_WITH_RC4_128_SHA with TLS 1\.2 \(RC4, prohibited by RFC 7465\)/,
    ],
    ['--weak-ciphers off: not probed', 'rc4', ['--weak-ciphers', 'off'], 0, [], null],
  ])('%s', async (_name, server, flags, exit, ids, pattern) => {
    const r = await check(server, flags);
    expect(r.code, r.explain).toBe(exit);
    expect(sevIds(r.mine), r.explain).toEqual(ids);
    if (pattern) expect(r.findings.map((f) => f.message).join('\n')).toMatch(pattern);
  });
});

describe('through STARTTLS (Postfix 3.7 with its defaults)', () => {
  // Postfix's defaults: smtpd_tls_protocols = >=TLSv1, and anonymous suites enabled for
  // opportunistic TLS (a client that verifies certificates never offers them; RFC 7435). Every
  // probe connection speaks SMTP and STARTTLS first, as the main handshake does.
  it('sees TLS 1.0, TLS 1.1 and an anonymous suite after STARTTLS', async () => {
    const r = await check('smtp', [
      '--starttls',
      'smtp',
      '--require-no-tls1',
      '--require-no-tls1_1',
      '--weak-ciphers',
      'warning',
    ]);
    expect(r.code, r.explain).toBe(2);
    expect(sevIds(r.mine), r.explain).toEqual([
      'critical tls-version-accepted',
      'critical tls-version-accepted',
      'critical weak-cipher',
      'info tls-versions',
    ]);
    const text = r.mine.map((f) => f.message).join('\n');
    expect(text).toMatch(/accepts TLS 1\.0 .*\n.*accepts TLS 1\.1 .*\n.*agreed to TLS_(EC)?DH_anon_WITH_/);
    // Without the policy flags the same server is OK: nothing is probed.
    const plain = await check('smtp', ['--starttls', 'smtp']);
    expect(plain.code, plain.explain).toBe(0);
    expect(plain.mine).toEqual([]);
  });
});

describe('TLS policy usage errors and check endpoints', () => {
  it.each([
    [
      ['--min-tls', '1.4'],
      /^CERTVIGIL UNKNOWN - --min-tls must be one of 1\.0, 1\.1, 1\.2, 1\.3 \(got "1\.4"\)\n$/,
    ],
    [
      ['--weak-ciphers', 'loud'],
      /^CERTVIGIL UNKNOWN - --weak-ciphers must be warning, critical, off \(got "loud"\)\n$/,
    ],
  ])('%j is UNKNOWN (exit 3), one line, nothing probed', async (flags, pattern) => {
    // Port 1 on loopback: a probe would be CRITICAL (connection refused), not UNKNOWN.
    const r = await runCli(['check', 'endpoint', '127.0.0.1:1', '--log-list', set.logList, ...flags]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(pattern);
    expect(r.stderr).toBe('');
  });

  it('check endpoints takes requireNoTls1, requireNoTls1_1, minTls (YAML number) and weakCiphers', async () => {
    const config = join(work, 'endpoints.yaml');
    const entry = (server: string, extra: string): string =>
      `  - { target: "127.0.0.1:${port[server]}", sni: ${NAME}, ${extra} }\n`;
    await writeFile(
      config,
      `logList: ${set.logList}\n` +
        `defaults: { caFile: ${set.caFile}, timeout: 10 }\n` +
        'endpoints:\n' +
        entry('modern', 'requireNoTls1: true, requireNoTls1_1: true, minTls: 1.2') +
        entry('old', 'minTls: 1.1') +
        entry('3des', 'weakCiphers: warning') +
        entry('null', 'weakCiphers: false'),
    );
    const r = await runCli(['check', 'endpoints', '--config', config, '--json']);
    const results = jsonLines(r.stdout) as { status: string; findings: Finding[] }[];
    expect(
      results.map((x) => x.status),
      r.stdout,
    ).toEqual(['OK', 'CRITICAL', 'WARNING', 'OK']);
    expect(r.code).toBe(2);
    expect(results[1]?.findings.find((f) => f.id === 'tls-version-accepted')?.message).toMatch(/TLS 1\.0/);
  });

  it.each([
    ['minTls: 1.4', /endpoints\.0\.minTls/],
    ['weakCiphers: loud', /endpoints\.0\.weakCiphers/],
    ['requireNoTls1: "yes"', /endpoints\.0\.requireNoTls1/],
  ])('check endpoints refuses %s (exit 3, nothing probed)', async (bad, pattern) => {
    const config = join(work, `bad-${bad.replace(/\W+/g, '-')}.yaml`);
    await writeFile(config, `logList: ${set.logList}\nendpoints:\n  - { target: "127.0.0.1:1", ${bad} }\n`);
    const r = await runCli(['check', 'endpoints', '--config', config]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^CERTVIGIL UNKNOWN - /);
    expect(r.stdout).toMatch(pattern);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
  });
});
