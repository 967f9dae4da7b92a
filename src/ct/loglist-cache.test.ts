import { createServer } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { statSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLogListCached } from './loglist-cache.js';

const LIST = new URL('../../test/vectors/data/loglist-google-v3.json', import.meta.url);
let body: Buffer;
let server: Server;
let url: string;
let requests = 0;
let failing = false;
let work: string;

beforeAll(async () => {
  body = await readFile(LIST);
  work = await mkdtemp(join(tmpdir(), 'certvigil-loglist-cache-'));
  server = createServer((req, res) => {
    requests++;
    if (failing) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/log_list.json`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(work, { recursive: true, force: true });
});

describe('loadLogListCached', () => {
  it('downloads once, then serves from the cache until it expires; stale only when the refresh fails', async () => {
    const cacheDir = join(work, 'a');
    let now = Date.parse('2026-11-24T00:00:00Z');
    const opts = { cacheDir, now: () => now, http: undefined };
    const first = await loadLogListCached(url, opts);
    expect(first.cache).toBe('downloaded');
    expect(requests).toBe(1);
    const logs = first.logs.length;
    expect(logs).toBeGreaterThan(10);

    now += 3600_000;
    const second = await loadLogListCached(url, opts);
    expect(second.cache).toBe('fresh');
    expect(second.logs.length).toBe(logs);
    expect(requests).toBe(1);

    now += 24 * 3600_000;
    const third = await loadLogListCached(url, opts);
    expect(third.cache).toBe('downloaded');
    expect(requests).toBe(2);

    // The source fails: a cache younger than a week still serves, and says why.
    failing = true;
    now += 2 * 24 * 3600_000;
    const stale = await loadLogListCached(url, { ...opts, http: undefined });
    expect(stale.cache).toBe('stale');
    expect(stale.refreshError).toBeTruthy();
    expect(stale.logs.length).toBe(logs);
    // … and goes on serving (issue 13: once a list exists, a failing refresh never throws).
    now += 8 * 24 * 3600_000;
    const older = await loadLogListCached(url, opts);
    expect(older.cache).toBe('stale');
    expect(older.state.stale).toBe(true);
    expect(older.logs.length).toBe(logs);
    failing = false;
    // No temporary files are left behind.
    expect((await readdir(cacheDir)).every((f) => !f.endsWith('.tmp'))).toBe(true);
  });

  it('ignores a corrupt cache and downloads again', async () => {
    const cacheDir = join(work, 'b');
    await loadLogListCached(url, { cacheDir });
    for (const f of await readdir(cacheDir)) await writeFile(join(cacheDir, f), '{ not json');
    const before = requests;
    const again = await loadLogListCached(url, { cacheDir });
    expect(again.cache).toBe('downloaded');
    expect(requests).toBe(before + 1);
  });

  it('reads files directly, without a cache', async () => {
    const r = await loadLogListCached(LIST.pathname, { cacheDir: join(work, 'c') });
    expect(r.cache).toBe('not-cached');
  });

  it('keeps its cache private (0700 directory, 0600 files) and refuses one others can write (issue 12)', async () => {
    const cacheDir = join(work, 'd');
    await loadLogListCached(url, { cacheDir });
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    for (const f of await readdir(cacheDir)) expect(statSync(join(cacheDir, f)).mode & 0o777).toBe(0o600);
    await chmod(cacheDir, 0o777);
    const before = requests;
    await expect(loadLogListCached(url, { cacheDir })).rejects.toMatchObject({ code: 'STATE_UNSAFE' });
    expect(requests).toBe(before);
  });

  it('a missing or endless log list file is a one-line CONFIG_INVALID (issue 12)', async () => {
    await expect(loadLogListCached('/dev/zero', { cacheDir: join(work, 'e') })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'cannot read log list /dev/zero: larger than 8388608 bytes',
    });
    await expect(
      loadLogListCached(join(work, 'nope.json'), { cacheDir: join(work, 'e') }),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringMatching(/^cannot read log list .*nope\.json: no such file$/),
    });
  });
});
