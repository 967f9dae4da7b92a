/**
 * The daemon's core with fake log readers and the real SQLite store: one loop per log (a hung log
 * holds up neither the other log nor the outbox), the last good log list kept, the health and
 * heartbeat callbacks, and the retry schedule.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EntryBatch, LogReader, MalformedEntry } from '../ct/log-reader.js';
import { CompactTree, leafHash } from '../ct/merkle.js';
import type { LogInfo, SignedTreeHead } from '../ct/types.js';
import type { MonitorEvent } from '../notify/types.js';
import { openSqliteStore } from '../store/sqlite.js';
import type { LogHealthRecord, Store } from '../store/types.js';
import { MonitorDaemon, nextDelayMs } from './daemon.js';
import { buildWatchList } from './watchlist.js';

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certvigil-daemon-unit-'));
  store = await openSqliteStore(join(dir, 'certvigil.sqlite3'));
  await store.migrate();
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const logInfo = (n: number): LogInfo => ({
  kind: 'rfc6962',
  description: `fake log ${n}`,
  operator: 'test',
  logId: Buffer.alloc(32, n).toString('base64'),
  key: new Uint8Array(),
  url: `https://fake${n}.example/log/`,
  mmdSeconds: 86_400,
  state: 'usable',
});

const leaf = (i: number): Uint8Array => new Uint8Array(Buffer.from(`leaf ${i}`));

/** `size` opaque entries (each a malformed-entry alert); `hang`: entries never come (until aborted). */
function fakeReader(log: LogInfo, size: number, hang: boolean): LogReader & { entryCalls: number } {
  const tree = new CompactTree();
  for (let i = 0; i < size; i++) tree.append(leafHash(leaf(i)));
  return {
    log,
    entryCalls: 0,
    async treeHead(): Promise<SignedTreeHead> {
      return {
        treeSize: size,
        timestamp: Date.now(),
        rootHash: tree.root(),
        signature: { hashAlgorithm: 4, signatureAlgorithm: 3, signature: new Uint8Array([1]) },
      };
    },
    async *entries(
      start: number,
      end: number,
      _size: number,
      signal?: AbortSignal,
    ): AsyncIterable<EntryBatch> {
      this.entryCalls++;
      if (hang) {
        await new Promise<void>((_resolve, reject) =>
          signal?.addEventListener('abort', () => reject(new Error('aborted'))),
        );
      }
      const entries: MalformedEntry[] = [];
      for (let i = start; i < end; i++)
        entries.push({ index: i, malformed: true, error: 'opaque', leafInput: leaf(i) });
      if (entries.length > 0) yield { start, entries };
    },
    async compactTreeAt(): Promise<CompactTree> {
      return tree;
    },
  };
}

async function until(what: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end && !what()) await new Promise((r) => setTimeout(r, 20));
  return what();
}

describe('MonitorDaemon', () => {
  it('a hung log delays neither the other log nor its alert; a failing log list keeps the last one', async () => {
    const hungLog = logInfo(1);
    const goodLog = logInfo(2);
    const hung = fakeReader(hungLog, 5, true);
    const good = fakeReader(goodLog, 3, false);
    const delivered: MonitorEvent[] = [];
    const health: LogHealthRecord[] = [];
    let cycles = 0;
    let listLoads = 0;
    const warnings: string[] = [];
    const daemon = new MonitorDaemon({
      store,
      notifiers: [{ name: 'memory', send: async (e) => void delivered.push(e) }],
      scanInventory: null,
      caaResolver: null,
      caaIssuers: {},
      httpFor: () => {
        throw new Error('no HTTP in this test');
      },
      readerFor: (log) => (log.logId === hungLog.logId ? hung : good),
      logger: { info: () => undefined, warn: (_o, m) => void warnings.push(m), error: () => undefined },
      loadLogList: async () => {
        if (listLoads++ > 0) throw new Error('log list server down');
        return [hungLog, goodLog];
      },
      settings: () => ({ watch: buildWatchList(['example.test']), startAtEnd: false, intervalMs: 100 }),
      onLogHealth: async (r) => void health.push(r),
      onCycle: async () => void cycles++,
      drainEveryMs: 50,
    });
    const abort = new AbortController();
    const running = daemon.run(abort.signal);
    const started = Date.now();
    expect(await until(() => delivered.filter((e) => e.type === 'malformed').length === 3, 3000)).toBe(true);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(hung.entryCalls).toBe(1);
    // The good log is read again and again; the list failed but its logs are still monitored.
    expect(await until(() => cycles >= 4 && good.entryCalls >= 1, 5000)).toBe(true);
    expect(daemon.monitored().map((l) => l.logId)).toEqual([hungLog.logId, goodLog.logId]);
    expect(
      warnings.some((w) => /log list not reloaded, keeping the last one: log list server down/.test(w)),
    ).toBe(true);
    const goodHealth = health.filter((h) => h.logId === goodLog.logId);
    expect(goodHealth.length).toBeGreaterThanOrEqual(2);
    expect(goodHealth.at(-1)).toMatchObject({ status: 'ok', newestTreeSize: 3, lastError: null });
    expect(goodHealth.at(-1)?.lastContactAt).not.toBeNull();
    // SIGTERM: the hung request is cancelled, the loops end, run() returns.
    abort.abort();
    await running;
    const malformed = delivered.filter((e) => e.type === 'malformed');
    expect(malformed[0]).toMatchObject({ parseError: 'opaque', leafHash: expect.any(String) });
  });
});

describe('MonitorDaemon.reload (SIGHUP)', () => {
  it('a log busy when the reload comes tries again at once, with the new settings, instead of sleeping', async () => {
    const log = logInfo(3);
    const reader = fakeReader(log, 2, false);
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((r) => (release = r));
    let heads = 0;
    const treeHead = reader.treeHead.bind(reader);
    reader.treeHead = async () => {
      if (heads++ === 0) await blocked; // the first attempt is in flight when the reload comes
      return treeHead();
    };
    let watch = buildWatchList(['old.test']);
    const seen: string[] = [];
    const daemon = new MonitorDaemon({
      store,
      notifiers: [],
      scanInventory: null,
      caaResolver: null,
      caaIssuers: {},
      httpFor: () => {
        throw new Error('no HTTP');
      },
      readerFor: () => reader,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      loadLogList: async () => [log],
      settings: () => ({ watch, startAtEnd: false, intervalMs: 3_600_000 }),
      beforeAttempt: async () => void seen.push(watch.matches('new.test') ? 'new' : 'old'),
    });
    const abort = new AbortController();
    const running = daemon.run(abort.signal);
    expect(await until(() => heads === 1, 2000)).toBe(true);
    watch = buildWatchList(['new.test']);
    daemon.reload();
    release();
    expect(await until(() => (daemon.attempts().get(log.logId) ?? 0) >= 2, 2000)).toBe(true);
    expect(seen.slice(0, 2)).toEqual(['old', 'new']);
    abort.abort();
    await running;
  });
});

describe('nextDelayMs', () => {
  const half = (): number => 0.5;
  it.each([
    ['ok: the interval', 'ok', null, 1, 300_000, 300_000],
    ['first failure: 5 s with jitter', 'unreachable', null, 1, 300_000, 3_750],
    ['third failure: 20 s with jitter', 'unreachable', null, 3, 300_000, 15_000],
    ['many failures: capped at max(interval, 10 min)', 'unreachable', null, 30, 60_000, 450_000],
    ['Retry-After longer than the backoff wins', 'unreachable', 90_000, 1, 300_000, 90_000],
    ['misbehaving: the interval', 'misbehaving', null, 2, 300_000, 300_000],
    ['internal: the interval', 'internal', null, 2, 300_000, 300_000],
  ] as const)('%s', (_what, status, retryAfterMs, failures, intervalMs, expected) => {
    expect(nextDelayMs({ status, retryAfterMs }, failures, intervalMs, half)).toBe(expected);
  });
});
