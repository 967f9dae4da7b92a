/**
 * Issue 18's CONTRACT: several `certvigil monitor --once --database postgres://…` processes share one
 * PostgreSQL store, each claiming work units under a lease. Two workers started at once on a
 * 200,000-entry log both exit 0, each read some entries and together exactly the log; the stored
 * issuances (tbsSha256 with their entries) equal one process's; no alert is enqueued or delivered
 * twice. A worker killed (SIGKILL) or stalled past its lease (SIGSTOP) loses its unit to the
 * other, and the result is still exact. Both log kinds (RFC 6962, static-ct-api).
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCtLogServer, writeLogList } from './fixtures/ct-log/index.js';
import type { CtLogServer } from './fixtures/ct-log/index.js';
import { CompactTree } from '../src/ct/index.js';
import { openStore } from '../src/store/index.js';
import { CLI, jsonLines } from './cli-run.js';
import { startPostgres } from './harness/postgres.js';
import type { PostgresServer } from './harness/postgres.js';
import { buildScenario } from './monitor-scenario.js';
import type { Scenario } from './monitor-scenario.js';

const ENTRIES = Number(process.env.CERTVIGIL_WORKERS_ENTRIES ?? 200_000);
const TEST_MS = 300_000;

let work: string;
let pg: PostgresServer;
let scenario: Scenario;
let server: CtLogServer;
const lists: Record<'rfc6962' | 'static', string> = { rfc6962: '', static: '' };
let watchlist: string;
let config: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-workers-'));
  [pg, scenario] = await Promise.all([
    startPostgres(),
    buildScenario(join(work, 'scenario'), { bulk: ENTRIES - 8, staticCtApi: true }),
  ]);
  server = await startCtLogServer(scenario.log, { rfc6962Prefix: '/logs/w/', staticPrefix: '/static/' });
  for (const api of ['rfc6962', 'static'] as const) {
    lists[api] = join(work, `loglist-${api}.json`);
    await writeLogList(lists[api], [{ server, api }]);
  }
  // The bulk names are watched too: thousands of issuances with hundreds of entries each to compare.
  watchlist = join(work, 'watchlist');
  await writeFile(watchlist, '.example.test\n.bulk.test\n');
  config = join(work, 'config.yaml');
  await writeFile(config, 'caaResolver: false\nalerts:\n  stdout: true\n');
}, 180_000);

afterAll(async () => {
  await server?.close();
  await pg?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

interface Worker {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function startWorker(db: string, api: 'rfc6962' | 'static', id: string, lease = '3s'): Worker {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'monitor',
      '--once',
      '--json',
      '--database',
      db,
      '--log-list',
      lists[api],
      '--watchlist',
      watchlist,
      '--config',
      config,
      '--worker-id',
      id,
      '--unit-lease',
      lease,
    ],
    { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** The last stdout line of `monitor --once --json`. */
function summaryOf(stdout: string): { entriesRead: number; exitCode: number } {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] as string) as { entriesRead: number; exitCode: number };
}

/** The issuance alerts a worker's stdout sink delivered (every line but the summary). */
function deliveredAlerts(stdout: string): string[] {
  const lines = stdout.trim().split('\n').slice(0, -1);
  return lines
    .map((l) => JSON.parse(l) as { type?: string; issuance?: { tbsSha256?: string } })
    .filter((e) => e.type === 'issuance')
    .map((e) => e.issuance?.tbsSha256 ?? '?');
}

/** The CLI with its whole stdout kept, however large. */
function runCliLarge(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000, maxBuffer: 1 << 30 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr: err && code === -1 ? `${err.message}\n${stderr}` : stderr });
      },
    );
  });
}

/** `certs list --json` as a comparable set: tbsSha256 → its sorted entries. */
async function certSet(db: string): Promise<Map<string, string>> {
  // Tens of megabytes of JSON for the 200,000-entry log: more than runCli's buffer.
  const r = await runCliLarge(['certs', 'list', '--database', db, '--json']);
  expect(r.code, r.stderr).toBe(0);
  const out = new Map<string, string>();
  for (const c of jsonLines(r.stdout) as {
    tbsSha256: string;
    entries: { index: number; type: string }[];
  }[]) {
    expect(out.has(c.tbsSha256), `issuance ${c.tbsSha256} listed twice`).toBe(false);
    out.set(
      c.tbsSha256,
      c.entries
        .map((e) => `${e.index}:${e.type}`)
        .sort()
        .join(','),
    );
  }
  return out;
}

const reference: Partial<Record<'rfc6962' | 'static', { certs: Map<string, string>; alerts: number }>> = {};

async function referenceFor(
  api: 'rfc6962' | 'static',
): Promise<{ certs: Map<string, string>; alerts: number }> {
  const cached = reference[api];
  if (cached) return cached;
  const db = await pg.createDatabase();
  const one = await startWorker(db, api, 'reference').done;
  expect(one.code, one.stderr.slice(-2000)).toBe(0);
  expect(summaryOf(one.stdout).entriesRead).toBe(scenario.log.size);
  const value = { certs: await certSet(db), alerts: deliveredAlerts(one.stdout).length };
  expect(value.certs.size).toBeGreaterThan(100);
  reference[api] = value;
  return value;
}

describe.each(['rfc6962', 'static'] as const)('two workers on one PostgreSQL store, %s', (api) => {
  it(
    'started at once: both exit 0, both read, together exactly the log; same issuances as one process; no alert twice',
    async () => {
      const ref = await referenceFor(api);
      const db = await pg.createDatabase();
      const [a, b] = [startWorker(db, api, 'w-a'), startWorker(db, api, 'w-b')];
      const [ra, rb] = await Promise.all([a.done, b.done]);
      expect(ra.code, ra.stderr.slice(-2000)).toBe(0);
      expect(rb.code, rb.stderr.slice(-2000)).toBe(0);
      const [sa, sb] = [summaryOf(ra.stdout), summaryOf(rb.stdout)];
      expect(sa.entriesRead).toBeGreaterThan(0);
      expect(sb.entriesRead).toBeGreaterThan(0);
      expect(sa.entriesRead + sb.entriesRead).toBe(scenario.log.size);
      expect(await certSet(db)).toEqual(ref.certs);
      const alerts = [...deliveredAlerts(ra.stdout), ...deliveredAlerts(rb.stdout)];
      expect(new Set(alerts).size).toBe(alerts.length);
      expect(alerts.length).toBe(ref.alerts);
    },
    TEST_MS,
  );

  it(
    'one worker SIGKILLed mid-run: the other finishes (reclaiming after the lease), a later run adds nothing, the result is exact',
    async () => {
      const ref = await referenceFor(api);
      const db = await pg.createDatabase();
      const [a, b] = [startWorker(db, api, 'w-a'), startWorker(db, api, 'w-b')];
      await new Promise((r) => setTimeout(r, 400 + Math.floor(Math.random() * 1500)));
      a.child.kill('SIGKILL');
      const [ra, rb] = await Promise.all([a.done, b.done]);
      expect(ra.signal).toBe('SIGKILL');
      expect(rb.code, rb.stderr.slice(-2000)).toBe(0);
      const again = await startWorker(db, api, 'w-c').done;
      expect(again.code, again.stderr.slice(-2000)).toBe(0);
      expect(await certSet(db)).toEqual(ref.certs);
    },
    TEST_MS,
  );

  it(
    'one worker stalled (SIGSTOP) past its lease: the other reclaims its unit; resumed, the stalled one commits nothing twice',
    async () => {
      const ref = await referenceFor(api);
      const db = await pg.createDatabase();
      const [a, b] = [startWorker(db, api, 'w-a', '1s'), startWorker(db, api, 'w-b', '1s')];
      await new Promise((r) => setTimeout(r, 500 + Math.floor(Math.random() * 1000)));
      // Stopped between transactions (the lease path; stopped inside one, its row locks stand
      // until it resumes: the test above). A stop that left a session waiting in a transaction is
      // undone and tried again a moment later.
      const watcher = postgres(db, { max: 1, onnotice: () => undefined });
      try {
        for (let tries = 0; ; tries++) {
          a.child.kill('SIGSTOP');
          await new Promise((r) => setTimeout(r, 150));
          if ((await idleInTransaction(watcher)) === 0) break;
          expect(tries, 'worker a was always stopped inside a transaction').toBeLessThan(100);
          a.child.kill('SIGCONT');
          await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 50)));
        }
      } finally {
        await watcher.end({ timeout: 1 });
      }
      const rb = await b.done;
      expect(rb.code, rb.stderr.slice(-2000)).toBe(0);
      a.child.kill('SIGCONT');
      const ra = await a.done;
      expect(ra.code, ra.stderr.slice(-2000)).toBe(0);
      const total = summaryOf(ra.stdout).entriesRead + summaryOf(rb.stdout).entriesRead;
      expect(total).toBe(scenario.log.size);
      expect(await certSet(db)).toEqual(ref.certs);
      const alerts = [...deliveredAlerts(ra.stdout), ...deliveredAlerts(rb.stdout)];
      expect(new Set(alerts).size).toBe(alerts.length);
    },
    TEST_MS,
  );
});

/** Sessions of the database inside a transaction and waiting on their client. */
async function idleInTransaction(watcher: postgres.Sql): Promise<number> {
  const rows = await watcher`
    SELECT 1 FROM pg_stat_activity
    WHERE datname = current_database() AND state = 'idle in transaction'`;
  return rows.length;
}

describe('a worker stopped inside a transaction (PostgreSQL)', () => {
  it(
    'keeps its rows locked: the other worker does not take its unit twice but waits; resumed, both exit 0 and the result is exact',
    async () => {
      const ref = await referenceFor('rfc6962');
      const db = await pg.createDatabase();
      const watcher = postgres(db, { max: 1, onnotice: () => undefined });
      try {
        const a = startWorker(db, 'rfc6962', 'w-a', '1s');
        // Stop worker a while one of its sessions is inside a transaction (a completion or a fold).
        // Each try stops it and checks that the stop landed inside; if not, a resumes.
        let inside = false;
        for (let tries = 0; tries < 400 && !inside; tries++) {
          const busy = await watcher`
            SELECT 1 FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL`;
          if (busy.length === 0) {
            await new Promise((r) => setTimeout(r, 5));
            continue;
          }
          a.child.kill('SIGSTOP');
          await new Promise((r) => setTimeout(r, 200));
          inside = (await idleInTransaction(watcher)) > 0;
          if (!inside) a.child.kill('SIGCONT');
        }
        expect(inside, 'worker a was never stopped inside a transaction').toBe(true);
        const b = startWorker(db, 'rfc6962', 'w-b', '1s');
        // a's lease has run out, but its row locks stand: b works everything else and then waits.
        await new Promise((r) => setTimeout(r, 4000));
        a.child.kill('SIGCONT');
        const [ra, rb] = await Promise.all([a.done, b.done]);
        expect(ra.code, ra.stderr.slice(-2000)).toBe(0);
        expect(rb.code, rb.stderr.slice(-2000)).toBe(0);
        expect(summaryOf(ra.stdout).entriesRead + summaryOf(rb.stdout).entriesRead).toBe(scenario.log.size);
        expect(await certSet(db)).toEqual(ref.certs);
        const alerts = [...deliveredAlerts(ra.stdout), ...deliveredAlerts(rb.stdout)];
        expect(new Set(alerts).size).toBe(alerts.length);
      } finally {
        await watcher.end({ timeout: 1 });
      }
    },
    TEST_MS,
  );
});

describe('status on a store shared by workers', () => {
  it('lists the units by state and each worker holding some, in text and JSON, escaping worker IDs', async () => {
    const db = await pg.createDatabase();
    const store = await openStore({ stateDir: join(work, 'unused-state'), databaseUrl: db });
    try {
      await store.migrate();
      const logId = Buffer.alloc(32, 9).toString('base64');
      await store.ensureCursor({
        logId,
        url: 'https://status.example/log/',
        kind: 'rfc6962',
        description: 'status test log',
        position: 0,
        tree: new CompactTree().toJSON(),
      });
      // Five units of 100: one held by each of two workers (one ID hostile), one whose lease
      // has run out, one done, one open.
      expect(await store.planUnits(logId, 500, 100, 500)).toBe(5);
      expect((await store.claimUnit(logId, 'host-a:101', 60_000))?.first).toBe(0);
      expect((await store.claimUnit(logId, 'evil\u202eworker', 60_000))?.first).toBe(100);
      expect((await store.claimUnit(logId, 'host-b:7', 60_000))?.first).toBe(200);
      expect((await store.claimUnit(logId, 'host-c:8', 60_000))?.first).toBe(300);
      const done = await store.completeUnit({
        logId,
        first: 300,
        workerId: 'host-c:8',
        leafHashes: new Uint8Array(100 * 32),
        issuances: [],
        malformed: [],
        alerts: [],
      });
      expect(done).toBe(true);
    } finally {
      await store.close();
    }
    // host-b's lease ran out (set on the server, whose clock the leases use): it died or stalled.
    const sql = postgres(db, { max: 1, onnotice: () => undefined });
    try {
      await sql`UPDATE work_units SET lease_until = now() - interval '1 second' WHERE worker_id = 'host-b:7'`;
    } finally {
      await sql.end({ timeout: 1 });
    }
    const json = await runCliLarge(['status', '--database', db, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout.trim().split('\n').pop() as string) as {
      units: {
        open: number;
        claimed: number;
        expired: number;
        done: number;
        workers: { workerId: string; holding: number }[];
      };
    };
    expect(report.units).toMatchObject({ open: 1, claimed: 2, expired: 1, done: 1 });
    expect(report.units.workers.map((w) => [w.workerId, w.holding])).toEqual([
      ['evil\u202eworker', 1],
      ['host-a:101', 1],
    ]);
    const text = await runCliLarge(['status', '--database', db]);
    expect(text.stdout).toContain(
      'work units: 1 open, 2 claimed, 1 with a run-out lease, 1 done (not folded yet)',
    );
    expect(text.stdout).toContain('worker host-a:101: 1 unit(s), lease until ');
    expect(text.stdout).not.toContain('\u202e');
  }, 60_000);
});
