/**
 * A throwaway PostgreSQL server on a loopback port for the store tests: `initdb` into a fresh
 * temporary directory, `postgres` in the foreground as our child (Daemon), a Unix socket directory
 * inside the work directory, trust authentication, `fsync=off`. `stop()` (or the exit handlers and
 * the watchdog of processes.ts if the test process dies) kills it and removes everything.
 *
 * Needs the Debian 12 package `postgresql` (which pulls in postgresql-15 and postgresql-client-15;
 * the binaries live in /usr/lib/postgresql/15/bin, not on PATH). Its system service need not run.
 *
 * PostgreSQL refuses to run as root, and CI runs as root: then initdb and postgres run as the
 * `postgres` system user that the Debian package creates, through `setpriv`, which execs in place
 * (unlike `runuser`, which forks and would stand between us and the server's PID), and the work
 * directory is handed to that user.
 */
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import {
  Daemon,
  LOOPBACK,
  Watchdog,
  installExitHandlers,
  runTool,
  startWithPortRetry,
  trackWorkDir,
  untrackWorkDir,
} from './processes.js';

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:PORT/certvigil`: a database created for the caller. */
  url: string;
  port: number;
  workDir: string;
  /** Creates another empty database and returns its URL (one per test keeps tests apart). */
  createDatabase(): Promise<string>;
  /** Stops the server (fast shutdown, then SIGKILL) and removes workDir. Safe to call twice. */
  stop(): Promise<void>;
}

/** Overall bound for the server to accept connections after it was spawned. */
const READY_TIMEOUT_MS = 30_000;
const SUPERUSER = 'postgres';
const PACKAGE_HINT = 'install the Debian package `postgresql` (postgresql-15 on Debian 12)';

/** The server binaries: Debian keeps them per major version off PATH; else ask pg_config. */
async function findBinDir(): Promise<string> {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return join(root, versions[0], 'bin');
  }
  try {
    const dir = (await runTool('pg_config', ['--bindir'], tmpdir())).trim();
    if (existsSync(join(dir, 'initdb'))) return dir;
  } catch {
    // no pg_config either
  }
  throw new Error(`PostgreSQL server binaries (initdb, postgres) not found: ${PACKAGE_HINT}`);
}

interface RunAs {
  /** Command and arguments that run `command args` as the server's user. */
  wrap(command: string, args: string[]): [string, string[]];
  /** Gives a directory to that user. */
  own(dir: string): Promise<void>;
}

async function runAs(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return { wrap: (c, a) => [c, a], own: async () => undefined };
  let uid: number;
  let gid: number;
  try {
    uid = Number((await runTool('id', ['-u', SUPERUSER], tmpdir())).trim());
    gid = Number((await runTool('id', ['-g', SUPERUSER], tmpdir())).trim());
  } catch (cause) {
    throw new Error(
      `running as root, but there is no \`${SUPERUSER}\` user to run PostgreSQL as: ${PACKAGE_HINT}`,
      {
        cause,
      },
    );
  }
  return {
    // --reset-env: HOME, USER, PATH of the postgres user; no PG* variables of ours leak in.
    wrap: (c, a) => [
      'setpriv',
      [`--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--reset-env', '--', c, ...a],
    ],
    own: (dir) => chown(dir, uid, gid),
  };
}

class PostgresStartError extends Error {
  constructor(
    message: string,
    readonly portClash: boolean,
  ) {
    super(message);
    this.name = 'PostgresStartError';
  }
}

/** pg_isready (a client: root may run it) exits 0 once the server accepts connections. */
async function accepting(binDir: string, port: number, cwd: string): Promise<boolean> {
  const args = ['-h', LOOPBACK, '-p', String(port), '-U', SUPERUSER, '-d', 'postgres', '-t', '1'];
  try {
    await runTool(join(binDir, 'pg_isready'), args, cwd);
    return true;
  } catch {
    return false;
  }
}

async function launchServer(
  binDir: string,
  workDir: string,
  port: number,
  as: RunAs,
  watchdog: Watchdog,
  daemons: Daemon[],
): Promise<Daemon> {
  const [command, args] = as.wrap(join(binDir, 'postgres'), [
    '-D',
    join(workDir, 'data'),
    '-p',
    String(port),
    '-c',
    `listen_addresses=${LOOPBACK}`,
    '-c',
    `unix_socket_directories=${join(workDir, 'sock')}`,
    // A throwaway cluster: durability is not what these tests are about.
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'shared_buffers=32MB',
    '-c',
    'max_connections=100',
    '-c',
    'logging_collector=off',
    '-c',
    'log_min_messages=warning',
  ]);
  const daemon = new Daemon('postgres', command, args, workDir, join(workDir, `postgres-${port}.out`));
  daemons.push(daemon);
  if (daemon.pid > 0) watchdog.watch(daemon.pid);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (daemon.running && Date.now() < deadline) {
    if (await accepting(binDir, port, workDir)) return daemon;
    await sleep(50);
  }
  const exited = !daemon.running;
  await stopServer(daemon);
  const logs = daemon.describeLogs();
  throw new PostgresStartError(
    `postgres ${exited ? 'exited during start-up' : `not accepting connections after ${READY_TIMEOUT_MS} ms`}\n${logs}`,
    exited && /could not bind|Address already in use|could not create any TCP\/IP sockets/i.test(logs),
  );
}

/** SIGINT is PostgreSQL's fast shutdown (sessions are ended); SIGTERM would wait for clients. */
async function stopServer(daemon: Daemon): Promise<void> {
  if (!daemon.running) return;
  daemon.child.kill('SIGINT');
  const exited = await Promise.race([daemon.exited.then(() => true), sleep(10_000).then(() => false)]);
  if (!exited) await daemon.stop(1_000); // SIGTERM, then SIGKILL
}

export async function startPostgres(): Promise<PostgresServer> {
  installExitHandlers();
  const binDir = await findBinDir();
  const as = await runAs();
  const workDir = await mkdtemp(join(tmpdir(), 'certvigil-pg-'));
  trackWorkDir(workDir);
  const watchdog = new Watchdog(workDir);
  const daemons: Daemon[] = [];
  let admin: postgres.Sql | undefined;
  let stopped: Promise<void> | undefined;

  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await watchdog.release();
      await admin?.end({ timeout: 1 }).catch(() => undefined);
      await Promise.all(daemons.map(stopServer));
      await rm(workDir, { recursive: true, force: true });
      untrackWorkDir(workDir);
    })());

  try {
    await mkdir(join(workDir, 'sock'));
    await as.own(workDir);
    await as.own(join(workDir, 'sock'));
    const [initdb, initArgs] = as.wrap(join(binDir, 'initdb'), [
      '-D',
      join(workDir, 'data'),
      '-U',
      SUPERUSER,
      '--auth=trust',
      '--encoding=UTF8',
      '--no-locale',
      '--no-sync',
    ]);
    await runTool(initdb, initArgs, workDir);
    const port = await startWithPortRetry(
      async (p) => {
        await launchServer(binDir, workDir, p, as, watchdog, daemons);
        return p;
      },
      (err) => err instanceof PostgresStartError && err.portClash,
    );
    const urlFor = (db: string): string => `postgres://${SUPERUSER}@${LOOPBACK}:${port}/${db}`;
    const adminSql = postgres(urlFor('postgres'), { max: 1, onnotice: () => undefined, connect_timeout: 10 });
    admin = adminSql;
    let databases = 0;
    const createDatabase = async (): Promise<string> => {
      const name = `certvigil_${++databases}`;
      await adminSql.unsafe(`CREATE DATABASE ${name}`);
      return urlFor(name);
    };
    return { url: await createDatabase(), port, workDir, createDatabase, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
