/**
 * Issue 14: a monitor store written by root must be readable by the monitoring user (`check
 * monitor` as `nagios`). `certvigil monitor --group GROUP` shares the state directory read-only
 * with a group (2750, database 0640, rollback journal); the checks then read it as another uid,
 * while the monitor daemon holds it open and writes, and after it stopped. Real uids: the writer is
 * this (root) process's CLI, the reader runs under `setpriv` as nobody:nogroup with no other groups.
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shareStateDir } from '../src/state-files.js';
import { openStore } from '../src/store/index.js';
import { CLI, runCli } from './cli-run.js';
import type { CliResult } from './cli-run.js';
import type { CtLogServer } from './fixtures/ct-log/index.js';
import { monitorArgs as args, startMonitorSetup } from './fixtures/monitor-run.js';
import type { MonitorSetup } from './fixtures/monitor-run.js';
import { startPostgres } from './harness/postgres.js';
import type { PostgresServer } from './harness/postgres.js';

/** nobody:nogroup on Debian. */
const READER = { uid: 65534, gid: 65534, group: 'nogroup' };

let work: string;
let server: CtLogServer;
let setup: MonitorSetup;
let config: string;

/** The CLI as nobody:nogroup, supplementary groups dropped (Node's `uid` option would keep root's). */
function runAsReader(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      'setpriv',
      [`--reuid=${READER.uid}`, `--regid=${READER.gid}`, '--clear-groups', process.execPath, CLI, ...args],
      { env: { ...process.env, NO_COLOR: '1', HOME: '/nonexistent' }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const monitorArgs = (stateDir: string, extra: string[] = []): string[] => args(setup, stateDir, extra);

/** The journal mode recorded in the database header (bytes 18/19: 1 rollback, 2 WAL). */
function headerJournal(db: string): 'rollback' | 'wal' {
  const header = readFileSync(db).subarray(0, 20);
  return header[18] === 2 ? 'wal' : 'rollback';
}

const mode = (path: string): number => statSync(path).mode & 0o7777;

beforeAll(async () => {
  if (process.getuid?.() !== 0)
    throw new Error('this test creates the store as root and reads it as nobody: run it as root (CI does)');
  work = await mkdtemp(join(tmpdir(), 'certvigil-shared-'));
  // The reader must be able to reach the state directories below.
  await chmod(work, 0o755);
  setup = await startMonitorSetup(work, { bulk: 20 });
  server = setup.server;
  config = setup.config;
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('a private store (the default) and a reader of another uid', () => {
  it('is refused with the reason and the fix, not "no certvigil state" or a raw SQLite error', async () => {
    const stateDir = join(work, 'private');
    const run = await runCli([...monitorArgs(stateDir), '--once']);
    expect([0, 1], run.stderr).toContain(run.code);
    expect(mode(stateDir)).toBe(0o700);
    expect(mode(join(stateDir, 'certvigil.sqlite3'))).toBe(0o600);
    const check = await runAsReader(['check', 'monitor', '--state-dir', stateDir]);
    expect(check.code).toBe(3);
    expect(check.stdout).toMatch(
      /^CERTVIGIL UNKNOWN - cannot open SQLite database: .* is not readable by you \(uid 65534\)/,
    );
    expect(check.stdout).toContain('certvigil monitor --group GROUP');
    expect(check.stdout.trimEnd().split('\n')).toHaveLength(1);
  }, 60_000);
});

describe('monitor --group: shared read-only with a group', () => {
  let stateDir: string;
  let db: string;

  beforeAll(async () => {
    stateDir = join(work, 'shared');
    db = join(stateDir, 'certvigil.sqlite3');
    const run = await runCli([...monitorArgs(stateDir, ['--group', READER.group]), '--once']);
    expect([0, 1], run.stderr).toContain(run.code);
  }, 60_000);

  it('makes the directory 2750 and the database 0640 of the group, rollback journal, run lock private', () => {
    expect(mode(stateDir)).toBe(0o2750);
    expect(statSync(stateDir).gid).toBe(READER.gid);
    expect(mode(db)).toBe(0o640);
    expect(statSync(db).gid).toBe(READER.gid);
    expect(mode(`${db}.lock`)).toBe(0o600);
    expect(headerJournal(db)).toBe('rollback');
    expect(existsSync(`${db}-wal`)).toBe(false);
  });

  it('check monitor as nobody:nogroup reads it with no writer running', async () => {
    const check = await runAsReader(['check', 'monitor', '--state-dir', stateDir]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/^CERTVIGIL OK - /);
  }, 60_000);

  it('check mitm and status as nobody read it too (no baseline here: UNKNOWN for that reason)', async () => {
    const mitm = await runAsReader(['check', 'mitm', '127.0.0.1', '--state-dir', stateDir, '--no-trace']);
    expect(mitm.code).toBe(3);
    expect(mitm.stdout).toMatch(/^CERTVIGIL UNKNOWN - 127\.0\.0\.1: no baseline learned/);
    const status = await runAsReader(['status', '--state-dir', stateDir, '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect((JSON.parse(status.stdout) as { logs: unknown[] }).logs).toHaveLength(1);
  }, 60_000);

  it('and while the monitor daemon holds it open and writes; nothing of the reader is left behind', async () => {
    const daemon: ChildProcess = spawn(
      process.execPath,
      [CLI, ...monitorArgs(stateDir, ['--group', READER.group, '--interval', '1s'])],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
    );
    let stderr = '';
    daemon.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      // The daemon writes its status after every pass: read while it does, several times.
      const until = Date.now() + 4000;
      let reads = 0;
      while (Date.now() < until || reads < 3) {
        const check = await runAsReader(['check', 'monitor', '--state-dir', stateDir]);
        expect(check.code, `${check.stdout}${check.stderr}\ndaemon: ${stderr}`).toBe(0);
        reads++;
      }
      expect(daemon.exitCode, stderr).toBeNull();
      expect(stderr).not.toMatch(/SQLITE_BUSY|database is locked/);
    } finally {
      daemon.kill('SIGTERM');
      await new Promise((resolve) => daemon.once('exit', resolve));
    }
    expect(daemon.exitCode, stderr).toBe(0);
    // The reader created nothing in the directory (it cannot), and the state stayed shared.
    expect(mode(db)).toBe(0o640);
    expect(existsSync(`${db}-wal`)).toBe(false);
    const after = await runAsReader(['check', 'monitor', '--state-dir', stateDir]);
    expect(after.code, after.stdout).toBe(0);
  }, 60_000);

  it('other writers (certs authorize) keep it shared: the mode lives in the directory', async () => {
    const r = await runCli(['certs', 'authorize', 'a'.repeat(64), '--state-dir', stateDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(headerJournal(db)).toBe('rollback');
    const check = await runAsReader(['check', 'monitor', '--state-dir', stateDir]);
    expect(check.code, check.stdout).toBe(0);
  }, 60_000);
});

describe('group: in the config file', () => {
  it('shares the state as --group does', async () => {
    const stateDir = join(work, 'shared-by-config');
    const withGroup = join(work, 'config-group.yaml');
    await writeFile(withGroup, `${readFileSync(config, 'utf8')}group: ${READER.group}\n`);
    const args = monitorArgs(stateDir);
    args[args.indexOf(config)] = withGroup;
    const run = await runCli([...args, '--once']);
    expect([0, 1], run.stderr).toContain(run.code);
    expect(mode(stateDir)).toBe(0o2750);
    expect(headerJournal(join(stateDir, 'certvigil.sqlite3'))).toBe('rollback');
    const check = await runAsReader(['check', 'monitor', '--state-dir', stateDir]);
    expect(check.code, check.stdout).toBe(0);
  }, 60_000);
});

describe('a WAL store made group-readable by hand, without --group', () => {
  it('is refused with the WAL reason; the next `monitor --group` converts it', async () => {
    const stateDir = join(work, 'wal-by-hand');
    const store = await openStore({ stateDir });
    await store.migrate();
    await store.close();
    const db = join(stateDir, 'certvigil.sqlite3');
    expect(headerJournal(db)).toBe('wal');
    // What an admin would do with chgrp/chmod: the files readable, the store still in WAL mode.
    await shareStateDir(stateDir, READER.gid, [db]);
    const refused = await runAsReader(['check', 'monitor', '--state-dir', stateDir]);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toMatch(/is in WAL mode and no writer has it open/);
    expect(refused.stdout).toContain('--group');
    const run = await runCli([...monitorArgs(stateDir, ['--group', READER.group]), '--once']);
    expect([0, 1], run.stderr).toContain(run.code);
    expect(headerJournal(db)).toBe('rollback');
    const ok = await runAsReader(['check', 'monitor', '--state-dir', stateDir]);
    expect(ok.code, ok.stdout).toBe(0);
  }, 60_000);
});

describe('PostgreSQL: the read-only role of the docs', () => {
  let pg: PostgresServer | undefined;
  afterAll(async () => {
    await pg?.stop();
  });

  it('check monitor reads with it; a writer with it is refused by the server', async () => {
    pg = await startPostgres();
    const url = await pg.createDatabase();
    const run = await runCli([...monitorArgs(join(work, 'pg-unused'), ['--database', url]), '--once']);
    expect([0, 1], run.stderr).toContain(run.code);
    // The SQL block of docs/monitoring-plugin.md, run as the tables' owner (here the superuser).
    const docs = readFileSync(join(import.meta.dirname, '../docs/monitoring-plugin.md'), 'utf8');
    const block = /^```sql\n([\s\S]*?)^```/m.exec(docs)?.[1] ?? '';
    expect(block).toContain('GRANT SELECT ON ALL TABLES');
    const dbName = new URL(url).pathname.slice(1);
    const sql = postgres(url, { onnotice: () => undefined });
    try {
      for (const statement of block.replace(/--.*$/gm, '').split(';')) {
        if (statement.trim() !== '')
          await sql.unsafe(statement.replace('DATABASE certvigil', `DATABASE "${dbName}"`));
      }
    } finally {
      await sql.end();
    }
    const readerUrl = url.replace(/\/\/[^@/]*@/, '//nagios@');
    expect(readerUrl).not.toBe(url);
    const check = await runCli(['check', 'monitor', '--database', readerUrl]);
    expect(check.code, check.stdout).toBe(0);
    expect(check.stdout).toMatch(/^CERTVIGIL OK - /);
    const write = await runCli(['certs', 'authorize', 'b'.repeat(64), '--database', readerUrl]);
    expect(write.code).not.toBe(0);
    expect(write.stderr).toMatch(/permission denied/);
  }, 120_000);
});

describe('--group usage errors: exit 2, one line, nothing created', () => {
  it.each([
    [
      'an unknown group',
      ['--group', 'no-such-group-certvigil'],
      /--group "no-such-group-certvigil": no such group/,
    ],
    ['an empty group', ['--group', ''], /--group must not be empty/],
    ['a bad name', ['--group', 'a b'], /is not a group name or number/],
    [
      'with --database',
      ['--group', 'nogroup', '--database', 'postgres://u@127.0.0.1/db'],
      /with --database, give the monitoring user a read-only PostgreSQL role/,
    ],
  ])('%s', async (_name, extra, message) => {
    const stateDir = join(work, `usage-${extra.join('_').replace(/\W/g, '')}`);
    const r = await runCli([...monitorArgs(stateDir, extra), '--once']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(existsSync(stateDir)).toBe(false);
  });

  it('a group the user is not in', async () => {
    const stateDir = join(work, 'usage-not-member');
    const r = await new Promise<CliResult>((resolve) => {
      execFile(
        'setpriv',
        [
          `--reuid=${READER.uid}`,
          `--regid=${READER.gid}`,
          '--clear-groups',
          process.execPath,
          CLI,
          ...monitorArgs(stateDir, ['--group', 'root']),
          '--once',
        ],
        { env: { ...process.env, NO_COLOR: '1', HOME: '/nonexistent' } },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code) : 0, stdout, stderr }),
      );
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/you \(uid 65534\) are not a member of group 0/);
    expect(existsSync(stateDir)).toBe(false);
    await sleep(0);
  });
});
