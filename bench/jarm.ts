/**
 * JARM speed against the reference, with identical hashes: certvigil's `jarmFingerprint` /
 * `jarmMany` vs jarm.py v1.0's timings recorded in test/vectors/jarm/jarm.json (`reference_timing`:
 * one target per process 0.43 s median, 200 targets against one server 4.64 s ≈ 23 ms a target,
 * sequential probes, 2 cores, loopback, openssl s_server RSA default). jarm.py is not run here, so
 * the ratios compare with those recorded figures; the machine is printed above the table.
 *
 * Rows:
 * - one target, in-process: median of `runs` fingerprints of one openssl s_server, against jarm.py's
 *   in-process rate (23 ms a target, from its 200-target run);
 * - one target, whole process: median of `runs` `certvigil jarm HOST:PORT --json` processes (the
 *   built CLI), the shape of jarm.py's 0.43 s figure;
 * - 200 targets, one server: as jarm.py's 200-target figure (`jarmMany`, 20 targets at a time);
 * - 50 hosts: 50 separate s_server processes on 127.0.0.1, all at once (`jarmMany`), against
 *   jarm.py's 23 ms a target × 50;
 * - 40 targets, whole process, CPU: `certvigil jarm T1 … T40 --json` (40 of those servers), the CPU
 *   time (user + system) of the whole process, against jarm.py's for the same 40 targets
 *   (`python3 jarm.py -i LIST -j`, sequential) when `JARM_PY` names a copy of salesforce/jarm's
 *   jarm.py v1.0 (not shipped here); its hashes are checked too. Servers' CPU is not counted.
 *   Python is Debian's /usr/bin/python3 when present (`JARM_PYTHON` overrides): a version
 *   manager's shim (pyenv's is a bash script) would add its own start to jarm.py's CPU time.
 *   Medians of 5 interleaved rounds, with the start-up floors beside them: `jarm --help` and the
 *   bare interpreters (`node -e 0`, `python3 -c pass`).
 * On a 2-core machine the servers' own work (RSA signatures, DHE key generation for every probe
 * that gets a TLS 1.2 ECDHE/DHE or TLS 1.3 ServerHello) is the floor of the many-target rows, and
 * Node's start (~65 ms) plus module loading is most of the whole-process row.
 * Every fingerprint taken is checked against the vector's hash; a mismatch fails the bench.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { jarmFingerprint, jarmMany } from '../src/probe/jarm-scan.js';
import { startOpensslServer } from '../test/fixtures/tls/openssl-server.js';
import type { OpensslServer } from '../test/fixtures/tls/openssl-server.js';
import { childrenCpuMs } from './cpu.js';
import type { Moonshot } from './moonshots.js';
import { formatTable } from './table.js';

const execFileAsync = promisify(execFile);
const CLI = fileURLToPath(new URL('../dist/bin/certvigil.js', import.meta.url));

interface Vectors {
  vectors: { name: string; jarm: string }[];
  reference_timing: {
    single_target_whole_process_s_median: number;
    targets_200_one_server_s: number;
    per_target_ms: number;
  };
}

export interface JarmBenchRow {
  what: string;
  certvigilMs: number;
  referenceMs: number | null;
  perTargetMs: number;
  hashesOk: string;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function check(jarm: string, expected: string, what: string): void {
  if (jarm !== expected) throw new Error(`${what}: JARM ${jarm} differs from the reference ${expected}`);
}

export async function benchJarm(runs = 9, hosts = 50): Promise<JarmBenchRow[]> {
  const vectors = JSON.parse(
    readFileSync(new URL('../test/vectors/jarm/jarm.json', import.meta.url), 'utf8'),
  ) as Vectors;
  const expected = vectors.vectors.find((v) => v.name === 'osl-rsa-default')?.jarm ?? '';
  const ref = vectors.reference_timing;
  const dir = await mkdtemp(join(tmpdir(), 'certvigil-bench-jarm-'));
  const servers: OpensslServer[] = [];
  try {
    await execFileAsync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'),
      '-subj', '/CN=localhost', '-days', '2',
    ]); // prettier-ignore
    const pair = {
      chainPem: await readFile(join(dir, 'c.pem'), 'utf8'),
      keyPem: await readFile(join(dir, 'k.pem'), 'utf8'),
    };
    const start = async (): Promise<OpensslServer> => {
      const s = await startOpensslServer(pair);
      servers.push(s);
      return s;
    };
    const one = await start();
    const target = `${one.host}:${one.port}`;
    const rows: JarmBenchRow[] = [];

    // Warm-up (module load, first connections), then the in-process median.
    check((await jarmFingerprint(target)).jarm, expected, 'warm-up');
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      check((await jarmFingerprint(target)).jarm, expected, 'single target');
      times.push(performance.now() - t);
    }
    const single = median(times);
    rows.push({
      what: `1 target, in-process (median of ${runs}) vs jarm.py's per-target rate`,
      certvigilMs: single,
      referenceMs: ref.per_target_ms,
      perTargetMs: single,
      hashesOk: `${runs}/${runs}`,
    });

    if (existsSync(CLI)) {
      const procTimes: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t = performance.now();
        const { stdout } = await execFileAsync(process.execPath, [CLI, 'jarm', target, '--json']);
        procTimes.push(performance.now() - t);
        check((JSON.parse(stdout) as { jarm: string }).jarm, expected, 'whole process');
      }
      const proc = median(procTimes);
      rows.push({
        what: `1 target, whole process (median of ${runs})`,
        certvigilMs: proc,
        referenceMs: ref.single_target_whole_process_s_median * 1000,
        perTargetMs: proc,
        hashesOk: `${runs}/${runs}`,
      });
    }

    const many = Array.from({ length: 200 }, () => target);
    const serverPid = servers[0]?.daemon.pid ?? -1;
    const cpuBefore = processCpuMs(serverPid);
    let t = performance.now();
    let results = await jarmMany(many, { concurrency: 20 });
    const oneServer = performance.now() - t;
    const serverCpu = processCpuMs(serverPid) - cpuBefore;
    results.forEach((r, i) => check(r.jarm, expected, `target ${i}`));
    rows.push({
      what: '200 targets, one server (20 at a time)',
      certvigilMs: oneServer,
      referenceMs: ref.targets_200_one_server_s * 1000,
      perTargetMs: oneServer / 200,
      hashesOk: `${results.length}/200`,
    });
    // The floor no client can go below against this server: its own CPU time per fingerprint
    // (10 handshakes' signatures and key shares). jarm.py's 23 ms a target includes the same work.
    rows.push({
      what: '  of which: the s_server’s own CPU time',
      certvigilMs: serverCpu,
      referenceMs: null,
      perTargetMs: serverCpu / 200,
      hashesOk: '–',
    });

    for (let i = 1; i < Math.max(hosts, CPU_TARGETS); i++) await start();
    const targets = servers.slice(0, hosts).map((s) => `${s.host}:${s.port}`);
    t = performance.now();
    results = await jarmMany(targets, { concurrency: hosts });
    const fifty = performance.now() - t;
    results.forEach((r, i) => check(r.jarm, expected, `host ${i}`));
    rows.push({
      what: `${hosts} hosts (${hosts} s_server processes, all at once)`,
      certvigilMs: fifty,
      referenceMs: ref.per_target_ms * hosts,
      perTargetMs: fifty / hosts,
      hashesOk: `${results.length}/${hosts}`,
    });
    rows.push(...(await cpuRows(servers.slice(0, CPU_TARGETS), expected, dir)));
    return rows;
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await rm(dir, { recursive: true, force: true });
  }
}

/** How many targets the CPU comparison with jarm.py probes in one process. */
const CPU_TARGETS = 40;
/** Rounds of the CPU comparison (medians). */
const CPU_RUNS = 5;

/** Runs a command to its end; its wall time and CPU time (ms) and stdout. */
async function measured(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ wallMs: number; cpuMs: number; stdout: string }> {
  const cpu = childrenCpuMs();
  const t = performance.now();
  const { stdout } = await execFileAsync(cmd, args, { maxBuffer: 16 * 1024 * 1024, env });
  return { wallMs: performance.now() - t, cpuMs: childrenCpuMs() - cpu, stdout };
}

function withoutExtraCa(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/** certvigil jarm and (with JARM_PY) jarm.py on the same 40 targets: CPU time of each process. */
async function cpuRows(servers: OpensslServer[], expected: string, dir: string): Promise<JarmBenchRow[]> {
  const rows: JarmBenchRow[] = [];
  if (!existsSync(CLI) || servers.length < CPU_TARGETS) return rows;
  const targets = servers.map((s) => `${s.host}:${s.port}`);
  const hashes = (stdout: string, key: string): string[] =>
    stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => String((JSON.parse(l) as Record<string, unknown>)[key]));
  const script = process.env.JARM_PY;
  const list = join(dir, 'targets.txt');
  await writeFile(list, servers.map((s) => `${s.host},${s.port}\n`).join(''));
  const python = process.env.JARM_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  // CPU time is counted in 10 ms ticks and the machine is shared: medians of CPU_RUNS rounds, each
  // round running every command once (interleaved, so a busy moment hits all of them alike).
  const samples = new Map<string, { wallMs: number; cpuMs: number }[]>();
  const sample = async (
    key: string,
    cmd: string,
    args: string[],
    check?: (out: string) => void,
    env?: NodeJS.ProcessEnv,
  ): Promise<void> => {
    const r = await measured(cmd, args, env);
    check?.(r.stdout);
    samples.set(key, [...(samples.get(key) ?? []), r]);
  };
  let got: string[] = [];
  for (let i = 0; i < CPU_RUNS; i++) {
    if (script)
      await sample('jarm.py', python, [script, '-i', list, '-j'], (out) =>
        hashes(out, 'result').forEach((h, k) => check(h, expected, `jarm.py target ${k}`)),
      );
    await sample('certvigil', process.execPath, [CLI, 'jarm', ...targets, '--json'], (out) => {
      got = hashes(out, 'jarm');
      got.forEach((h, k) => check(h, expected, `certvigil target ${k}`));
    });
    // NODE_EXTRA_CA_CERTS (set on some machines, e.g. for a package proxy) makes every Node start
    // parse that CA file first (~45 ms CPU for Debian's whole bundle); JARM verifies nothing.
    if (process.env.NODE_EXTRA_CA_CERTS !== undefined)
      await sample(
        'certvigil-no-extra-ca',
        process.execPath,
        [CLI, 'jarm', ...targets, '--json'],
        (out) => hashes(out, 'jarm').forEach((h, k) => check(h, expected, `certvigil target ${k}`)),
        withoutExtraCa(),
      );
    await sample('help', process.execPath, [CLI, 'jarm', '--help']);
    await sample('node', process.execPath, ['-e', '0']);
    if (script) await sample('python', python, ['-c', 'pass']);
  }
  const med = (key: string, what: 'wallMs' | 'cpuMs'): number | null => {
    const values = samples.get(key)?.map((r) => r[what]);
    return values === undefined ? null : median(values);
  };
  const cpu = med('certvigil', 'cpuMs') ?? 0;
  rows.push({
    what: `${CPU_TARGETS} targets, whole process: CPU time (user + sys, median of ${CPU_RUNS})${script ? '' : ' (jarm.py: set JARM_PY)'}`,
    certvigilMs: cpu,
    referenceMs: med('jarm.py', 'cpuMs'),
    perTargetMs: cpu / CPU_TARGETS,
    hashesOk: `${got.length}/${CPU_TARGETS}`,
  });
  const noExtraCa = med('certvigil-no-extra-ca', 'cpuMs');
  if (noExtraCa !== null)
    rows.push({
      what: '  the same, CPU, without this machine’s NODE_EXTRA_CA_CERTS',
      certvigilMs: noExtraCa,
      referenceMs: med('jarm.py', 'cpuMs'),
      perTargetMs: noExtraCa / CPU_TARGETS,
      hashesOk: `${got.length}/${CPU_TARGETS}`,
    });
  const wall = med('certvigil', 'wallMs') ?? 0;
  rows.push({
    what: `  the same, wall time (certvigil 16 at a time, jarm.py one by one)`,
    certvigilMs: wall,
    referenceMs: med('jarm.py', 'wallMs'),
    perTargetMs: wall / CPU_TARGETS,
    hashesOk: '–',
  });
  const startup = med('help', 'cpuMs') ?? 0;
  rows.push({
    what: '  of which: starting certvigil (`jarm --help`, CPU)',
    certvigilMs: startup,
    referenceMs: null,
    perTargetMs: startup / CPU_TARGETS,
    hashesOk: '–',
  });
  // The floor under both columns: the bare interpreter, before any code of either tool runs.
  const bare = med('node', 'cpuMs') ?? 0;
  rows.push({
    what: '  of which: the bare interpreter (`node -e 0`, `python3 -c pass`; CPU)',
    certvigilMs: bare,
    referenceMs: med('python', 'cpuMs'),
    perTargetMs: bare / CPU_TARGETS,
    hashesOk: '–',
  });
  return rows;
}

/** User + system CPU time of a process so far, from /proc (Linux; 0 elsewhere). */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

export function formatJarmRows(rows: readonly JarmBenchRow[]): string {
  const ms = (v: number): string => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);
  return formatTable(
    ['scenario', 'certvigil', 'jarm.py v1.0 (recorded)', 'speed-up', 'per target', 'hashes = reference'],
    rows.map((r) => [
      r.what,
      ms(r.certvigilMs),
      r.referenceMs === null ? '–' : ms(r.referenceMs),
      r.referenceMs === null ? '–' : `${(r.referenceMs / r.certvigilMs).toFixed(1)}×`,
      ms(r.perTargetMs),
      r.hashesOk,
    ]),
  );
}

/** Issue 19's JARM target from this run: certvigil's CPU for 40 targets ≤ jarm.py's. */
export function jarmMoonshots(rows: readonly JarmBenchRow[]): Moonshot[] {
  const cpu = rows.find((r) => r.what.includes('whole process: CPU time'));
  const start = rows.find((r) => r.what.includes('starting certvigil'));
  const bare = rows.find((r) => r.what.includes('bare interpreter'));
  if (!cpu) return [];
  const ms = (v: number | null | undefined): string => (v == null ? '?' : `${v.toFixed(0)} ms`);
  if (cpu.referenceMs === null)
    return [
      {
        what: 'JARM CPU, 40 targets',
        target: '≤ jarm.py',
        measured: `${ms(cpu.certvigilMs)}; jarm.py not run (set JARM_PY)`,
        met: false,
        note: 'no reference in this run',
      },
    ];
  const met = cpu.certvigilMs <= cpu.referenceMs;
  const noCa = rows.find((r) => r.what.includes('without this machine'));
  return [
    {
      what: 'JARM CPU, 40 targets',
      target: '≤ jarm.py',
      measured:
        `${ms(cpu.certvigilMs)} vs ${ms(cpu.referenceMs)} (${(cpu.certvigilMs / cpu.referenceMs).toFixed(1)}×)` +
        (noCa ? `; without NODE_EXTRA_CA_CERTS ${ms(noCa.certvigilMs)}` : ''),
      met,
      note: met
        ? ''
        : `starting: node -e 0 ${ms(bare?.certvigilMs)} vs python3 ${ms(bare?.referenceMs)}, ` +
          `certvigil jarm --help ${ms(start?.certvigilMs)}; then 400 probe connections at ~0.25 ms of ` +
          'Node socket code each vs ~0.18 ms in Python (README, Benchmarks)',
    },
  ];
}
