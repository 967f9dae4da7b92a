/**
 * The per-log sync against a fake `LogReader` and the real SQLite store (as caa/decide.test.ts does
 * for the CAA decision): the two cursors, the rewind on a root mismatch with one alert per
 * evidence, and how failures are classified (unreachable / misbehaving / internal).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CtHttpError } from '../ct/http.js';
import { LogMisbehaviourError } from '../ct/log-reader.js';
import { openSqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/types.js';
import { classifyFailure, LogReadError, syncLog } from './sync-log.js';
import type { SyncOptions } from './sync-log.js';
import { buildWatchList } from './watchlist.js';
import { FakeLog, LOG } from './fake-log.fixture.js';

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certvigil-sync-unit-'));
  store = await openSqliteStore(join(dir, 'certvigil.sqlite3'));
  await store.migrate();
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const options = (over: Partial<SyncOptions> = {}): SyncOptions => ({
  store,
  watch: buildWatchList(['example.test']),
  alertsFor: async () => [],
  startAtEnd: false,
  ...over,
});

const misbehaviourAlerts = async (): Promise<number> =>
  (await store.listAlerts()).filter((a) => a.kind === 'misbehaviour').length;

describe('syncLog: two cursors', () => {
  it('verifies a matching root and keeps the verified tree', async () => {
    const log = new FakeLog();
    log.size = 10;
    const r = await syncLog(log, options());
    expect(r).toMatchObject({
      status: 'ok',
      position: 10,
      verifiedSize: 10,
      entriesRead: 10,
      contacted: true,
    });
    const c = await store.getCursor(LOG.logId);
    expect(c?.verified?.treeSize).toBe(10);
    expect(c?.verifiedTree?.size).toBe(10);
  });

  it('rewinds to the verified tree on a root mismatch, alerts once per evidence, and recovers', async () => {
    const log = new FakeLog();
    log.size = 10;
    await syncLog(log, options());
    log.size = 15;
    log.flipRoot = true;
    const bad = await syncLog(log, options());
    expect(bad.status).toBe('misbehaving');
    expect(bad.message).toMatch(/hash to .* but it signed/);
    // The download position is back at the verified one: the 5 unverified entries are read again.
    expect(bad.position).toBe(10);
    expect((await store.getCursor(LOG.logId))?.position).toBe(10);
    const again = await syncLog(log, options());
    expect(again.status).toBe('misbehaving');
    expect(log.entriesRequested).toEqual([0, 10, 10]);
    // The same evidence: one alert and one misbehaviour record, not one per attempt.
    expect(await misbehaviourAlerts()).toBe(1);
    expect((await store.listMisbehaviour?.())?.length).toBe(1);
    log.flipRoot = false;
    const fixed = await syncLog(log, options());
    expect(fixed).toMatchObject({ status: 'ok', position: 15, verifiedSize: 15 });
  });

  it('rewinds to the start when nothing was verified yet', async () => {
    const log = new FakeLog();
    log.size = 4;
    log.flipRoot = true;
    const r = await syncLog(log, options());
    expect(r).toMatchObject({ status: 'misbehaving', position: 0 });
  });

  it('a head verified by an older certvigil (no tree kept) is rebuilt from the log, checked, and rewound to', async () => {
    const log = new FakeLog();
    log.size = 6;
    await syncLog(log, options());
    // Simulate the old row: the head without its tree.
    const c = await store.getCursor(LOG.logId);
    if (!c?.verified) throw new Error('no verified head');
    await store.setVerifiedHead(LOG.logId, c.verified);
    expect((await store.getCursor(LOG.logId))?.verifiedTree).toBeUndefined();
    log.size = 9;
    log.flipRoot = true;
    const r = await syncLog(log, options());
    expect(r).toMatchObject({ status: 'misbehaving', position: 6 });
  });

  it('a second root for the verified size is a fork: one alert however often it is seen', async () => {
    const log = new FakeLog();
    log.size = 5;
    await syncLog(log, options());
    log.flipRoot = true;
    for (let i = 0; i < 3; i++) expect((await syncLog(log, options())).status).toBe('misbehaving');
    expect(await misbehaviourAlerts()).toBe(1);
  });
});

describe('syncLog: what failed', () => {
  const http = (code: 'CT_RATE_LIMITED' | 'CT_TIMEOUT', retryAfterMs?: number): CtHttpError =>
    new CtHttpError(code, 'x', {
      url: 'https://fake.example/log/ct/v1/get-sth',
      retryable: true,
      attempts: 1,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });

  it.each([
    ['a timeout on get-sth', 'head', http('CT_TIMEOUT'), 'unreachable', null],
    ['a 429 with Retry-After', 'head', http('CT_RATE_LIMITED', 7000), 'unreachable', 7000],
    ['a broken data tile', 'entries', new Error('data tile 3 is malformed'), 'unreachable', null],
    [
      'a bad signature',
      'head',
      new LogMisbehaviourError('STH signature does not verify', 'bad-signature'),
      'misbehaving',
      null,
    ],
  ] as const)('%s → %s', async (_what, where, err, status, retryAfterMs) => {
    const log = new FakeLog();
    log.size = 3;
    if (where === 'head') log.headError = err;
    else log.entriesError = err;
    const r = await syncLog(log, options());
    expect(r.status).toBe(status);
    expect(r.retryAfterMs).toBe(retryAfterMs);
  });

  it('a failure of ours (the alert builder, the store) is internal, with the error kept for its stack', async () => {
    const log = new FakeLog();
    log.size = 3;
    const r = await syncLog(
      log,
      options({
        commitEvery: 1,
        alertsFor: async () => {
          throw new TypeError('bug in the classifier');
        },
      }),
    );
    expect(r.status).toBe('internal');
    expect(r.error?.stack).toMatch(/bug in the classifier/);
    // Not blamed on the log: no health alert, no misbehaviour.
    expect(await store.listAlerts()).toEqual([]);
  });

  it.each([
    [new LogReadError(new Error('ECONNRESET')), 'unreachable'],
    [new LogMisbehaviourError('x', 'root-mismatch'), 'misbehaving'],
    [new Error('SQLITE_BUSY'), 'internal'],
    [new TypeError('undefined is not a function'), 'internal'],
  ] as const)('classifyFailure(%s) → %s', (err, status) => {
    expect(classifyFailure(err).status).toBe(status);
  });
});
