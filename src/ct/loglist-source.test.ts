import { createServer } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { statSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CtHttpClient } from './http.js';
import { GOOGLE_LOG_LIST_PUBLIC_KEY_PEM, parseLogList } from './loglist.js';
import { createLogListSource, isStale, mergeLogs, SHIPPED_SNAPSHOT_DIR } from './loglist-source.js';
import type { LogInfo, LogState } from './types.js';

const VECTORS = new URL('../../test/vectors/data/', import.meta.url);
const HOUR = 3_600_000;

let google: Buffer;
let googleSig: Buffer;
let chrome: Buffer;
let chromeSig: Buffer;
let work: string;

/** A log list server whose answers the test changes: 'ok', 'fail' (503), 'badsig'. */
interface ListServer {
  url: string;
  requests: number;
  mode: 'ok' | 'fail' | 'badsig';
  close(): Promise<void>;
}
async function listServer(): Promise<ListServer> {
  const state = { requests: 0, mode: 'ok' as ListServer['mode'] };
  const server: Server = createServer((req, res) => {
    state.requests++;
    if (state.mode === 'fail') return void res.writeHead(503).end('down for maintenance');
    if (req.url?.endsWith('.sig')) {
      const sig = Buffer.from(googleSig);
      if (state.mode === 'badsig') sig[10] = (sig[10] as number) ^ 1;
      return void res.writeHead(200).end(sig);
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(google);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v3/all_logs_list.json`;
  return Object.assign(state, {
    url,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }) as ListServer;
}

/** One attempt, no backoff: a failing source is noticed at once. */
const quickHttp = (): CtHttpClient => new CtHttpClient({ maxAttempts: 1, timeoutMs: 2000, proxy: false });
const signed = { publicKeyPem: GOOGLE_LOG_LIST_PUBLIC_KEY_PEM };

beforeAll(async () => {
  [google, googleSig, chrome, chromeSig] = (await Promise.all(
    [
      'loglist-google-v3.json',
      'loglist-google-v3.sig',
      'loglist-google-v3-chrome.json',
      'loglist-google-v3-chrome.sig',
    ].map((f) => readFile(new URL(f, VECTORS))),
  )) as [Buffer, Buffer, Buffer, Buffer];
  work = await mkdtemp(join(tmpdir(), 'certvigil-loglist-source-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('mergeLogs', () => {
  const log = (logId: string, state: LogState, operator = 'Google'): LogInfo =>
    ({ logId, state, operator }) as LogInfo;
  it.each([
    [
      'a log in both lists is counted once, the first list wins',
      [[log('A', 'usable')], [log('A', 'usable', 'Apple')]],
      undefined,
      ['A:Google'],
    ],
    [
      'states filter each list before the union',
      [[log('A', 'retired')], [log('A', 'usable', 'Apple')]],
      ['usable'],
      ['A:Apple'],
    ],
    [
      'unknown and rejected logs are left out of the default states',
      [[log('A', 'unknown'), log('B', 'rejected'), log('C', 'qualified')], [log('D', 'readonly', 'Apple')]],
      ['usable', 'qualified', 'readonly'],
      ['C:Google', 'D:Apple'],
    ],
  ] as const)('%s', (_name, lists, states, want) => {
    const merged = mergeLogs(lists as unknown as LogInfo[][], states as LogState[] | undefined);
    expect(merged.map((l) => `${l.logId}:${l.operator}`)).toEqual(want);
  });
});

describe('isStale', () => {
  it.each([
    [null, 10, 5, false],
    [0, 4, 5, false],
    [0, 5, 5, true],
  ] as const)('failingSince %s, now %s, grace %s → %s', (since, now, grace, want) => {
    expect(isStale(since, now, grace)).toBe(want);
  });
});

describe('createLogListSource over HTTP', () => {
  it('fetches at most every maxAgeMs, keeps the last good copy on failure, and turns stale after the grace period', async () => {
    const srv = await listServer();
    const cacheDir = join(work, 'http-a');
    let now = Date.parse('2026-12-01T00:00:00Z');
    const http = quickHttp();
    const opts = {
      location: srv.url,
      cacheDir,
      maxAgeMs: HOUR,
      graceMs: 24 * HOUR,
      http,
      verify: signed,
      now: () => now,
    };
    const lists = createLogListSource(opts);
    const first = await lists.current();
    expect(first).toMatchObject({
      origin: 'network',
      lastError: null,
      stale: false,
      fetchedAt: '2026-12-01T00:00:00.000Z',
    });
    expect(first.parts[0]?.signatureVerified).toBe(true);
    const count = first.logs.length;
    expect(count).toBe(parseLogList(google).logs.length); // one explicit list: every log, every state
    expect(srv.requests).toBe(2); // list + signature

    now += HOUR / 2;
    await lists.current();
    expect(srv.requests).toBe(2); // not yet due

    srv.mode = 'fail';
    now += HOUR;
    const failing = await lists.current();
    expect(failing).toMatchObject({ origin: 'network', stale: false, fetchedAt: '2026-12-01T00:00:00.000Z' });
    expect(failing.lastError).toMatch(/503/);
    expect(failing.logs.length).toBe(count);

    // A restart while the source is down: the cached copy serves, verified again when read.
    const restarted = createLogListSource(opts);
    const fromCache = await restarted.current();
    expect(fromCache).toMatchObject({ origin: 'cache', fetchedAt: '2026-12-01T00:00:00.000Z' });
    expect(fromCache.lastError).toMatch(/503/);
    expect(fromCache.logs.length).toBe(count);
    // It has been failing since the copy fell due (01:00), not since the restart.
    expect(fromCache.failingSince).toBe('2026-12-01T01:00:00.000Z');

    now = Date.parse('2026-12-02T00:59:00Z');
    expect((await restarted.refresh(true)).stale).toBe(false);
    now = Date.parse('2026-12-02T01:00:00Z');
    const stale = await restarted.refresh(true);
    expect(stale).toMatchObject({ stale: true, origin: 'cache' });
    expect(stale.logs.length).toBe(count);

    // The server stops altogether: still the last good list, with the network error.
    await srv.close();
    const stopped = await restarted.refresh(true);
    expect(stopped.logs.length).toBe(count);
    expect(stopped.lastError).toMatch(/closed|ECONNREFUSED|connect/i);

    // Private cache: 0700 directory, 0600 file, no temporary file left.
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
    const files = await readdir(cacheDir);
    expect(files).toHaveLength(1);
    for (const f of files) expect(statSync(join(cacheDir, f)).mode & 0o777).toBe(0o600);
    await http.close();
  });

  it('rejects a list whose signature does not verify and keeps the last good one (cache untouched)', async () => {
    const srv = await listServer();
    const cacheDir = join(work, 'http-b');
    const http = quickHttp();
    const lists = createLogListSource({ location: srv.url, cacheDir, http, verify: signed });
    const good = await lists.current();
    const cached = await readdir(cacheDir);
    const before = await readFile(join(cacheDir, cached[0] as string));
    srv.mode = 'badsig';
    const after = await lists.refresh(true);
    expect(after.lastError).toMatch(/does not match its signature/);
    expect(after.logs.length).toBe(good.logs.length);
    expect(after.fetchedAt).toBe(good.fetchedAt);
    expect(await readFile(join(cacheDir, cached[0] as string))).toEqual(before);
    // With no good copy at all, a bad signature is no list: nothing is trusted.
    const fresh = createLogListSource({
      location: srv.url,
      cacheDir: join(work, 'http-b2'),
      http,
      verify: signed,
    });
    await expect(fresh.current()).rejects.toMatchObject({ code: 'LOGLIST_UNAVAILABLE' });
    await srv.close();
    await http.close();
  });

  it('refuses a cached copy altered on disk (its signature is checked again) and fetches anew', async () => {
    const srv = await listServer();
    const cacheDir = join(work, 'http-c');
    const http = quickHttp();
    await createLogListSource({ location: srv.url, cacheDir, http, verify: signed }).current();
    const [name] = await readdir(cacheDir);
    const file = join(cacheDir, name as string);
    const json = JSON.parse(await readFile(file, 'utf8')) as { parts: { list: string }[] };
    const bytes = Buffer.from(json.parts[0]?.list ?? '', 'base64');
    bytes[100] = (bytes[100] as number) ^ 1;
    (json.parts[0] as { list: string }).list = bytes.toString('base64');
    await writeFile(file, JSON.stringify(json));
    const before = srv.requests;
    const again = await createLogListSource({ location: srv.url, cacheDir, http, verify: signed }).current();
    expect(again.origin).toBe('network');
    expect(srv.requests).toBe(before + 2);
    await srv.close();
    await http.close();
  });

  it('callers at the same moment share one download', async () => {
    const srv = await listServer();
    const http = quickHttp();
    const lists = createLogListSource({
      location: srv.url,
      cacheDir: join(work, 'http-d'),
      http,
      verify: signed,
    });
    const [a, b, c] = await Promise.all([lists.current(), lists.current(), lists.refresh()]);
    expect(srv.requests).toBe(2); // one list, one signature
    expect(a.fetchedAt).toBe(b.fetchedAt);
    expect(c.fetchedAt).toBe(a.fetchedAt);
    await srv.close();
    await http.close();
  });

  it('with nothing available at all (unreachable URL, no cache, no snapshot) throws LOGLIST_UNAVAILABLE', async () => {
    const http = quickHttp();
    const lists = createLogListSource({
      location: 'http://127.0.0.1:1/list.json',
      cacheDir: join(work, 'none'),
      http,
    });
    await expect(lists.current()).rejects.toMatchObject({
      code: 'LOGLIST_UNAVAILABLE',
      message: expect.stringMatching(/^no log list: http:\/\/127\.0\.0\.1:1\/list\.json: .*no cached copy/),
    });
    await http.close();
  });

  it('refuses a location it could never read before any I/O (CONFIG_INVALID)', () => {
    expect(() =>
      createLogListSource({ location: 'http://ct.example/list.json', cacheDir: join(work, 'x') }),
    ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() =>
      createLogListSource({ location: 'ftp://ct.example/list.json', cacheDir: join(work, 'x') }),
    ).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('createLogListSource, default location and shipped snapshot', () => {
  // Every request goes to a proxy on a closed port: as good as no network at all.
  const offline = (): CtHttpClient =>
    new CtHttpClient({ maxAttempts: 1, timeoutMs: 2000, proxy: { httpsProxy: 'http://127.0.0.1:1' } });

  it('first start without network: the signed snapshot in data/ serves (Google verified, Apple on TLS only)', async () => {
    const http = offline();
    const cacheDir = join(work, 'snap-a');
    const lists = createLogListSource({ cacheDir, http });
    const state = await lists.current();
    expect(state.origin).toBe('snapshot');
    expect(state.fetchedAt).toBeNull();
    expect(state.lastError).toMatch(/gstatic|127\.0\.0\.1:1|ECONNREFUSED/);
    expect(state.parts.map((p) => [p.source, p.signatureVerified])).toEqual([
      ['https://www.gstatic.com/ct/log_list/v3/all_logs_list.json', true],
      ['https://valid.apple.com/ct/log_list/current_log_list.json', false],
    ]);
    // The union: usable/qualified/readonly only, each log ID once.
    expect(state.logs.every((l) => ['usable', 'qualified', 'readonly'].includes(l.state))).toBe(true);
    expect(new Set(state.logs.map((l) => l.logId)).size).toBe(state.logs.length);
    const g = parseLogList(google).logs.filter((l) => ['usable', 'qualified', 'readonly'].includes(l.state));
    const a = parseLogList(await readFile(join(SHIPPED_SNAPSHOT_DIR, 'loglist-apple.json'))).logs.filter(
      (l) => ['usable', 'qualified', 'readonly'].includes(l.state),
    );
    expect(state.logs.length).toBe(new Set([...g, ...a].map((l) => l.logId)).size);
    expect(state.logs.length).toBeGreaterThan(g.length);
    // Nothing is written for a snapshot: the cache holds only what came from the network.
    await expect(readdir(cacheDir)).rejects.toMatchObject({ code: 'ENOENT' });
    await http.close();
  });

  it('a tampered snapshot is refused like a tampered download', async () => {
    const snapshotDir = join(work, 'snap-bad');
    await rm(snapshotDir, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(snapshotDir));
    for (const f of ['loglist-google-v3.json', 'loglist-google-v3.sig', 'loglist-apple.json'])
      await copyFile(join(SHIPPED_SNAPSHOT_DIR, f), join(snapshotDir, f));
    const bytes = Buffer.from(google);
    bytes[200] = (bytes[200] as number) ^ 1;
    await writeFile(join(snapshotDir, 'loglist-google-v3.json'), bytes);
    const http = offline();
    const lists = createLogListSource({ cacheDir: join(work, 'snap-b'), snapshotDir, http });
    await expect(lists.current()).rejects.toMatchObject({ code: 'LOGLIST_UNAVAILABLE' });
    await http.close();
  });

  it('the shipped snapshot is byte-identical to the test vectors it was copied from', async () => {
    for (const f of [
      'loglist-google-v3.json',
      'loglist-google-v3.sig',
      'loglist-google-pubkey.pem',
      'loglist-apple.json',
    ])
      expect(await readFile(join(SHIPPED_SNAPSHOT_DIR, f))).toEqual(await readFile(new URL(f, VECTORS)));
    expect(await readFile(join(SHIPPED_SNAPSHOT_DIR, 'loglist-google-pubkey.pem'), 'utf8')).toBe(
      GOOGLE_LOG_LIST_PUBLIC_KEY_PEM,
    );
  });
});

describe('createLogListSource, file location', () => {
  it('re-reads the file when it changes; when it disappears keeps the last good list and says why', async () => {
    const dir = join(work, 'file-a');
    await import('node:fs/promises').then((fs) => fs.mkdir(dir));
    const path = join(dir, 'list.json');
    await writeFile(path, google);
    let now = Date.parse('2026-12-01T00:00:00Z');
    const lists = createLogListSource({
      location: path,
      cacheDir: join(dir, 'cache'),
      graceMs: HOUR,
      now: () => now,
    });
    const first = await lists.current();
    expect(first).toMatchObject({ origin: 'file', lastError: null });
    const all = first.logs.length;

    await rm(path);
    now += 60_000;
    const gone = await lists.current();
    expect(gone.logs.length).toBe(all);
    expect(gone.lastError).toMatch(/no such file/);
    expect(gone.stale).toBe(false);
    now += HOUR;
    expect((await lists.current()).stale).toBe(true);

    // Back, with other content: read at once (no waiting for maxAgeMs).
    await writeFile(path, chrome);
    const back = await lists.current();
    expect(back).toMatchObject({ origin: 'file', lastError: null, stale: false });
    expect(back.logs.length).toBe(parseLogList(chrome).logs.length);
    expect(back.logs.length).not.toBe(all);

    // A restart with the file gone: the cached copy of the file serves.
    await rm(path);
    const restarted = await createLogListSource({ location: path, cacheDir: join(dir, 'cache') }).current();
    expect(restarted.origin).toBe('cache');
    expect(restarted.logs.length).toBe(back.logs.length);
    expect(restarted.lastError).toMatch(/no such file/);
    expect(chromeSig.length).toBe(512);
  });

  it('a relative path and its absolute form share one cached copy', async () => {
    const dir = join(work, 'file-c');
    await import('node:fs/promises').then((fs) => fs.mkdir(dir));
    const path = join(dir, 'list.json');
    await writeFile(path, google);
    const cacheDir = join(dir, 'cache');
    await createLogListSource({ location: path, cacheDir }).current();
    await rm(path);
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const state = await createLogListSource({ location: 'list.json', cacheDir }).current();
      expect(state.origin).toBe('cache');
    } finally {
      process.chdir(cwd);
    }
  });

  it('readOnly reads the file but writes nothing', async () => {
    const dir = join(work, 'file-b');
    await import('node:fs/promises').then((fs) => fs.mkdir(dir));
    const path = join(dir, 'list.json');
    await writeFile(path, google);
    const state = await createLogListSource({
      location: path,
      cacheDir: join(dir, 'cache'),
      readOnly: true,
    }).current();
    expect(state.origin).toBe('file');
    expect(await readdir(dir)).toEqual(['list.json']);
  });
});
