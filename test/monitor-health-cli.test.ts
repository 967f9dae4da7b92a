/**
 * `certvigil status` and `certvigil check monitor` (issue 13) against a real state: one written by
 * a real `monitor --once` run on the local CT log, then given crafted health records through the
 * store (what the daemon's `onLogHealth` writes after each attempt).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/index.js';
import type { LogHealthRecord, Store } from '../src/store/index.js';
import type { CtLogServer } from './fixtures/ct-log/index.js';
import { runMonitorOnce, startMonitorSetup } from './fixtures/monitor-run.js';
import { runCli } from './cli-run.js';
import { startPostgres } from './harness/postgres.js';
import type { PostgresServer } from './harness/postgres.js';

let work: string;
let server: CtLogServer;
let stateDir: string;
let logId: string;
let logUrl: string;
/** The verified tree size after the run: a health record with it says "caught up". */
let verifiedSize: number;
let list: string;
let config: string;
let watchlist: string;
let inventoryDir: string;

async function withWritableStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ stateDir });
  await store.migrate();
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function putHealth(over: Partial<LogHealthRecord>): Promise<void> {
  const now = new Date().toISOString();
  await withWritableStore((s) =>
    s.putLogHealth({
      logId,
      url: logUrl,
      status: 'ok',
      lastAttemptAt: now,
      lastContactAt: now,
      lastError: null,
      newestTreeSize: verifiedSize,
      newestTreeTimestamp: null,
      updatedAt: now,
      ...over,
    }),
  );
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-health-'));
  const setup = await startMonitorSetup(work, { bulk: 20 });
  server = setup.server;
  list = setup.list;
  config = setup.config;
  stateDir = join(work, 'state');
  watchlist = setup.scenario.watchlist;
  inventoryDir = setup.scenario.inventoryDir;
  const run = await runMonitorOnce(setup, stateDir);
  expect([0, 1], run.stderr).toContain(run.code);
  const cursors = await withWritableStore((s) => s.listCursors());
  expect(cursors).toHaveLength(1);
  logId = cursors[0]?.logId ?? '';
  logUrl = cursors[0]?.url ?? '';
  verifiedSize = cursors[0]?.verified?.treeSize ?? -1;
  expect(verifiedSize).toBeGreaterThan(0);
}, 120_000);

afterAll(async () => {
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

describe('what the monitor records itself (no crafted records)', () => {
  it('status: the log ok, contacted and caught up, the log list it used, the last pass; check monitor OK', async () => {
    const out = await runCli(['status', '--state-dir', stateDir, '--json']);
    expect(out.code, out.stderr).toBe(0);
    const r = JSON.parse(out.stdout.trim()) as {
      logs: Record<string, unknown>[];
      logList: Record<string, unknown>;
      lastCycleAt: unknown;
    };
    expect(r.logs).toHaveLength(1);
    expect(r.logs[0]).toMatchObject({ url: logUrl, status: 'ok', backlog: 0, treeSize: verifiedSize });
    expect(r.logs[0]?.lastContact).toEqual(expect.any(String));
    expect(String(r.logList.source)).toContain('loglist.json');
    expect(r.logList.fetchedAt).toEqual(expect.any(String));
    expect(r.lastCycleAt).toEqual(expect.any(String));
    const check = await runCli(['check', 'monitor', '--state-dir', stateDir]);
    expect(check.code, check.stdout).toBe(0);
    expect(check.stdout).toMatch(/^CERTVIGIL OK - /);
  });
});

describe('certvigil status', () => {
  it('--json: the contract object, from a real monitor run', async () => {
    await putHealth({});
    const out = await runCli(['status', '--state-dir', stateDir, '--json']);
    expect(out.code, out.stderr).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const r = JSON.parse(lines[0] ?? '') as {
      logs: Record<string, unknown>[];
      pendingAlerts: number;
      logList: Record<string, unknown>;
    };
    expect(r.logs).toHaveLength(1);
    const [log] = r.logs;
    for (const key of ['url', 'treeSize', 'position', 'verifiedSize', 'backlog', 'lastContact', 'status'])
      expect(log).toHaveProperty(key);
    expect(log?.url).toBe(logUrl);
    expect(log?.status).toBe('ok');
    expect(log?.position).toBe(log?.verifiedSize);
    expect(log?.treeSize).toBe(log?.verifiedSize);
    expect(log?.backlog).toBe(0);
    expect(typeof r.pendingAlerts).toBe('number');
    expect(r.logList).toHaveProperty('source');
    expect(r.logList).toHaveProperty('fetchedAt');
  });

  it('backlog is the newest tree size minus the position; human output is a sanitised table', async () => {
    await putHealth({
      status: 'unreachable',
      newestTreeSize: 10_000,
      lastError: 'HTTP 503 \u001b[2J\u001b]0;pwned\u0007 from the log',
    });
    const json = await runCli(['status', '--state-dir', stateDir, '--json']);
    const [log] = (
      JSON.parse(json.stdout) as { logs: { backlog: number; position: number; treeSize: number }[] }
    ).logs;
    expect(log?.treeSize).toBe(10_000);
    expect(log?.backlog).toBe(10_000 - (log?.position ?? 0));
    const out = await runCli(['status', '--state-dir', stateDir]);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(
      /^STATUS\s+TREE\s+VERIFIED\s+POSITION\s+BACKLOG\s+BEHIND\s+LAST CONTACT\s+LOG/m,
    );
    expect(out.stdout).toContain('unreachable');
    expect(out.stdout).toContain(String(10_000 - (log?.position ?? 0)));
    expect(out.stdout).toMatch(/alerts pending: \d+/);
    expect(out.stdout).not.toContain('\u001b');
    expect(out.stdout).not.toContain('\u0007');
  });

  it('no state: "no certvigil state at DIR", exit 2, nothing created', async () => {
    const missing = join(work, 'nothing-here');
    const out = await runCli(['status', '--state-dir', missing]);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/^certvigil: no certvigil state at .*nothing-here/);
    expect(out.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(missing)).toBe(false);
  });

  it('--help states the exit statuses', async () => {
    const out = await runCli(['status', '--help']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/Exit status: 0 .*2 no certvigil/s);
  });
});

describe('certvigil check monitor', () => {
  const check = (...extra: string[]) => runCli(['check', 'monitor', '--state-dir', stateDir, ...extra]);

  it('OK after a real run: every log verified within --max-age', async () => {
    await putHealth({});
    const out = await check();
    expect(out.stdout.split('\n')[0]).toMatch(
      /^CERTVIGIL OK - 1 logs verified within 1h.* \| logs=1;;;0 stale=0/,
    );
    expect(out.stdout).toMatch(/max_behind=\d+s;;3600;0/);
    expect(out.code).toBe(0);
  });

  it('WARNING: unreachable but verified within --max-age', async () => {
    await putHealth({ status: 'unreachable', lastError: 'connect ECONNREFUSED' });
    const out = await check();
    expect(out.stdout).toMatch(/^CERTVIGIL WARNING - 1 unreachable/);
    expect(out.stdout).toContain('[WARNING]');
    expect(out.code).toBe(1);
  });

  it('CRITICAL: a misbehaving log', async () => {
    await putHealth({ status: 'misbehaving', lastError: 'entries hash to X but the log signed Y' });
    const out = await check('--json');
    expect(out.code).toBe(2);
    const v = JSON.parse(out.stdout) as { status: string; findings: { id: string }[] };
    expect(v.status).toBe('CRITICAL');
    expect(v.findings.map((f) => f.id)).toContain('log-misbehaving');
  });

  it('CRITICAL: behind, and the verified head is older than --max-age', async () => {
    // The log shows a bigger tree than the one verified: only the verified head's time counts.
    await putHealth({ newestTreeSize: 1_000_000 });
    await new Promise((r) => setTimeout(r, 2100));
    const out = await check('--max-age', '2s');
    expect(out.stdout).toMatch(/^CERTVIGIL CRITICAL - 1 of 1 logs not verified within 2s/);
    expect(out.code).toBe(2);
    // Caught up at a recent contact (the newest head the log showed is the verified one): fresh again.
    await putHealth({ newestTreeSize: verifiedSize });
    expect((await check('--max-age', '2s')).code).toBe(0);
  });

  it('UNKNOWN (3): no state at D, nothing created', async () => {
    const missing = join(work, 'no-state');
    const out = await runCli(['check', 'monitor', '--state-dir', missing]);
    expect(out.stdout).toMatch(/^CERTVIGIL UNKNOWN - no certvigil state at .*no-state/);
    expect(out.code).toBe(3);
    expect(existsSync(missing)).toBe(false);
  });

  it('UNKNOWN (3): a bad --max-age, before touching the state', async () => {
    const before = await readdir(stateDir);
    const out = await check('--max-age', 'soon');
    expect(out.stdout).toMatch(/^CERTVIGIL UNKNOWN - --max-age must be a duration/);
    expect(out.code).toBe(3);
    expect(await readdir(stateDir)).toEqual(before);
  });

  it('--help states the exit statuses', async () => {
    const out = await runCli(['check', 'monitor', '--help']);
    expect(out.stdout).toMatch(/Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN/);
  });
});

describe('on PostgreSQL (--database)', () => {
  let pg: PostgresServer;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await pg?.stop();
  });

  it('status and check monitor read a state a real monitor --once wrote', async () => {
    const url = await pg.createDatabase();
    const run = await runCli([
      'monitor',
      '--once',
      '--log-list',
      list,
      '--watchlist',
      watchlist,
      '--database',
      url,
      '--inventory',
      inventoryDir,
      '--config',
      config,
    ]);
    expect([0, 1], run.stderr).toContain(run.code);
    const status = await runCli(['status', '--database', url, '--json']);
    expect(status.code, status.stderr).toBe(0);
    const r = JSON.parse(status.stdout) as {
      logs: { url: string; position: number; verifiedSize: number }[];
    };
    expect(r.logs.map((l) => l.url)).toEqual([logUrl]);
    expect(r.logs[0]?.position).toBe(r.logs[0]?.verifiedSize);
    const check = await runCli(['check', 'monitor', '--database', url]);
    expect(check.stdout).toMatch(/^CERTVIGIL OK - 1 logs verified/);
    expect(check.code).toBe(0);
  });

  it('a database without certvigil schema: status exit 2, check monitor UNKNOWN 3, nothing created', async () => {
    const url = await pg.createDatabase();
    const status = await runCli(['status', '--database', url]);
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/^certvigil: no certvigil state at /);
    const check = await runCli(['check', 'monitor', '--database', url]);
    expect(check.stdout).toMatch(/^CERTVIGIL UNKNOWN - no certvigil state at /);
    expect(check.code).toBe(3);
    // Still no schema: a second status says the same.
    expect((await runCli(['status', '--database', url])).code).toBe(2);
  });
});
