/**
 * @module
 * `certvigil check endpoint` vs Debian's check_ssl_cert on the cases issue 14 added: revocation
 * (OCSP, must-staple, CRL), the whole chain, TLS protocol policy, a private CA (alone and through an
 * HTTP proxy) and a dual RSA+ECDSA server. Real servers only, all on loopback: a PKI made by
 * `openssl ca` with a real `openssl ocsp` responder named in the leaves' AIA and CRLs from `openssl
 * ca -gencrl` served over HTTP (test/fixtures/tls/revocation-pki.ts), `openssl s_server`, nginx with
 * two certificates and Debian's tinyproxy.
 *
 * The same expectation, expressed with each tool's own flags:
 * - every row: certvigil `--sni NAME --ca-file CA --min-scts 0 --no-proxy -t 10` (a private CA: no
 *   CT, no log list, nothing beyond loopback); check_ssl_cert `-H NAME --resolve 127.0.0.1 -p PORT
 *   --rootcert-file CA --ignore-sct --no-proxy -t 10` (its SCT check is only "the certificate carries
 *   an SCT extension", which a private CA's certificates never do). Neither tool gets a revocation
 *   flag unless the row says so: both query the AIA OCSP responder by default (check_ssl_cert:
 *   `--ocsp` is on by default, `--ignore-ocsp` is NOT given here). check_ssl_cert asks OCSP only
 *   when the certificate's AIA also names caIssuers (it downloads the issuer from there): the OCSP
 *   leaves carry one, as public certificates do.
 * - must-staple (RFC 7633): certvigil reads the TLS Feature extension itself; check_ssl_cert has no
 *   must-staple check, so the row runs twice: with its defaults, and with `--require-ocsp-stapling`
 *   (a staple required of any certificate: the closest expectation an operator can state with it).
 * - CRL: certvigil falls back to the CRL distribution point by default (the leaf names no OCSP
 *   responder); check_ssl_cert needs `--crl` (with `--rootcert-file`).
 * - intermediate expiring within `-c`: `-w 20 -c 15` given to both (both defaults).
 * - TLS 1.0: `--require-no-tls1` for both. check_ssl_cert enumerates protocols with nmap, which
 *   Debian's monitoring-plugins-contrib neither depends on nor recommends: without nmap the check is
 *   skipped in silence (the flags cell says which case ran). With nmap present check_ssl_cert also
 *   runs an nmap port probe before every check, so its times in every row grow a little.
 * - proxy: `--proxy http://127.0.0.1:P` for both (check_ssl_cert sets http_proxy and passes
 *   `s_client -proxy`), instead of `--no-proxy`.
 * - dual RSA+ECDSA: certvigil `--key-types rsa,ecdsa` (one handshake per key type, one run);
 *   check_ssl_cert checks one certificate per run, so it runs twice (`--rsa`, then `--ecdsa`): the
 *   row counts as flagged if either run flags it, its status is the worst, its time the sum.
 *
 * Runs are sequential, tools alternating; the status shown is the worst over the runs, the time the
 * median. A scenario that cannot be set up (a server, the responder or a CRL not saying what the row
 * needs) throws: the benchmark exits non-zero rather than print a table about something else.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startOpensslServer } from '../test/fixtures/tls/index.js';
import type { OpensslServer } from '../test/fixtures/tls/index.js';
import { createPki } from '../test/fixtures/tls/pki.js';
import type { PkiCert } from '../test/fixtures/tls/pki.js';
import { RevocationPki } from '../test/fixtures/tls/revocation-pki.js';
import type { IssuedLeaf } from '../test/fixtures/tls/revocation-pki.js';
import { startNginxTlsServer } from '../test/harness/nginx-tls.js';
import { startTinyproxy } from '../test/harness/tinyproxy.js';
import { CHECK_SSL_CERT } from './check-endpoint.js';
import { formatTable } from './table.js';

/** The built CLI, as bench/check-endpoint.ts runs it. */
const CLI = fileURLToPath(new URL('../dist/bin/certvigil.js', import.meta.url));
const NAME = 'www.example.test';
const DAY_MS = 86_400_000;
const STATUS = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;
type Status = (typeof STATUS)[number] | 'ERROR';

interface Run {
  status: Status;
  seconds: number;
  firstLine: string;
}

export interface Scenario14 {
  id: string;
  description: string;
  expected: Status;
  /** Arguments after `check endpoint`. */
  certvigil: string[];
  /** One argument list per check_ssl_cert run making up one measurement (dual: two). */
  checkSslCert: string[][];
  /** The row-specific flags of each tool, as printed in the table. */
  certvigilFlags: string;
  checkSslCertFlags: string;
}

export interface Row14 {
  scenario: Scenario14;
  certvigil: Run;
  checkSslCert: Run;
  certvigilMedian: number;
  checkSslCertMedian: number;
}

const rank = (s: Status): number => ({ OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3, ERROR: 4 })[s];
const worse = (a: Status, b: Status): Status => (rank(a) >= rank(b) ? a : b);

/** No proxy variable of the caller's environment may reach either tool (rows say --proxy). */
const CLEAN_ENV: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !/^(https?|all|no)_proxy$/i.test(k)),
);

function timed(cmd: string, args: string[]): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { encoding: 'utf8', timeout: 60_000, env: { ...CLEAN_ENV, NO_COLOR: '1' } },
      (err, stdout, stderr) => {
        const seconds = (performance.now() - started) / 1000;
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        const firstLine = (stdout.split('\n')[0] || stderr.split('\n')[0] || '').trim();
        resolve({ status: STATUS[code] ?? 'ERROR', seconds, firstLine });
      },
    );
  });
}

async function runCheckSslCert(runs: string[][]): Promise<Run> {
  let total: Run = { status: 'OK', seconds: 0, firstLine: '' };
  for (const args of runs) {
    const r = await timed(CHECK_SSL_CERT, args);
    total = {
      status: worse(total.status, r.status),
      seconds: total.seconds + r.seconds,
      firstLine: total.firstLine ? `${total.firstLine} / ${r.firstLine}` : r.firstLine,
    };
  }
  return total;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** True when `command` is an executable file in a $PATH directory. */
function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => dir !== '' && existsSync(join(dir, command)));
}

function openssl(args: string[], input?: Buffer): string {
  return execFileSync('openssl', args, {
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(input ? { input } : {}),
  });
}

/** Throws unless the live responder answers `expected` for `leaf` (the row would be meaningless). */
function assertOcsp(pki: RevocationPki, leaf: IssuedLeaf, expected: 'good' | 'revoked'): void {
  const out = openssl([
    'ocsp',
    '-issuer',
    join(pki.dir, 'inter', 'ca.pem'),
    '-cert',
    leaf.certFile,
    '-url',
    pki.ocspUrl,
    '-CAfile',
    pki.rootFile,
    '-timeout',
    '5',
  ]);
  if (!new RegExp(`: ${expected}\\b`).test(out))
    throw new Error(`setup: the OCSP responder does not say ${expected} for ${leaf.name}:\n${out}`);
}

interface World {
  scenarios: Scenario14[];
  /** Throws if the proxy rows did not go through the proxy. */
  verify(runs: number): void;
  stop(): Promise<void>;
}

/** Starts every server of the table; on any failure stops what was started and throws. */
export async function buildScenarios14(): Promise<World> {
  const stops: (() => Promise<void> | void)[] = [];
  const stopAll = async (): Promise<void> => {
    for (const stop of stops.reverse()) await stop();
  };
  try {
    const work = await mkdtemp(join(tmpdir(), 'certvigil-bench-check14-'));
    stops.push(() => rm(work, { recursive: true, force: true }));

    // Revocation rows: the openssl-ca PKI with its live OCSP responder and CRL server.
    const rpki = await RevocationPki.create();
    stops.push(() => rpki.stop());
    // check_ssl_cert asks OCSP only about a certificate whose AIA also has caIssuers (it downloads
    // the issuer from there, never takes it from the served chain), as public certificates do: the
    // fixture's `ocsp` URL string goes verbatim into the openssl `authorityInfoAccess` line, so a
    // second access description rides along, naming the intermediate served by the CRL server.
    rpki.files.set('/inter.der', rpki.interDer);
    const aia = `${rpki.ocspUrl},caIssuers;URI:http://127.0.0.1:${rpki.crlPort}/inter.der`;
    const good = rpki.issue('good', { ocsp: aia });
    const revoked = rpki.issue('revoked', { ocsp: aia });
    rpki.revoke(revoked);
    const mustStaple = rpki.issue('muststaple', { ocsp: aia, mustStaple: true });
    const crlRevoked = rpki.issue('crlrevoked', { crl: true });
    rpki.revoke(crlRevoked);
    rpki.publishCrls();
    assertOcsp(rpki, good, 'good');
    assertOcsp(rpki, revoked, 'revoked');
    const crlText = openssl(['crl', '-inform', 'DER', '-noout', '-text'], rpki.files.get('/inter.crl'));
    const serial = openssl(['x509', '-in', crlRevoked.certFile, '-noout', '-serial']).trim().split('=')[1];
    if (!serial || !crlText.toUpperCase().includes(`SERIAL NUMBER: ${serial.toUpperCase()}`))
      throw new Error(`setup: the served CRL does not list ${crlRevoked.name} (${serial}):\n${crlText}`);

    // Chain, protocol, private-CA, proxy and dual-certificate rows: the openssl-ca chain PKI.
    const pki = createPki();
    stops.push(() => pki.cleanup());
    const root = pki.root('Bench14 Root');
    const inter = pki.issue(root, { cn: 'Bench14 Int', ca: true, days: 365 });
    const leaf = pki.issue(inter, { cn: NAME, dns: [NAME] });
    const int5 = pki.issue(root, {
      cn: 'Bench14 Expiring Int',
      ca: true,
      notAfter: new Date(Date.now() + 5.5 * DAY_MS),
    });
    const leaf5 = pki.issue(int5, { cn: NAME, dns: [NAME] });
    const rsaLeaf = pki.issue(inter, { cn: NAME, dns: [NAME], key: 'rsa:2048' });
    const rsaLeaf5 = pki.issue(inter, {
      cn: NAME,
      dns: [NAME],
      key: 'rsa:2048',
      notAfter: new Date(Date.now() + 5.5 * DAY_MS),
    });
    const caFile = join(work, 'ca.pem');
    await writeFile(caFile, root.certPem);

    const opensslServer = async (
      chain: string,
      keyPem: string,
      extraArgs: string[] = [],
    ): Promise<number> => {
      const s: OpensslServer = await startOpensslServer({ chainPem: chain, keyPem, extraArgs });
      stops.push(() => s.stop());
      return s.port;
    };
    const served = (l: IssuedLeaf): Promise<number> => opensslServer(l.certPem + rpki.interPem, l.keyPem);
    const chainOf = (...certs: PkiCert[]): string => certs.map((c) => c.certPem).join('');
    const nginx = async (...leaves: PkiCert[]): Promise<number> => {
      const s = await startNginxTlsServer({
        certificates: leaves.map((l) => ({ chainPem: chainOf(l, inter), keyPem: l.keyPem })),
      });
      stops.push(() => s.stop());
      return s.port;
    };
    const proxy = await startTinyproxy();
    stops.push(() => proxy.stop());

    const [pGood, pRevoked, pMustStaple, pCrl, pInt5, pTls1, pPrivate, pDual, pDualBad] = await Promise.all([
      served(good),
      served(revoked),
      served(mustStaple),
      served(crlRevoked),
      opensslServer(chainOf(leaf5, int5), leaf5.keyPem),
      // TLS 1.0 needs OpenSSL security level 0 on Debian (as in test/check-tls-policy.test.ts).
      opensslServer(chainOf(leaf, inter), leaf.keyPem, [
        '-min_protocol',
        'TLSv1',
        '-cipher',
        'DEFAULT:@SECLEVEL=0',
      ]),
      opensslServer(chainOf(leaf, inter), leaf.keyPem),
      nginx(rsaLeaf, leaf),
      nginx(rsaLeaf5, leaf),
    ]);

    const cv = (port: number, ca: string, ...extra: string[]): string[] => [
      `127.0.0.1:${port}`,
      '--sni',
      NAME,
      '--ca-file',
      ca,
      '--min-scts',
      '0',
      '-t',
      '10',
      ...(extra.includes('--proxy') ? [] : ['--no-proxy']),
      ...extra,
    ];
    const csc = (port: number, ca: string, ...extra: string[]): string[] => [
      '-H',
      NAME,
      '--resolve',
      '127.0.0.1',
      '-p',
      String(port),
      '--rootcert-file',
      ca,
      '--ignore-sct',
      '-t',
      '10',
      ...(extra.includes('--proxy') ? [] : ['--no-proxy']),
      ...extra,
    ];
    // The proxy's port changes every run: the table names it P.
    const shown = (flags: string): string => flags.replaceAll(proxy.url, 'http://127.0.0.1:P');
    const row = (
      id: string,
      description: string,
      expected: Status,
      port: number,
      ca: string,
      cvExtra: string[],
      cscRuns: string[][],
      checkSslCertFlags?: string,
    ): Scenario14 => ({
      id,
      description,
      expected,
      certvigil: cv(port, ca, ...cvExtra),
      checkSslCert: cscRuns.map((extra) => csc(port, ca, ...extra)),
      certvigilFlags: shown(cvExtra.join(' ')) || '(defaults)',
      checkSslCertFlags:
        checkSslCertFlags ?? cscRuns.map((e) => shown(e.join(' ')) || '(defaults)').join(' ; '),
    });
    const rootR = rpki.rootFile;
    const proxyArgs = ['--proxy', proxy.url];
    const scenarios = [
      row('ocsp-good', 'OCSP responder says good', 'OK', pGood, rootR, [], [[]]),
      row('ocsp-revoked', 'OCSP responder says revoked', 'CRITICAL', pRevoked, rootR, [], [[]]),
      row(
        'must-staple',
        'must-staple leaf, no staple',
        'CRITICAL',
        pMustStaple,
        rootR,
        [],
        [[]],
        '(defaults; no must-staple check)',
      ),
      row(
        'must-staple-require',
        'must-staple leaf, no staple',
        'CRITICAL',
        pMustStaple,
        rootR,
        [],
        [['--require-ocsp-stapling']],
        '--require-ocsp-stapling (any certificate)',
      ),
      row('crl-revoked', 'CRL lists the leaf (no OCSP in AIA)', 'CRITICAL', pCrl, rootR, [], [['--crl']]),
      row(
        'chain-expiry',
        'intermediate expires in 5 days',
        'CRITICAL',
        pInt5,
        caFile,
        ['-w', '20', '-c', '15'],
        [['-w', '20', '-c', '15']],
      ),
      row(
        'tls1',
        'server accepts TLS 1.0',
        'CRITICAL',
        pTls1,
        caFile,
        ['--require-no-tls1'],
        [['--require-no-tls1']],
        // check_ssl_cert enumerates protocols with nmap, which Debian's package does not pull in;
        // without it the check is skipped in silence (only a --verbose line says so).
        `--require-no-tls1${onPath('nmap') ? ' (nmap installed)' : ' (nmap missing: check skipped)'}`,
      ),
      row('private-ca', 'private CA, good endpoint', 'OK', pPrivate, caFile, [], [[]]),
      row('private-ca-proxy', 'same, through tinyproxy', 'OK', pPrivate, caFile, proxyArgs, [proxyArgs]),
      row(
        'dual',
        'nginx RSA+ECDSA, both good',
        'OK',
        pDual,
        caFile,
        ['--key-types', 'rsa,ecdsa'],
        [['--rsa'], ['--ecdsa']],
      ),
      // check_ssl_cert 2.60.0 `--rsa` offers only PKCS#1 signature algorithms unless `openssl
      // ciphers` lists a "PSS" suite (none does), which TLS 1.3 forbids (RFC 8446 §4.2.3): against a
      // TLS 1.3 server it needs --no-tls1_3 (its issue #167), the operator's workaround, given here.
      row(
        'dual-no-tls13',
        'nginx RSA+ECDSA, both good',
        'OK',
        pDual,
        caFile,
        ['--key-types', 'rsa,ecdsa'],
        [['--rsa', '--no-tls1_3'], ['--ecdsa']],
      ),
      row(
        'dual-rsa-expiring',
        'nginx RSA+ECDSA, RSA leaf expires in 5 days',
        'CRITICAL',
        pDualBad,
        caFile,
        ['--key-types', 'rsa,ecdsa'],
        [['--rsa', '--no-tls1_3'], ['--ecdsa']],
      ),
    ];
    return {
      scenarios,
      verify(runs: number): void {
        // Each tool's proxy run must have gone through tinyproxy (it logs every CONNECT).
        const connects = proxy
          .log()
          .split('\n')
          .filter((l) => l.includes(`CONNECT 127.0.0.1:${pPrivate}`)).length;
        if (connects < 2 * runs)
          throw new Error(`tinyproxy saw ${connects} CONNECTs for ${2 * runs} proxied runs:\n${proxy.log()}`);
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Builds the scenarios, runs both tools `runs` times on each, and stops the servers. */
export async function benchCheck14(runs: number): Promise<Row14[]> {
  if (!existsSync(CHECK_SSL_CERT))
    throw new Error(`${CHECK_SSL_CERT} missing: apt-get install monitoring-plugins-contrib`);
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: npm run build`);
  const world = await buildScenarios14();
  try {
    const rows: Row14[] = [];
    for (const scenario of world.scenarios) {
      const csc: Run[] = [];
      const cv: Run[] = [];
      for (let i = 0; i < runs; i++) {
        csc.push(await runCheckSslCert(scenario.checkSslCert));
        cv.push(await timed(process.execPath, [CLI, 'check', 'endpoint', ...scenario.certvigil]));
      }
      // A tool whose status varies between runs is reported by its worst run.
      const settle = (xs: Run[]): Run => ({
        ...(xs[xs.length - 1] ?? { seconds: 0, firstLine: '' }),
        status: xs.map((r) => r.status).reduce(worse),
      });
      rows.push({
        scenario,
        checkSslCert: settle(csc),
        certvigil: settle(cv),
        checkSslCertMedian: median(csc.map((r) => r.seconds)),
        certvigilMedian: median(cv.map((r) => r.seconds)),
      });
    }
    world.verify(runs);
    return rows;
  } finally {
    await world.stop();
  }
}

export function formatCheck14Rows(rows: Row14[]): string {
  const mark = (r: Run, expected: Status): string => (r.status === expected ? r.status : `${r.status} ✗`);
  const body = rows.map((r) => [
    r.scenario.description,
    r.scenario.expected,
    r.scenario.checkSslCertFlags,
    mark(r.checkSslCert, r.scenario.expected),
    r.scenario.certvigilFlags,
    mark(r.certvigil, r.scenario.expected),
    r.checkSslCertMedian.toFixed(3),
    r.certvigilMedian.toFixed(3),
    (r.certvigilMedian / r.checkSslCertMedian).toFixed(2),
  ]);
  const problems = rows.filter((r) => r.scenario.expected !== 'OK');
  const count = (pick: (r: Row14) => Run): string => {
    const flagged = problems.filter((r) => pick(r).status !== 'OK').length;
    const right = rows.filter((r) => pick(r).status === r.scenario.expected).length;
    return `${flagged}/${problems.length} flagged, ${right}/${rows.length} as expected`;
  };
  const sum = (pick: (r: Row14) => number): number => rows.reduce((a, r) => a + pick(r), 0);
  const cscTotal = sum((r) => r.checkSslCertMedian);
  const cvTotal = sum((r) => r.certvigilMedian);
  body.push([
    '**total**',
    `${problems.length} problems`,
    '',
    count((r) => r.checkSslCert),
    '',
    count((r) => r.certvigil),
    cscTotal.toFixed(3),
    cvTotal.toFixed(3),
    (cvTotal / cscTotal).toFixed(2),
  ]);
  const table = formatTable(
    [
      'scenario',
      'expected',
      'check_ssl_cert flags',
      'check_ssl_cert status',
      'certvigil flags',
      'certvigil status',
      'check_ssl_cert median s',
      'certvigil median s',
      'certvigil / check_ssl_cert',
    ],
    body,
  );
  const notes = [
    '',
    `time ratio certvigil / check_ssl_cert: ${(cvTotal / cscTotal).toFixed(2)}× over the sum of medians, ` +
      `${median(rows.map((r) => r.certvigilMedian / r.checkSslCertMedian)).toFixed(2)}× median per scenario.`,
    '✗ = not the expected status. Common flags (not repeated above): certvigil `--sni NAME --ca-file CA ' +
      '--min-scts 0 --no-proxy -t 10`; check_ssl_cert `-H NAME --resolve 127.0.0.1 -p PORT --rootcert-file CA ' +
      '--ignore-sct --no-proxy -t 10` (`--proxy` replaces `--no-proxy` in the proxy row). Both query OCSP by ' +
      'default. check_ssl_cert has no must-staple (RFC 7633) check: the row is shown with its defaults and with ' +
      '--require-ocsp-stapling. check_ssl_cert --require-no-tls1 needs nmap (not a dependency of the Debian ' +
      'package). Dual rows: check_ssl_cert runs once per key type (status the worst, time the sum); its --rsa ' +
      'fails the handshake with a TLS 1.3 server unless --no-tls1_3 is added.',
    '',
    'first output line of the last run:',
    '',
    ...rows.flatMap((r) => [
      `- ${r.scenario.id}`,
      `  - check_ssl_cert: ${r.checkSslCert.firstLine.slice(0, 300)}`,
      `  - certvigil: ${r.certvigil.firstLine.slice(0, 300)}`,
    ]),
  ];
  return [table, ...notes].join('\n');
}
