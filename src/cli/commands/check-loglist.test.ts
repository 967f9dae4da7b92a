import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LOG_LIST_PARTS, SHIPPED_SNAPSHOT_DIR } from '../../ct/loglist-source.js';
import { DEFAULT_LOG_LIST_URL } from '../../ct/index.js';
import type { LogListState } from '../../ct/index.js';
import { describeFallback, loadCheckLogList } from './check-loglist.js';

const NOW = Date.parse('2026-12-07T12:00:00Z');
const state = (over: Partial<LogListState>): LogListState => ({
  logs: [],
  source: 'https://example.test/list.json',
  fetchedAt: null,
  origin: 'snapshot',
  stale: false,
  lastError: null,
  failingSince: null,
  cacheError: null,
  parts: [],
  warnings: [],
  ...over,
});

describe('describeFallback', () => {
  it.each([
    [
      'snapshot with its list timestamp',
      state({
        parts: [
          {
            source: 's',
            version: '1',
            listTimestamp: '2026-08-20T13:34:57Z',
            signatureVerified: true,
            logCount: 3,
          },
        ],
      }),
      'log list: the snapshot shipped with certvigil serves (list of 2026-08-20, 108 days old): offline',
    ],
    [
      'snapshot without a timestamp',
      state({}),
      'log list: the snapshot shipped with certvigil serves (list of ?, age unknown): offline',
    ],
    [
      'cached copy',
      state({ origin: 'cache', fetchedAt: '2026-12-06T11:00:00Z' }),
      'log list: a cached copy serves (fetched 2026-12-06, 1 day old): offline',
    ],
  ])('%s', (_, s, expected) => {
    expect(describeFallback(s, 'offline', NOW)).toBe(expected);
  });
});

describe("loadCheckLogList: the monitor's cached copy", () => {
  /** Writes a monitor cache of the default lists (Google's + Apple's) as `createLogListSource` does. */
  async function monitorCache(dir: string, fetchedAt: string): Promise<void> {
    const data = (f: string): Promise<Buffer> => readFile(join(SHIPPED_SNAPSHOT_DIR, f));
    const location = DEFAULT_LOG_LIST_PARTS.join(' + ');
    const key = createHash('sha256').update(location).digest('hex').slice(0, 32);
    const [google, sig, apple] = await Promise.all([
      data('loglist-google-v3.json'),
      data('loglist-google-v3.sig'),
      data('loglist-apple.json'),
    ]);
    const file = {
      format: 'certvigil-loglist-cache/1',
      location,
      fetchedAt,
      parts: [
        {
          source: DEFAULT_LOG_LIST_PARTS[0],
          list: google.toString('base64'),
          signature: sig.toString('base64'),
        },
        { source: DEFAULT_LOG_LIST_PARTS[1], list: apple.toString('base64'), signature: null },
      ],
    };
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(join(dir, `loglist-cache-${key}.json`), JSON.stringify(file), { mode: 0o600 });
  }

  let work: string;
  let saved: string | undefined;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'cv-check-loglist-'));
    // Any download attempt goes to a closed loopback port, never to the internet.
    saved = process.env.https_proxy;
    process.env.https_proxy = 'http://127.0.0.1:9';
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env.https_proxy;
    else process.env.https_proxy = saved;
    await rm(work, { recursive: true, force: true });
  });

  it('a copy younger than a day serves with no download and no note', async () => {
    const state = join(work, 'fresh');
    await monitorCache(state, new Date(Date.now() - 3_600_000).toISOString());
    const cacheDir = join(work, 'cache-fresh');
    const r = await loadCheckLogList({
      source: DEFAULT_LOG_LIST_URL,
      cacheDir,
      budgetMs: 2000,
      monitorStateDir: state,
      sourceIsDefault: true,
    });
    expect(r.note).toBeNull();
    expect(r.logs?.length).toBeGreaterThan(10);
    // Nothing was attempted: no failure marker, no cache of the check's own.
    await expect(readdir(cacheDir)).rejects.toThrow();
  });

  it('an older copy is not used: the download is tried, and the snapshot serves with a note', async () => {
    const state = join(work, 'old');
    await monitorCache(state, new Date(Date.now() - 3 * 86_400_000).toISOString());
    const r = await loadCheckLogList({
      source: DEFAULT_LOG_LIST_URL,
      cacheDir: join(work, 'cache-old'),
      budgetMs: 2000,
      monitorStateDir: state,
      sourceIsDefault: true,
    });
    expect(r.note).toMatch(/^log list: the snapshot shipped with certvigil serves/);
    expect(r.logs?.length).toBeGreaterThan(10);
  });

  it('with --log-list the monitor copy is not the same list and is ignored', async () => {
    const state = join(work, 'fresh');
    const r = await loadCheckLogList({
      source: 'http://127.0.0.1:9/list.json',
      cacheDir: join(work, 'cache-other'),
      budgetMs: 2000,
      monitorStateDir: state,
      sourceIsDefault: false,
      snapshotDir: false,
    });
    expect(r.logs).toBeNull();
    expect(r.note).toMatch(/^no log list: the download failed/);
  });
});
