/**
 * The monitor on PostgreSQL (the same scenario, the real engine), the CAA heuristic against the
 * real DNS stack (Knot + Unbound), and the daemon picking up a changed watch list without a restart.
 */
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCtLogServer, writeLogList } from './fixtures/ct-log/index.js';
import type { CtLogServer } from './fixtures/ct-log/index.js';
import { CLI, jsonLines, runCli } from './cli-run.js';
import { startDnsStack } from './harness/dns-stack.js';
import type { DnsStack } from './harness/dns-stack.js';
import { startPostgres } from './harness/postgres.js';
import type { PostgresServer } from './harness/postgres.js';
import { buildScenario } from './monitor-scenario.js';

let work: string;
let pg: PostgresServer;
let dns: DnsStack;
const servers: CtLogServer[] = [];
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-monitor-more-'));
  [pg, dns] = await Promise.all([
    startPostgres(),
    // A policy for the CAA heuristic: only "allowed-ca.example" may issue under monitored.caa.test.
    startDnsStack({ extraRecords: ['monitored CAA 0 issue "allowed-ca.example"'] }),
  ]);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all([pg?.stop(), dns?.stop()]);
  await rm(work, { recursive: true, force: true });
});

async function serve(dir: string, bulk = 200) {
  const scenario = await buildScenario(dir, { bulk });
  const server = await startCtLogServer(scenario.log, { rfc6962Prefix: '/logs/s/' });
  servers.push(server);
  const list = join(dir, 'loglist.json');
  await writeLogList(list, [{ server, api: 'rfc6962' }]);
  return { scenario, server, list };
}

describe('PostgreSQL state', () => {
  it('gives the same issuances as SQLite, and resumes from PostgreSQL', async () => {
    const dir = join(work, 'pg');
    const { scenario, list } = await serve(dir);
    const config = join(dir, 'config.yaml');
    await writeFile(config, 'caaResolver: false\nalerts:\n  exec: { command: "cat >/dev/null" }\n');
    const base = [
      'monitor',
      '--once',
      '--log-list',
      list,
      '--watchlist',
      scenario.watchlist,
      '--inventory',
      scenario.inventoryDir,
      '--config',
      config,
    ];
    const database = await pg.createDatabase();
    const onPg = await runCli([...base, '--state-dir', join(dir, 'unused'), '--database', database]);
    expect(onPg.code, onPg.stderr).toBe(0);
    const onSqlite = await runCli([...base, '--state-dir', join(dir, 'sqlite')]);
    expect(onSqlite.code, onSqlite.stderr).toBe(0);
    const list1 = jsonLines((await runCli(['certs', 'list', '--database', database, '--json'])).stdout);
    const list2 = jsonLines(
      (await runCli(['certs', 'list', '--state-dir', join(dir, 'sqlite'), '--json'])).stdout,
    );
    const strip = (rows: Record<string, unknown>[]) => rows.map(({ firstSeen: _f, ...rest }) => rest);
    expect(strip(list1)).toEqual(strip(list2));
    expect(list1.filter((c) => c.known === false)).toHaveLength(1);
    // A second run against PostgreSQL reads nothing new.
    const again = await runCli([...base, '--database', database]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/0 new entries/);
  });
});

describe('the CAA heuristic', () => {
  it('marks an issuance critical when the name’s current CAA does not allow the issuing CA', async () => {
    const dir = join(work, 'caa');
    const { scenario, list } = await serve(dir, 0);
    scenario.log.addCertificate(scenario.ca.issue({ dnsNames: ['www.monitored.caa.test'] }));
    scenario.log.publish();
    await writeFile(scenario.watchlist, '.monitored.caa.test\n');
    const config = join(dir, 'config.yaml');
    await writeFile(
      config,
      `caaResolver: "${dns.resolver.host}:${dns.resolver.port}"\n` +
        'caaIssuers: { "certvigil test": ["certvigil-test-ca.example"] }\n' +
        'alerts:\n  exec: { command: "cat >/dev/null" }\n',
    );
    const state = join(dir, 'state');
    const run = await runCli([
      'monitor',
      '--once',
      '--log-list',
      list,
      '--watchlist',
      scenario.watchlist,
      '--state-dir',
      state,
      '--config',
      config,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const [cert] = jsonLines((await runCli(['certs', 'list', '--state-dir', state, '--json'])).stdout);
    expect(cert).toMatchObject({ known: false, severity: 'critical' });
    const caa = (cert?.reasons as { code: string; message: string }[]).find(
      (r) => r.code === 'caa-disallowed',
    );
    expect(caa?.message).toMatch(/allowed-ca\.example/);
  });
});

describe('the daemon', () => {
  it('picks up a changed watch list without a restart, and stops cleanly on SIGTERM', async () => {
    const dir = join(work, 'daemon');
    const { scenario, list } = await serve(dir, 0);
    const state = join(dir, 'state');
    const child = spawn(
      process.execPath,
      [
        CLI,
        'monitor',
        '--interval',
        '1',
        '--log-list',
        list,
        '--watchlist',
        scenario.watchlist,
        '--state-dir',
        state,
        '--caa-resolver',
        'off',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const cycles: string[] = [];
    createInterface({ input: child.stderr }).on('line', (l) => {
      if (l.startsWith('alerts:')) cycles.push(l);
    });
    const waitCycles = async (count: number): Promise<void> => {
      for (let i = 0; i < 200 && cycles.length < count; i++) await new Promise((r) => setTimeout(r, 100));
      expect(cycles.length).toBeGreaterThanOrEqual(count);
    };
    await waitCycles(1);
    // A new name to watch, and a certificate for it logged afterwards.
    await appendFile(scenario.watchlist, 'new.watched.test\n');
    scenario.log.addCertificate(scenario.ca.issue({ dnsNames: ['new.watched.test'] }));
    scenario.log.publish();
    const before = cycles.length;
    await waitCycles(before + 2);
    const names = jsonLines((await runCli(['certs', 'list', '--state-dir', state, '--json'])).stdout).map(
      (c) => c.dnsNames,
    );
    expect(names).toContainEqual(['new.watched.test']);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(0);
  }, 60_000);
});
