/**
 * CT read path, certvigil vs Debian's certspotter, in the same run on the same local log:
 * download every entry, parse it, match a 1,000-name watch list, verify the tree against the
 * signed root. The log server runs in its own process; each tool runs in its own process and its
 * peak RSS is read from /proc (VmHWM) for both alike. Entries: CT_BENCH_ENTRIES (default 1,000,000).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { childrenCpuMs } from './cpu.js';
import type { Moonshot } from './moonshots.js';
import { formatTable } from './table.js';

export interface CtRow {
  tool: string;
  kind: string;
  entries: number;
  seconds: number;
  perSecond: number;
  peakRssMiB: number;
  /** User + system CPU time of the tool's process (all its threads), from its reaped status. */
  cpuSeconds: number;
  matches: number;
  verified: string;
}

const here = fileURLToPath(new URL('.', import.meta.url));

/** Peak RSS of a running process so far, from /proc (Linux). */
async function vmHwmKiB(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function watchPeak(child: ChildProcess): { stop(): Promise<number> } {
  let peak = 0;
  const timer = setInterval(() => {
    if (child.pid) void vmHwmKiB(child.pid).then((v) => (peak = Math.max(peak, v)));
  }, 100);
  return {
    async stop() {
      if (child.pid) peak = Math.max(peak, await vmHwmKiB(child.pid));
      clearInterval(timer);
      return peak;
    },
  };
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    if (!child.stdout) return reject(new Error('no stdout'));
    const rl = createInterface({ input: child.stdout });
    rl.once('line', (line) => {
      rl.close();
      resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before printing`)));
  });
}

/**
 * `size` watched names: 10 that the bulk log holds (1 % of entries match), the rest not: host
 * names and 1 % domain suffixes (`.corpN.example`).
 */
function watchList(size = 1000): string {
  const lines = [`# bench watch list: ${size} entries`];
  for (let j = 1; j <= 10; j++) lines.push(`h${j}.s${j % 100}.bulk.test`);
  const suffixes = Math.floor(size / 100);
  for (let k = 0; k < size - 10 - suffixes; k++) lines.push(`host${k}.watched.example`);
  for (let k = 0; k < suffixes; k++) lines.push(`.corp${k}.example`);
  return `${lines.join('\n')}\n`;
}

/** Node's own floor: the peak RSS of `node -e 0` (the binary's pages alone are ~40 MiB). */
async function nodeFloor(): Promise<CtRow> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 300)'], { stdio: 'ignore' });
  const peak = watchPeak(child);
  await new Promise((resolve) => child.once('exit', resolve));
  const rss = await peak.stop();
  return {
    tool: 'node -e 0 (Node’s own floor)',
    kind: '-',
    entries: 0,
    seconds: 0,
    perSecond: 0,
    peakRssMiB: rss / 1024,
    cpuSeconds: 0,
    matches: 0,
    verified: '-',
  };
}

async function runCertspotter(dir: string, list: string, watch: string, entries: number): Promise<CtRow> {
  const cpuBefore = childrenCpuMs();
  const started = performance.now();
  const child = spawn(
    'certspotter',
    [
      '-logs',
      list,
      '-watchlist',
      watch,
      '-state_dir',
      join(dir, 'cs-state'),
      '-start_at_end=false',
      '-stdout',
      '-verbose',
      '-no_save',
    ],
    {
      env: { ...process.env, HOME: dir, CERTSPOTTER_CONFIG_DIR: join(dir, 'cs-config') },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const peak = watchPeak(child);
  let matches = 0;
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
    if (l.includes('Log Entry =')) matches++;
  });
  let problems = '';
  let caughtUp = false;
  const finished = await new Promise<boolean>((resolve) => {
    const timeout = setTimeout(() => resolve(false), 20 * 60_000);
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (l) => {
      // Lines after it caught up are about the SIGTERM that ends it ("context canceled").
      if (!caughtUp && /error|mismatch|invalid/i.test(l)) problems += `${l}\n`;
      if (l.includes('finished downloading entries')) {
        caughtUp = true;
        clearTimeout(timeout);
        resolve(true);
      }
    });
    child.once('exit', () => resolve(false));
  });
  const seconds = (performance.now() - started) / 1000;
  const rss = await peak.stop();
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await gone;
  // certspotter verifies the tree as it goes; an error line would say it did not hold.
  return {
    tool: 'certspotter 0.16',
    kind: 'rfc6962',
    entries,
    seconds,
    perSecond: entries / seconds,
    peakRssMiB: rss / 1024,
    cpuSeconds: (childrenCpuMs() - cpuBefore) / 1000,
    matches,
    verified: finished && problems === '' ? 'yes' : `no ${problems.trim().slice(0, 120)}`,
  };
}

async function runCertvigil(list: string, url: string, watch: string, kind: string): Promise<CtRow> {
  const cpuBefore = childrenCpuMs();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, 'ct-pipeline.ts'), list, url, watch, '4'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const peak = watchPeak(child);
  const gone = new Promise((resolve) => child.once('exit', resolve));
  const line = await firstLine(child);
  const rss = await peak.stop();
  await gone;
  const r = JSON.parse(line) as {
    entries: number;
    seconds: number;
    matches: number;
    verified: boolean;
    maxRssKiB: number;
  };
  return {
    tool: 'certvigil read path',
    kind,
    entries: r.entries,
    seconds: r.seconds,
    perSecond: r.entries / r.seconds,
    peakRssMiB: Math.max(rss, r.maxRssKiB) / 1024,
    cpuSeconds: (childrenCpuMs() - cpuBefore) / 1000,
    matches: r.matches,
    verified: r.verified ? 'yes' : 'NO',
  };
}

/**
 * The whole monitor (`certvigil monitor --once`, SQLite state, alerts to a discarded stdout), or
 * the daemon (`daemon`): timed until its first pass reports the log caught up, then SIGTERM.
 */
async function runMonitor(
  dir: string,
  list: string,
  watch: string,
  kind: string,
  entries: number,
  daemon = false,
  label = '',
  env: NodeJS.ProcessEnv = {},
): Promise<CtRow> {
  const cli = fileURLToPath(new URL('../dist/bin/certvigil.js', import.meta.url));
  const cpuBefore = childrenCpuMs();
  const state = join(
    dir,
    `monitor-state-${kind}${daemon ? '-daemon' : ''}${label.replace(/[^a-z0-9]+/gi, '-')}`,
  );
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [
      cli,
      'monitor',
      ...(daemon ? ['--interval', '1h'] : ['--once']),
      '--log-list',
      list,
      '--watchlist',
      watch,
      '--state-dir',
      state,
      '--caa-resolver',
      'off',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } },
  );
  const peak = watchPeak(child);
  let stderr = '';
  let caughtUpAt: number | null = null;
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (daemon && caughtUpAt === null && new RegExp(`at ${entries}/${entries}`).test(stderr)) {
      caughtUpAt = performance.now();
      child.kill('SIGTERM');
    }
  });
  const code = await exited;
  const seconds = ((caughtUpAt ?? performance.now()) - started) / 1000;
  const rss = await peak.stop();
  const matched = /(\d+) matched/.exec(stderr);
  return {
    tool: `${daemon ? 'certvigil monitor (daemon)' : 'certvigil monitor'}${label}`,
    kind,
    entries,
    seconds,
    perSecond: entries / seconds,
    peakRssMiB: rss / 1024,
    cpuSeconds: (childrenCpuMs() - cpuBefore) / 1000,
    matches: matched ? Number(matched[1]) : -1,
    verified: code === 0 ? 'yes' : `NO (exit ${code}) ${stderr.slice(-200)}`,
  };
}

export async function benchCt(
  entries = Number(process.env.CT_BENCH_ENTRIES ?? 1_000_000),
): Promise<{ rows: CtRow[]; generatedMs: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'certvigil-bench-ct-'));
  const server = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, 'ct-log-server.ts'), String(entries), dir],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    const info = JSON.parse(await firstLine(server)) as {
      rfc6962: string;
      static: string;
      generatedMs: number;
      treeSize: number;
    };
    const watch = join(dir, 'watchlist');
    await writeFile(watch, watchList());
    const watch10k = join(dir, 'watchlist-10k');
    await writeFile(watch10k, watchList(10_000));
    const rfcList = join(dir, 'loglist-rfc6962.json');
    const staticList = join(dir, 'loglist-static.json');
    const rows: CtRow[] = [];
    rows.push(await runCertspotter(dir, rfcList, watch, info.treeSize));
    rows.push(await runCertvigil(rfcList, info.rfc6962, watch, 'rfc6962'));
    rows.push(await runCertvigil(staticList, info.static, watch, 'static-ct-api'));
    rows.push(await runMonitor(dir, rfcList, watch, 'rfc6962', info.treeSize));
    rows.push(await runMonitor(dir, staticList, watch, 'static-ct-api', info.treeSize));
    rows.push(await runMonitor(dir, rfcList, watch, 'rfc6962', info.treeSize, true));
    rows.push(await runMonitor(dir, staticList, watch, 'static-ct-api', info.treeSize, true));
    rows.push(await runMonitor(dir, rfcList, watch10k, 'rfc6962', info.treeSize, false, ', 10,000 names'));
    rows.push(
      await runMonitor(dir, rfcList, watch, 'rfc6962', info.treeSize, false, ', one thread', {
        CERTVIGIL_ENTRY_WORKER: 'off',
      }),
    );
    rows.push(await nodeFloor());
    return { rows, generatedMs: info.generatedMs };
  } finally {
    server.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatCtRows(rows: CtRow[]): string {
  const reference = rows.find((r) => r.tool.startsWith('certspotter'));
  const base = reference?.perSecond;
  const baseRss = reference?.peakRssMiB;
  const baseCpu = reference ? reference.cpuSeconds / reference.entries : undefined;
  const header = [
    'tool',
    'log API',
    'entries',
    'seconds',
    'entries/s',
    'vs certspotter',
    'CPU s',
    'CPU per entry vs certspotter',
    'peak RSS MiB',
    'RSS vs certspotter',
    'matches',
    'tree verified',
  ];
  const body = rows.map((r) => [
    r.tool,
    r.kind,
    String(r.entries),
    r.entries === 0 ? '-' : r.seconds.toFixed(1),
    r.entries === 0 ? '-' : r.perSecond.toFixed(0),
    base && r.entries > 0 ? `${(r.perSecond / base).toFixed(2)}×` : '-',
    r.entries === 0 ? '-' : r.cpuSeconds.toFixed(2),
    baseCpu && r.entries > 0 ? `${(r.cpuSeconds / r.entries / baseCpu).toFixed(2)}×` : '-',
    r.peakRssMiB.toFixed(0),
    baseRss ? `${(r.peakRssMiB / baseRss).toFixed(1)}×` : '-',
    String(r.matches),
    r.verified,
  ]);
  return formatTable(header, body);
}

/**
 * Issue 19's CT targets from this run's rows: ingest through the whole monitor ≥ 3× certspotter
 * (RFC 6962, the API certspotter reads), and peak RSS ≤ 2× certspotter's, flat in the watch list.
 */
export function ctMoonshots(rows: readonly CtRow[]): Moonshot[] {
  const cs = rows.find((r) => r.tool.startsWith('certspotter'));
  const once = rows.find((r) => r.tool === 'certvigil monitor' && r.kind === 'rfc6962');
  const daemon = rows.find((r) => r.tool === 'certvigil monitor (daemon)' && r.kind === 'rfc6962');
  const big = rows.find((r) => r.tool.endsWith('10,000 names'));
  const floor = rows.find((r) => r.tool.startsWith('node -e 0'));
  const oneThread = rows.find((r) => r.tool.endsWith('one thread'));
  if (!cs || !once || !daemon || !floor) return [];
  const ratio = once.perSecond / cs.perSecond;
  const cpuRatio = once.cpuSeconds / once.entries / (cs.cpuSeconds / cs.entries);
  const out: Moonshot[] = [
    {
      what: 'CT ingest, monitor --once (RFC 6962)',
      target: '≥ 3× certspotter',
      measured:
        `${ratio.toFixed(2)}× (daemon ${(daemon.perSecond / cs.perSecond).toFixed(2)}×` +
        (oneThread ? `, one thread ${(oneThread.perSecond / cs.perSecond).toFixed(2)}×` : '') +
        `); CPU per entry ${cpuRatio.toFixed(2)}×`,
      met: ratio >= 3,
      note:
        ratio >= 3
          ? ''
          : `CPU-bound: ${((once.cpuSeconds / once.entries) * 1e6).toFixed(0)} µs of CPU per entry over two ` +
            `threads (certspotter ${((cs.cpuSeconds / cs.entries) * 1e6).toFixed(0)} µs over both cores), ` +
            'sharing 2 cores with the log server',
    },
  ];
  const worst = Math.max(once.peakRssMiB, daemon.peakRssMiB, big?.peakRssMiB ?? 0);
  out.push({
    what: 'CT monitor peak RSS',
    target: '≤ 2× certspotter, flat in log and watch-list size',
    measured:
      `${worst.toFixed(0)} MiB = ${(worst / cs.peakRssMiB).toFixed(1)}× (certspotter ${cs.peakRssMiB.toFixed(0)} MiB)` +
      (big ? `; 10,000 names ${big.peakRssMiB.toFixed(0)} vs 1,000 ${once.peakRssMiB.toFixed(0)} MiB` : '') +
      (oneThread ? `; one thread ${oneThread.peakRssMiB.toFixed(0)} MiB` : ''),
    met: worst <= 2 * cs.peakRssMiB,
    note:
      worst <= 2 * cs.peakRssMiB
        ? ''
        : `node -e 0 alone peaks at ${floor.peakRssMiB.toFixed(0)} MiB (${(floor.peakRssMiB / cs.peakRssMiB).toFixed(1)}×): ` +
          'no Node program can reach 2×; the rest is V8 heap, buffers and loaded code (README, Benchmarks)',
  });
  return out;
}
