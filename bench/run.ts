/**
 * `npm run bench [-- NAME...]`: runs the benchmarks (caa, x509, merkle, ct, latency, check, check14, jarm, server, workers; all by default)
 * and prints one table each, headed by the machine it ran on. `CT_BENCH_ENTRIES` sizes the CT log,
 * `WORKERS_BENCH_ENTRIES` the workers' log;
 * `--runs N` sets how often `check` runs each tool per scenario (default 5).
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { benchCaa, caaMoonshots, formatRows } from './caa.js';
import {
  benchCheck,
  benchStartup,
  CHECK_SSL_CERT,
  checkMoonshots,
  formatCheckRows,
  formatStartupRows,
} from './check-endpoint.js';
import { benchCheck14, formatCheck14Rows } from './check-endpoint-more.js';
import { benchCt, ctMoonshots, formatCtRows } from './ct.js';
import { benchJarm, formatJarmRows, jarmMoonshots } from './jarm.js';
import { benchMerkle, formatMerkleRows } from './merkle.js';
import { benchMonitorLatency, formatLatencyRows } from './monitor-latency.js';
import { formatMoonshots } from './moonshots.js';
import type { Moonshot } from './moonshots.js';
import { benchServer, formatServerRows } from './server.js';
import { benchWorkers, formatWorkersRows, workersNote } from './workers.js';
import { benchX509, formatX509Rows } from './x509.js';

function version(cmd: string, args: string[]): string {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return out.split('\n')[0]?.trim() ?? '?';
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return (e.stdout || e.stderr || '').split('\n')[0]?.trim() || 'unavailable';
  }
}

const all = ['caa', 'x509', 'merkle', 'ct', 'latency', 'check', 'check14', 'jarm', 'server', 'workers'];
const wanted = process.argv.slice(2).filter((a) => all.includes(a));
const run = (name: string): boolean => wanted.length === 0 || wanted.includes(name);

const moonshots: Moonshot[] = [];
const cpus = os.cpus();
console.log('# certvigil benchmarks');
console.log(
  `machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
    `${os.type()} ${os.release()}, node ${process.version}, load average ${os.loadavg()[0]?.toFixed(2)}`,
);

if (run('caa')) {
  console.log(`\n## CAA engine against local Unbound (warm cache)\n`);
  console.log(`resolver: ${version('unbound', ['-V'])}; authoritative: ${version('knotd', ['--version'])}\n`);
  const caaRows = await benchCaa();
  console.log(formatRows(caaRows));
  moonshots.push(...caaMoonshots(caaRows));
}
if (run('x509')) {
  console.log('\n## x509 DER walker vs node:crypto X509Certificate (one core)\n');
  console.log(formatX509Rows(benchX509()));
}
if (run('merkle')) {
  console.log('\n## Merkle hashing (one core)\n');
  console.log(formatMerkleRows(benchMerkle()));
}
if (run('ct')) {
  const entries = Number(process.env.CT_BENCH_ENTRIES ?? 1_000_000);
  console.log(
    `\n## CT read path: ${entries} entries, 1,000 watched names, tree verified (certspotter: ${version('certspotter', ['-version'])})\n`,
  );
  const { rows, generatedMs } = await benchCt(entries);
  console.log(`(log generated in ${(generatedMs / 1000).toFixed(1)} s, served from a separate process)\n`);
  console.log(formatCtRows(rows));
  moonshots.push(...ctMoonshots(rows));
}
if (run('latency')) {
  console.log(
    '\n## monitor daemon: a new certificate to its exec hook, with and without a stuck log (10 each)\n',
  );
  console.log(formatLatencyRows(await benchMonitorLatency(10)));
}
if (run('check')) {
  const runsAt = process.argv.indexOf('--runs');
  const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 5;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');
  console.log(
    `\n## check endpoint: certvigil vs check_ssl_cert (${version(CHECK_SSL_CERT, ['--version'])}), ${runs} runs per scenario\n`,
  );
  const checkRows = await benchCheck(runs);
  console.log(formatCheckRows(checkRows));
  moonshots.push(...checkMoonshots(checkRows));
  console.log(
    `\n### start alone: certvigil (bundled and not) vs node -e 0, ${runs * 2} runs each, alternating\n`,
  );
  console.log(formatStartupRows(await benchStartup(runs * 2)));
}
if (run('check14')) {
  const runsAt = process.argv.indexOf('--runs');
  const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 5;
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a positive integer');
  console.log(
    `\n## check endpoint, issue-14 cases: certvigil vs check_ssl_cert (${version(CHECK_SSL_CERT, ['--version'])}), ${runs} runs per scenario\n`,
  );
  console.log(formatCheck14Rows(await benchCheck14(runs)));
}
if (run('jarm')) {
  console.log(
    `\n## JARM: certvigil vs jarm.py v1.0 (recorded timings), openssl s_server ${version('openssl', ['version'])}\n`,
  );
  const jarmRows = await benchJarm();
  console.log(formatJarmRows(jarmRows));
  moonshots.push(...jarmMoonshots(jarmRows));
}
if (run('server')) {
  const { rows, fillMs, count } = await benchServer();
  console.log(
    `\n## HTTP API and pages over ${count.toLocaleString('en')} stored issuances (SQLite; stored in ${(fillMs / 1000).toFixed(1)} s), one request at a time\n`,
  );
  console.log(formatServerRows(rows));
}
if (run('workers')) {
  const bench = await benchWorkers();
  console.log(
    `\n## monitor workers on one PostgreSQL: ${bench.entries.toLocaleString('en')} entries (RFC 6962, 256 per get-entries), without a limit and with ${bench.limit} requests/s per client address\n`,
  );
  console.log(
    `(log generated in ${(bench.generatedMs / 1000).toFixed(1)} s, served from a separate process)\n`,
  );
  console.log(formatWorkersRows(bench));
  console.log(`\n${workersNote(os.cpus().length)}`);
}
if (moonshots.length > 0) {
  console.log('\n## Issue 19 moonshots: this run against the targets\n');
  console.log(formatMoonshots(moonshots));
}
