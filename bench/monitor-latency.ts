/**
 * Issue 13: how long from a certificate appearing in a log to the monitor's exec hook firing for it,
 * when another log of the list is stuck (accepts connections, never answers get-entries) — against
 * the same daemon with only the healthy log, side by side in one run. The daemon is the built CLI
 * (`monitor --interval 1s`), the logs are the local CT log fixture served in this process, the hook
 * a shell script appending each discovered name with the time it ran.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCtLogServer, TestCa, TestLog, writeLogList } from '../test/fixtures/ct-log/index.js';
import type { CtLogServer } from '../test/fixtures/ct-log/index.js';
import { formatTable } from './table.js';

export interface LatencyRow {
  scenario: string;
  firstHookMs: number;
  samples: number[];
}

const CLI = fileURLToPath(new URL('../dist/bin/certvigil.js', import.meta.url));

/** Polls the hook log until `name` appears; the time it appeared, or throws after `limitMs`. */
async function waitForHook(hookLog: string, name: string, limitMs: number): Promise<number> {
  const deadline = performance.now() + limitMs;
  while (performance.now() < deadline) {
    const text = await readFile(hookLog, 'utf8').catch(() => '');
    if (text.split('\n').includes(name)) return performance.now();
    await sleep(10);
  }
  throw new Error(`no hook for ${name} within ${limitMs} ms`);
}

async function scenario(label: string, withHungLog: boolean, samples: number): Promise<LatencyRow> {
  const dir = await mkdtemp(join(tmpdir(), 'certvigil-bench-latency-'));
  const ca = await TestCa.create();
  const servers: CtLogServer[] = [];
  try {
    const healthy = new TestLog({ name: 'healthy log' });
    for (let i = 0; i < 50; i++) healthy.addCertificate(ca.issue({ dnsNames: [`noise-${i}.other.test`] }));
    healthy.addCertificate(ca.issue({ dnsNames: ['first.watched.test'] }));
    healthy.publish();
    servers.push(await startCtLogServer(healthy, { rfc6962Prefix: '/healthy/' }));
    const listed = [{ server: servers[0] as CtLogServer, api: 'rfc6962' as const }];
    if (withHungLog) {
      const stuck = new TestLog({ name: 'stuck log' });
      for (let i = 0; i < 50; i++) stuck.addCertificate(ca.issue({ dnsNames: [`noise-${i}.stuck.test`] }));
      stuck.publish();
      const server = await startCtLogServer(stuck, { rfc6962Prefix: '/stuck/' });
      server.faults.hang = ['get-entries'];
      servers.push(server);
      listed.push({ server, api: 'rfc6962' });
    }
    const list = join(dir, 'list.json');
    await writeLogList(list, listed);
    await writeFile(join(dir, 'watchlist'), '.watched.test\n');
    const hookLog = join(dir, 'hook.log');
    const hook = join(dir, 'hook.sh');
    // The names of the certificate, one per line, from the JSON file certspotter-style hooks get.
    await writeFile(
      hook,
      `#!/bin/sh\ncat >/dev/null\n[ "$EVENT" = discovered_cert ] && tr ',' '\\n' < "$JSON_FILENAME" | grep -o '[a-z0-9.-]*\\.watched\\.test' >> '${hookLog}'\nexit 0\n`,
      { mode: 0o755 },
    );
    await writeFile(
      join(dir, 'config.yaml'),
      `caaResolver: false\nalerts:\n  exec: { command: '${hook}' }\n`,
    );
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [
        CLI,
        'monitor',
        '--config',
        join(dir, 'config.yaml'),
        '--log-list',
        list,
        '--watchlist',
        join(dir, 'watchlist'),
        '--state-dir',
        join(dir, 'state'),
        '--interval',
        '1s',
      ],
      { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, NO_COLOR: '1' } },
    );
    try {
      const firstHookMs = (await waitForHook(hookLog, 'first.watched.test', 60_000)) - started;
      const times: number[] = [];
      for (let i = 0; i < samples; i++) {
        const name = `late-${i}.watched.test`;
        healthy.addCertificate(ca.issue({ dnsNames: [name] }));
        healthy.publish();
        const appeared = performance.now();
        times.push((await waitForHook(hookLog, name, 60_000)) - appeared);
      }
      return { scenario: label, firstHookMs, samples: times };
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  } finally {
    for (const s of servers) await s.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchMonitorLatency(samples = 10): Promise<LatencyRow[]> {
  return [
    await scenario('one healthy log', false, samples),
    await scenario('one healthy + one stuck log', true, samples),
  ];
}

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
};

export function formatLatencyRows(rows: readonly LatencyRow[]): string {
  const base = rows[0] ? quantile(rows[0].samples, 0.5) : NaN;
  return formatTable(
    ['logs', 'start → first hook', 'new cert → hook p50', 'p90', 'max', 'p50 vs healthy only'],
    rows.map((r) => [
      r.scenario,
      `${(r.firstHookMs / 1000).toFixed(2)} s`,
      `${(quantile(r.samples, 0.5) / 1000).toFixed(2)} s`,
      `${(quantile(r.samples, 0.9) / 1000).toFixed(2)} s`,
      `${(Math.max(...r.samples) / 1000).toFixed(2)} s`,
      `${(quantile(r.samples, 0.5) / base).toFixed(2)}×`,
    ]),
  );
}
