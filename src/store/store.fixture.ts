/**
 * Test support for the store suites: sample data builders, one "fresh state" factory per engine
 * (a temporary SQLite file, or a new database on the throwaway PostgreSQL server), raw SQL access
 * for the few things the `Store` interface rightly cannot do (rewind a cursor, read the migration
 * table), and child processes that hold locks or write until killed.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import postgres from 'postgres';
import { startPostgres } from '../../test/harness/postgres.js';
import type { PostgresServer } from '../../test/harness/postgres.js';
import { openPostgresStore } from './postgres.js';
import { openSqliteStore } from './sqlite.js';
import type { CommitBatch, IssuanceInput, LogCursor, MalformedInput, Store, TreeState } from './types.js';

export type EngineKind = 'sqlite' | 'postgres';
export const ENGINES: readonly EngineKind[] = ['sqlite', 'postgres'];

export function sha256Hex(label: string): string {
  return createHash('sha256').update(label).digest('hex');
}

/** The `code` of the error `promise` rejects with (a CertvigilError's), or 'no error'. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return String((err as { code?: unknown }).code);
  }
  return 'no error';
}

/** base64 log IDs; LOG_A sorts before LOG_B. */
export const LOG_A = Buffer.alloc(32, 0x11).toString('base64');
export const LOG_B = Buffer.alloc(32, 0x22).toString('base64');

/** A stand-in compact tree of `size` leaves (the store keeps it, it does not interpret it). */
export function treeOf(size: number): TreeState {
  return {
    size,
    hashes: size === 0 ? [] : [Buffer.from(sha256Hex(`root ${size}`), 'hex').toString('base64')],
  };
}

export function issuance(overrides: Partial<IssuanceInput> & { index: number }): IssuanceInput {
  const tbsSha256 = overrides.tbsSha256 ?? sha256Hex(`tbs ${overrides.index}`);
  return {
    tbsSha256,
    certSha256: sha256Hex(`cert ${tbsSha256}`),
    type: 'x509',
    dnsNames: ['www.example.com', 'example.com'],
    ipAddresses: [],
    issuer: "C=US, O=Let's Encrypt, CN=R11",
    serial: '03a1b2c3d4',
    notBefore: '2025-01-01T00:00:00Z',
    notAfter: '2025-04-01T00:00:00Z',
    spkiSha256: sha256Hex(`spki ${tbsSha256}`),
    keyType: 'ECDSA P-256',
    logId: LOG_A,
    timestamp: 1_735_689_600_000 + overrides.index,
    ...overrides,
  };
}

export function batch(
  logId: string,
  expectedPosition: number,
  newPosition: number,
  parts: Partial<Pick<CommitBatch, 'issuances' | 'malformed' | 'alerts'>> = {},
): CommitBatch {
  return {
    logId,
    expectedPosition,
    newPosition,
    tree: treeOf(newPosition),
    issuances: parts.issuances ?? [],
    malformed: parts.malformed ?? [],
    alerts: parts.alerts ?? [],
  };
}

/**
 * What the crash writer commits for entry `index`: index % 3 == 0 is a watched issuance (with an
 * alert), index % 3 == 1 a malformed entry, the rest is unwatched.
 */
export function crashEntryAt(index: number): { issuance?: IssuanceInput; malformed?: MalformedInput } {
  if (index % 3 === 0)
    return {
      issuance: issuance({
        index,
        tbsSha256: sha256Hex(`crash tbs ${index}`),
        dnsNames: [`n${index}.example.com`, 'shared.example.com'],
      }),
    };
  if (index % 3 === 1) return { malformed: { logId: LOG_A, index, error: `malformed ${index}` } };
  return {};
}

/** LOG_A's cursor at position 0 over an empty tree, as the monitor first records a log. */
export function ensureLogA(store: Store): Promise<LogCursor> {
  return store.ensureCursor({
    logId: LOG_A,
    url: 'https://ct.example/a/',
    kind: 'rfc6962',
    description: 'Log A',
    position: 0,
    tree: treeOf(0),
  });
}

/** One fresh, empty state of an engine. */
export interface FreshState {
  /** What `openStore` takes, and what child processes get on their command line. */
  location: string;
  open(): Promise<Store>;
  /** The same state opened read-only (what `certs list` and other read-only commands use). */
  openReadOnly(): Promise<Store>;
  /** Runs SQL on a separate connection (`?` placeholders work in both engines). */
  query(sql: string, params?: (string | number)[]): Promise<Record<string, unknown>[]>;
  dispose(): Promise<void>;
}

export interface EngineHarness {
  fresh(): Promise<FreshState>;
  /** Stops what `start` started. */
  stop(): Promise<void>;
}

export async function startEngine(kind: EngineKind): Promise<EngineHarness> {
  if (kind === 'sqlite') {
    return {
      async fresh() {
        const dir = await mkdtemp(join(tmpdir(), 'certvigil-store-'));
        const path = join(dir, 'certvigil.sqlite3');
        return {
          location: path,
          open: () => openSqliteStore(path),
          openReadOnly: () => openSqliteStore(path, { readOnly: true }),
          async query(sql, params = []) {
            const db = new Database(path);
            try {
              const st = db.prepare(sql);
              return st.reader ? (st.all(...params) as Record<string, unknown>[]) : (st.run(...params), []);
            } finally {
              db.close();
            }
          },
          dispose: () => rm(dir, { recursive: true, force: true }),
        };
      },
      stop: async () => undefined,
    };
  }
  const server: PostgresServer = await startPostgres();
  return {
    async fresh() {
      const url = await server.createDatabase();
      return {
        location: url,
        open: () => openPostgresStore(url),
        openReadOnly: () => openPostgresStore(url, { readOnly: true }),
        async query(sql, params = []) {
          const client = postgres(url, { max: 1, onnotice: () => undefined });
          try {
            let n = 0;
            const text = sql.replace(/\?/g, () => `$${++n}`);
            return [...(await client.unsafe(text, params))] as Record<string, unknown>[];
          } finally {
            await client.end();
          }
        },
        dispose: async () => undefined,
      };
    },
    stop: () => server.stop(),
  };
}

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = join(HERE, '..', '..');

/** A child `node --import tsx` process running one of the store's fixture scripts. */
export class ChildScript {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly lines: string[] = [];
  private readonly waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  private stderr = '';

  constructor(script: string, args: string[]) {
    this.child = spawn(process.execPath, ['--import', 'tsx', join(HERE, script), ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    if (this.child.stdout)
      createInterface({ input: this.child.stdout }).on('line', (line) => {
        this.lines.push(line);
        for (const w of [...this.waiters])
          if (w.match(line)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve(line);
          }
      });
  }

  get output(): readonly string[] {
    return this.lines;
  }

  /** The first stdout line (seen or to come) that `match` accepts; fails if the child exits first. */
  async waitFor(match: (line: string) => boolean, timeoutMs = 20_000): Promise<string> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return seen;
    const line = new Promise<string>((resolve) => this.waiters.push({ match, resolve }));
    const failure = Promise.race([
      this.exited.then((e) => `exited (${e.code ?? e.signal})`),
      new Promise<string>((resolve) =>
        setTimeout(() => resolve(`timed out after ${timeoutMs} ms`), timeoutMs).unref(),
      ),
    ]).then((why) => {
      throw new Error(
        `child ${this.child.pid} ${why}; stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`,
      );
    });
    return Promise.race([line, failure]);
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}
