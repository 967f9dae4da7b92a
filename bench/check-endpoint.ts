/**
 * `certvigil check endpoint` vs Debian's check_ssl_cert (monitoring-plugins-contrib), the plugin
 * most Nagios/Icinga setups use today, on the cases: which cases each flags, and how long
 * one check takes. Both run against the same servers (test/fixtures/endpoint-scenarios.ts), with
 * the same trust anchor and the fairest equivalent of each expectation:
 *
 * - trust anchor: certvigil `--ca-file`, check_ssl_cert `--rootcert-file` (same PEM);
 * - name: certvigil `--sni NAME`; check_ssl_cert `-H NAME --resolve ADDR`, which sends NAME as SNI,
 *   matches the certificate against NAME and connects to ADDR without a DNS lookup;
 * - `--expect-issuer TEXT` → `--issuer TEXT` (a pattern on the issuer);
 * - `--pin SPKI-SHA256` → `--fingerprint SHA1` of the legitimate certificate: check_ssl_cert has no
 *   key pin, and a certificate fingerprint is the closest it has (stricter: breaks at every renewal);
 * - `-w`/`-c` → `-w`/`-c` (same defaults, 20 and 15 days);
 * - `--min-scts`/`--ct-policy`: no equivalent; check_ssl_cert's CT check is only that the
 *   certificate carries an SCT extension (on by default), it verifies neither SCT nor inclusion;
 * - `--connect-to A --connect-to B` (one of two addresses intercepted): check_ssl_cert checks one
 *   address per run, so it runs once per address; the case counts as flagged if any run flags it,
 *   its status is the worst of the runs and its time is the sum of the runs.
 *
 * check_ssl_cert stays on loopback: `--ignore-ocsp` (no OCSP query nor issuer download by curl),
 * CRL checks are off unless `--crl`, HTTP-header checks are off unless `--all`, `--no-proxy` keeps
 * a stray http_proxy from being used, and with `--resolve IP` it never runs `host` on the name
 * (the test certificates carry no AIA or CRL URLs anyway). Runs are sequential, tools alternating.
 *
 * Times are whole processes, as Nagios runs them: wall time, and CPU time (user + system of the
 * process and of what it started: check_ssl_cert's openssl and friends). The issue-14 target is
 * certvigil ≤ 0.2× check_ssl_cert's wall time. `benchStartup` adds the start alone: `--version` and
 * `check endpoint --help` of the shipped bundle (dist/bin/certvigil.js) and of tsc's unbundled
 * dist/cli/main.js (what `bin` pointed at before the bundle), beside `node -e 0`, Node's floor.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildEndpointScenarios } from '../test/fixtures/endpoint-scenarios.js';
import { childrenCpuMs } from './cpu.js';
import type { EndpointScenario } from '../test/fixtures/endpoint-scenarios.js';
import type { Moonshot } from './moonshots.js';
import { formatTable } from './table.js';

export const CHECK_SSL_CERT = '/usr/lib/nagios/plugins/check_ssl_cert';
const CLI = fileURLToPath(new URL('../dist/bin/certvigil.js', import.meta.url));
/** tsc's output, unbundled: the binary as it was before the bundle (still built, for comparison). */
const UNBUNDLED = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const STATUS = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;
type Status = (typeof STATUS)[number] | 'ERROR';

interface Run {
  status: Status;
  seconds: number;
  cpuSeconds: number;
  firstLine: string;
}

export interface CheckRow {
  scenario: EndpointScenario;
  checkSslCert: Run;
  certvigil: Run;
  checkSslCertMedian: number;
  certvigilMedian: number;
  checkSslCertCpuMedian: number;
  certvigilCpuMedian: number;
}

function statusOf(code: number): Status {
  return STATUS[code] ?? 'ERROR';
}

function worse(a: Status, b: Status): Status {
  const rank = (s: Status): number => ({ OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3, ERROR: 4 })[s];
  return rank(a) >= rank(b) ? a : b;
}

function timed(cmd: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
  const cpu = childrenCpuMs();
  const started = performance.now();
  // A variable set to undefined in extraEnv is removed from the child's environment.
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries({ ...process.env, NO_COLOR: '1', ...extraEnv }).filter(([, v]) => v !== undefined),
  );
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: 120_000, env }, (err, stdout, stderr) => {
      const seconds = (performance.now() - started) / 1000;
      const cpuSeconds = (childrenCpuMs() - cpu) / 1000;
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      const firstLine = (stdout.split('\n')[0] || stderr.split('\n')[0] || '').trim();
      resolve({ status: statusOf(code), seconds, cpuSeconds, firstLine });
    });
  });
}

/** The values of every occurrence of `flag` in `args`. */
function flagValues(args: readonly string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag && args[i + 1] !== undefined ? [args[i + 1] ?? ''] : []));
}

/** check_ssl_cert's arguments for one address of a scenario (see the file comment). */
export function checkSslCertArgs(s: EndpointScenario, caFile: string, address: string): string[] {
  const port = s.target.slice(s.target.lastIndexOf(':') + 1);
  const args = ['-H', s.sni, '--resolve', address, '-p', port, '--rootcert-file', caFile];
  args.push('--ignore-ocsp', '--no-proxy', '-t', '10');
  for (const issuer of flagValues(s.extraArgs, '--expect-issuer')) args.push('--issuer', issuer);
  if (flagValues(s.extraArgs, '--pin').length > 0) {
    if (!s.pinnedCertSha1) throw new Error(`${s.id}: --pin without a certificate fingerprint`);
    // 2.60.0 compares the pattern with openssl's whole line, which OpenSSL 3 prefixes with
    // "sha1 Fingerprint=" (its sed only strips "SHA1 Fingerprint="): accept either prefix.
    args.push('--fingerprint', `(${'[Ss][Hh][Aa]'}1 Fingerprint=)?${s.pinnedCertSha1}`);
  }
  for (const f of ['-w', '-c']) for (const v of flagValues(s.extraArgs, f)) args.push(f, v);
  return args;
}

function addressesOf(s: EndpointScenario): string[] {
  const given = flagValues(s.extraArgs, '--connect-to');
  return given.length > 0 ? given : [s.target.slice(0, s.target.lastIndexOf(':'))];
}

async function runCheckSslCert(s: EndpointScenario, caFile: string): Promise<Run> {
  let total: Run = { status: 'OK', seconds: 0, cpuSeconds: 0, firstLine: '' };
  for (const address of addressesOf(s)) {
    const r = await timed(CHECK_SSL_CERT, checkSslCertArgs(s, caFile, address));
    const line = addressesOf(s).length > 1 ? `[${address}] ${r.firstLine}` : r.firstLine;
    total = {
      status: worse(total.status, r.status),
      seconds: total.seconds + r.seconds,
      cpuSeconds: total.cpuSeconds + r.cpuSeconds,
      firstLine: total.firstLine ? `${total.firstLine} / ${line}` : line,
    };
  }
  return total;
}

function runCertvigil(s: EndpointScenario, caFile: string, logList: string): Promise<Run> {
  return timed(process.execPath, [
    CLI,
    'check',
    'endpoint',
    s.target,
    '--sni',
    s.sni,
    '--ca-file',
    caFile,
    '--log-list',
    logList,
    // The scenarios' CA is private; their SCTs are what is being compared, so CT is required.
    '--require-ct',
    '-t',
    '10',
    ...s.extraArgs,
  ]);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Builds the scenarios, runs both tools `runs` times on each, and stops the servers. */
export async function benchCheck(runs: number): Promise<CheckRow[]> {
  if (!existsSync(CHECK_SSL_CERT))
    throw new Error(`${CHECK_SSL_CERT} missing: apt-get install monitoring-plugins-contrib`);
  if (!existsSync(CLI)) throw new Error(`${CLI} missing: npm run build`);
  const work = await mkdtemp(join(tmpdir(), 'certvigil-bench-check-'));
  const set = await buildEndpointScenarios(work);
  try {
    const rows: CheckRow[] = [];
    for (const scenario of set.scenarios) {
      const csc: Run[] = [];
      const cv: Run[] = [];
      for (let i = 0; i < runs; i++) {
        csc.push(await runCheckSslCert(scenario, set.caFile));
        cv.push(await runCertvigil(scenario, set.caFile, set.logList));
      }
      const last = <T>(xs: T[]): T => {
        const x = xs[xs.length - 1];
        if (x === undefined) throw new Error('no runs');
        return x;
      };
      // A tool whose status varies between runs would be reported by its worst run.
      const settle = (xs: Run[]): Run => ({ ...last(xs), status: xs.map((r) => r.status).reduce(worse) });
      rows.push({
        scenario,
        checkSslCert: settle(csc),
        certvigil: settle(cv),
        checkSslCertMedian: median(csc.map((r) => r.seconds)),
        certvigilMedian: median(cv.map((r) => r.seconds)),
        checkSslCertCpuMedian: median(csc.map((r) => r.cpuSeconds)),
        certvigilCpuMedian: median(cv.map((r) => r.cpuSeconds)),
      });
    }
    return rows;
  } finally {
    await set.stop();
    await rm(work, { recursive: true, force: true });
  }
}

export function formatCheckRows(rows: CheckRow[]): string {
  const flagged = (s: Status): boolean => s !== 'OK';
  const mark = (r: Run, expected: string): string => (r.status === expected ? r.status : `${r.status} ✗`);
  const body = rows.map((r) => [
    r.scenario.description,
    r.scenario.expected,
    mark(r.checkSslCert, r.scenario.expected),
    mark(r.certvigil, r.scenario.expected),
    r.checkSslCertMedian.toFixed(3),
    r.certvigilMedian.toFixed(3),
    `${(r.certvigilMedian / r.checkSslCertMedian).toFixed(2)}×`,
    `${r.checkSslCertCpuMedian.toFixed(2)} / ${r.certvigilCpuMedian.toFixed(2)}`,
  ]);
  const problems = rows.filter((r) => r.scenario.expected !== 'OK');
  const count = (pick: (r: CheckRow) => Run): string => {
    const n = problems.filter((r) => flagged(pick(r).status)).length;
    const right = rows.filter((r) => pick(r).status === r.scenario.expected).length;
    return `${n}/${problems.length} flagged, ${right}/${rows.length} as expected`;
  };
  const covers = rows.every((r) => !flagged(r.checkSslCert.status) || flagged(r.certvigil.status));
  const sum = (pick: (r: CheckRow) => number): number => rows.reduce((a, r) => a + pick(r), 0);
  const cscTotal = sum((r) => r.checkSslCertMedian);
  const cvTotal = sum((r) => r.certvigilMedian);
  body.push([
    `**total** (certvigil flags every case check_ssl_cert flags: ${covers ? 'yes' : 'no'})`,
    `${problems.length} problems`,
    count((r) => r.checkSslCert),
    count((r) => r.certvigil),
    cscTotal.toFixed(3),
    cvTotal.toFixed(3),
    `${(cvTotal / cscTotal).toFixed(2)}×`,
    `${sum((r) => r.checkSslCertCpuMedian).toFixed(2)} / ${sum((r) => r.certvigilCpuMedian).toFixed(2)}`,
  ]);
  const ratios = rows.map((r) => r.checkSslCertMedian / r.certvigilMedian);
  const fractions = rows.map((r) => r.certvigilMedian / r.checkSslCertMedian);
  const table = formatTable(
    [
      'scenario',
      'expected',
      'check_ssl_cert status',
      'certvigil status',
      'check_ssl_cert median s',
      'certvigil median s',
      'certvigil / check_ssl_cert',
      'CPU s (check_ssl_cert / certvigil)',
    ],
    body,
  );
  const notes = [
    '',
    `median time ratio check_ssl_cert / certvigil: ${(cscTotal / cvTotal).toFixed(2)}× over the sum of ` +
      `medians, ${median(ratios).toFixed(2)}× median per scenario; certvigil takes ` +
      `${(cvTotal / cscTotal).toFixed(2)}× check_ssl_cert's wall time (sum), ${median(fractions).toFixed(2)}× ` +
      `(median per scenario), worst scenario ${Math.max(...fractions).toFixed(2)}× (target: ≤ 0.20×).`,
    '✗ = not the expected status. "one of two addresses intercepted": check_ssl_cert checks one address ' +
      'per run, so it ran once per address (127.0.0.1, 127.0.0.2); flagged if any run flags it, time is ' +
      'the sum of both runs; certvigil got both with two --connect-to.',
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

export interface StartupRow {
  what: string;
  wallMedian: number;
  cpuMedian: number;
}

/**
 * The start alone, `runs` times each, commands alternating: Node's floor, check_ssl_cert's own
 * `--version`, and certvigil's `--version` and `check endpoint --help`, bundled and unbundled.
 */
export async function benchStartup(runs: number): Promise<StartupRow[]> {
  const node = process.execPath;
  // [label, command, arguments, exit status it must end with]; check_ssl_cert --version exits 3.
  // NODE_EXTRA_CA_CERTS (this machine sets it to Debian's whole CA bundle) is read at every Node
  // start; the floor without it is shown too. CERTVIGIL_CODE_CACHE=off: the ES-module path.
  const noExtraCa: NodeJS.ProcessEnv = { NODE_EXTRA_CA_CERTS: undefined };
  const commands: [string, string, string[], Status, NodeJS.ProcessEnv?][] = [
    ['node -e 0 (Node’s floor)', node, ['-e', '0'], 'OK'],
    ['node -e 0, without NODE_EXTRA_CA_CERTS', node, ['-e', '0'], 'OK', noExtraCa],
    ['check_ssl_cert --version', CHECK_SSL_CERT, ['--version'], 'UNKNOWN'],
    ['certvigil --version (bundle)', node, [CLI, '--version'], 'OK'],
    ['certvigil check endpoint --help (bundle)', node, [CLI, 'check', 'endpoint', '--help'], 'OK'],
    [
      'certvigil check endpoint --help (bundle, CERTVIGIL_CODE_CACHE=off)',
      node,
      [CLI, 'check', 'endpoint', '--help'],
      'OK',
      { CERTVIGIL_CODE_CACHE: 'off' },
    ],
    ['certvigil --version (unbundled dist/cli/main.js)', node, [UNBUNDLED, '--version'], 'OK'],
    ['certvigil check endpoint --help (unbundled)', node, [UNBUNDLED, 'check', 'endpoint', '--help'], 'OK'],
  ];
  const runsOf = commands.map((): Run[] => []);
  for (let i = 0; i < runs; i++)
    for (const [j, [, cmd, args, , env]] of commands.entries()) runsOf[j]?.push(await timed(cmd, args, env));
  return commands.map(([what, , , expected], j) => {
    const rs = runsOf[j] ?? [];
    const bad = rs.find((r) => r.status !== expected);
    if (bad) throw new Error(`${what}: ${bad.status} ${bad.firstLine}`);
    return {
      what,
      wallMedian: median(rs.map((r) => r.seconds)),
      cpuMedian: median(rs.map((r) => r.cpuSeconds)),
    };
  });
}

export function formatStartupRows(rows: StartupRow[]): string {
  const floor = rows[0]?.wallMedian ?? 0;
  return formatTable(
    ['start only', 'median wall s', 'median CPU s', 'wall above node -e 0'],
    rows.map((r) => [
      r.what,
      r.wallMedian.toFixed(3),
      r.cpuMedian.toFixed(3),
      `${r.wallMedian >= floor ? '+' : '−'}${Math.abs(r.wallMedian - floor).toFixed(3)}`,
    ]),
  );
}

/** Issue 19's plugin target from this run: every scenario's median wall ≤ 0.2× check_ssl_cert's. */
export function checkMoonshots(rows: readonly CheckRow[]): Moonshot[] {
  if (rows.length === 0) return [];
  const ratios = rows.map((r) => r.certvigilMedian / r.checkSslCertMedian);
  const worst = Math.max(...ratios);
  const total =
    rows.reduce((a, r) => a + r.certvigilMedian, 0) / rows.reduce((a, r) => a + r.checkSslCertMedian, 0);
  return [
    {
      what: 'plugin wall, check endpoint',
      target: '≤ 0.2× check_ssl_cert (every scenario)',
      measured: `${Math.min(...ratios).toFixed(2)}–${worst.toFixed(2)}× per scenario, ${total.toFixed(2)}× in total`,
      met: worst <= 0.2,
      note: worst <= 0.2 ? '' : 'see the check table: the slowest scenarios',
    },
  ];
}
