/**
 * Certificate summaries per second on one core: the x509 DER walker against Node's
 * `crypto.X509Certificate` (+ `subjectAltName`), over the 1,024 real Let's Encrypt staging
 * precertificates and leaf TBSs of the navigli2025h2 data tiles (test/vectors/ct). Figures drift
 * between machines; the ratio measured side by side in one run is what to compare (FACTS.md).
 *
 *     node --import tsx bench/x509.ts [iterations]
 */
import { X509Certificate } from 'node:crypto';
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { navigliEntries } from '../src/x509/ct-vectors.fixture.js';
import { summarizeCertificate, summarizeTbs } from '../src/x509/index.js';
import { formatTable } from './table.js';

export interface X509Row {
  what: string;
  ops: number;
  /** Wall-clock seconds over all rounds. */
  seconds: number;
  /** Median over the rounds, which keeps a burst of load on a shared machine from skewing one row. */
  perSecond: number;
  /**
   * Median operations per second of this process's CPU time (`process.cpuUsage`): on a busy shared
   * machine wall-clock rates also count the time the process was not scheduled.
   */
  perCpuSecond: number;
}

type Op = (der: Uint8Array) => unknown;

/** Runs `op` `iterations` times; returns [wall seconds, CPU seconds]. */
function timeOnce(inputs: Uint8Array[], iterations: number, op: Op, what: string): [number, number] {
  let sink = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < iterations; i++) if (op(inputs[i % inputs.length] as Uint8Array)) sink++;
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  if (sink !== iterations) throw new Error(`${what}: ${iterations - sink} operations returned nothing`);
  return [seconds, (used.user + used.system) / 1e6];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

export function benchX509(iterations = 200_000, rounds = 5): X509Row[] {
  const entries = navigliEntries();
  const preCerts = entries.map((e) => e.preCertificate);
  const tbss = entries.map((e) => e.tbs);
  const cases: { what: string; inputs: Uint8Array[]; iterations: number; op: Op }[] = [
    { what: 'summarizeCertificate(pre_certificate)', inputs: preCerts, iterations, op: summarizeCertificate },
    { what: 'summarizeTbs(leaf TBS)', inputs: tbss, iterations, op: summarizeTbs },
    // Ten times fewer: at a few thousand per second the full count would take a minute.
    {
      what: 'new X509Certificate(der) + subjectAltName',
      inputs: preCerts,
      iterations: Math.ceil(iterations / 10),
      op: (der) => new X509Certificate(der).subjectAltName ?? true,
    },
  ];
  // Warm-up lets V8 optimise the walker before the clock starts.
  for (const c of cases) timeOnce(c.inputs, Math.min(c.iterations, 20_000), c.op, c.what);
  const seconds = cases.map((): [number, number][] => []);
  // Rounds interleave the three, so they share whatever else the machine is doing.
  for (let r = 0; r < rounds; r++) {
    cases.forEach((c, i) =>
      seconds[i]?.push(timeOnce(c.inputs, Math.ceil(c.iterations / rounds), c.op, c.what)),
    );
  }
  return cases.map((c, i) => {
    const s = seconds[i] ?? [];
    const perRound = Math.ceil(c.iterations / rounds);
    return {
      what: c.what,
      ops: perRound * rounds,
      seconds: s.reduce((a, [wall]) => a + wall, 0),
      perSecond: median(s.map(([wall]) => perRound / wall)),
      perCpuSecond: median(s.map(([, cpu]) => perRound / cpu)),
    };
  });
}

export function formatX509Rows(rows: X509Row[]): string {
  const baseline = rows[rows.length - 1]?.perSecond ?? NaN;
  const baselineCpu = rows[rows.length - 1]?.perCpuSecond ?? NaN;
  const header = ['what', 'ops', 'wall s', 'per wall s', 'per CPU s', 'ratio (wall)', 'ratio (CPU)'];
  const body = rows.map((r) => [
    r.what,
    String(r.ops),
    r.seconds.toFixed(2),
    Math.round(r.perSecond).toLocaleString('en-US'),
    Math.round(r.perCpuSecond).toLocaleString('en-US'),
    `${(r.perSecond / baseline).toFixed(1)}×`,
    `${(r.perCpuSecond / baselineCpu).toFixed(1)}×`,
  ]);
  return formatTable(header, body);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const iterations = Number(process.argv[2] ?? 200_000);
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `# x509 walker: ${cpu}, node ${process.version}, one core, ${iterations} iterations in 5 rounds`,
  );
  console.log(`load average before: ${os.loadavg()[0]?.toFixed(2) ?? '?'}\n`);
  console.log(formatX509Rows(benchX509(iterations)));
}
