/**
 * `monitor --once --json`: the run as one JSON object on the LAST line of stdout (issue 18's
 * contract names `entriesRead`: what this process read), after any stdout alerts; `--json` without
 * `--once` is a usage error that creates nothing.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCtLogServer, writeLogList } from './fixtures/ct-log/index.js';
import type { CtLogServer } from './fixtures/ct-log/index.js';
import { runCli } from './cli-run.js';
import { buildScenario } from './monitor-scenario.js';
import type { Scenario } from './monitor-scenario.js';

let work: string;
let scenario: Scenario;
let server: CtLogServer;
let list: string;
let config: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-once-json-'));
  scenario = await buildScenario(join(work, 'scenario'), { bulk: 300 });
  server = await startCtLogServer(scenario.log, { rfc6962Prefix: '/logs/s/' });
  list = join(work, 'loglist.json');
  await writeLogList(list, [{ server, api: 'rfc6962' }]);
  config = join(work, 'config.yaml');
  await writeFile(config, 'caaResolver: false\nalerts:\n  stdout: true\n');
});

afterAll(async () => {
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const args = (stateDir: string): string[] => [
  'monitor',
  '--once',
  '--json',
  '--log-list',
  list,
  '--watchlist',
  scenario.watchlist,
  '--inventory',
  scenario.inventoryDir,
  '--config',
  config,
  '--state-dir',
  stateDir,
];

describe('monitor --once --json', () => {
  it('ends stdout with one object: entriesRead = the log size on a first run, 0 on the next; alerts come before it', async () => {
    const state = join(work, 'state');
    const first = await runCli(args(state));
    expect(first.code, first.stderr).toBe(0);
    const lines = first.stdout.trim().split('\n');
    const last = JSON.parse(lines[lines.length - 1] as string) as {
      entriesRead: number;
      exitCode: number;
      logs: { url: string; status: string; entriesRead: number; treeSize: number; position: number }[];
    };
    expect(last.entriesRead).toBe(scenario.log.size);
    expect(last.exitCode).toBe(0);
    expect(last.logs).toHaveLength(1);
    expect(last.logs[0]).toMatchObject({
      status: 'ok',
      treeSize: scenario.log.size,
      position: scenario.log.size,
    });
    // The attacker's alert (stdout sink) precedes the summary line.
    const alerts = lines.slice(0, -1).map((l) => JSON.parse(l) as { type?: string });
    expect(alerts.some((a) => a.type === 'issuance')).toBe(true);

    const again = await runCli(args(state));
    expect(again.code, again.stderr).toBe(0);
    const next = JSON.parse(again.stdout.trim().split('\n').pop() as string) as { entriesRead: number };
    expect(next.entriesRead).toBe(0);
  });

  it('--json without --once: exit 2, one line, no state created', async () => {
    const state = join(work, 'never');
    const r = await runCli(args(state).filter((a) => a !== '--once'));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--json goes with --once');
    expect(existsSync(state)).toBe(false);
  });
});
