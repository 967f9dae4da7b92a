/**
 * `certvigil loglist update|show` end to end (the built binary): update writes the cache the
 * monitor reads, show reads it (or the shipped snapshot) without network and writes nothing.
 */
import { createServer } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-run.js';

const LIST = new URL('./vectors/data/loglist-google-v3-chrome.json', import.meta.url);
let work: string;
let server: Server;
let url: string;
let failing = false;
let body: Buffer;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-loglist-cli-'));
  body = await readFile(LIST);
  server = createServer((_req, res) => {
    if (failing) return void res.writeHead(503).end('maintenance');
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/log_list.json`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(work, { recursive: true, force: true });
});

/** No proxy from the developer's environment for these loopback requests. */
const env = { HTTP_PROXY: '', http_proxy: '', HTTPS_PROXY: '', https_proxy: '' };

describe('certvigil loglist', () => {
  it('show, offline with no cache: the shipped signed snapshot, and nothing is created', async () => {
    const dir = join(work, 'never-made');
    const r = await runCli(['loglist', 'show', '--state-dir', dir, '--json'], env);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown> & { logs: Record<string, unknown>[] };
    expect(out).toMatchObject({ origin: 'snapshot', fetchedAt: null, ageSeconds: null, lastError: null });
    expect(out.logs.length).toBe(out.logCount);
    expect(out.logs[0]).toEqual(
      expect.objectContaining({
        state: expect.any(String),
        operator: expect.any(String),
        kind: expect.any(String),
      }),
    );
    expect(existsSync(dir)).toBe(false);
    const text = await runCli(['loglist', 'show', '--state-dir', dir], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^origin: +snapshot$/m);
    expect(text.stdout).toMatch(/signature verified/);
    expect(text.stdout).toMatch(/not signed \(trusted on TLS only\)/);
    expect(existsSync(dir)).toBe(false);
  });

  it('update caches the list (0700/0600); show reads it back read-only; a failing update exits 2 and keeps the copy', async () => {
    const dir = join(work, 'state');
    const up = await runCli(['loglist', 'update', '--log-list', url, '--state-dir', dir, '--json'], env);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    const updated = JSON.parse(up.stdout) as Record<string, unknown>;
    expect(updated).toMatchObject({ origin: 'network', source: url, lastError: null, cacheDir: dir });
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    const [file, ...more] = await readdir(dir);
    expect(more).toEqual([]);
    const cacheFile = join(dir, file as string);
    expect(statSync(cacheFile).mode & 0o777).toBe(0o600);
    const cached = await readFile(cacheFile);
    const mtime = statSync(cacheFile).mtimeMs;

    const show = await runCli(['loglist', 'show', '--log-list', url, '--state-dir', dir, '--json'], env);
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({
      origin: 'cache',
      fetchedAt: updated.fetchedAt,
      source: url,
    });
    expect(statSync(cacheFile).mtimeMs).toBe(mtime);

    failing = true;
    try {
      const bad = await runCli(['loglist', 'update', '--log-list', url, '--state-dir', dir], env);
      expect(bad.code).toBe(2);
      expect(bad.stdout).toBe('');
      expect(bad.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(bad.stderr).toMatch(/^certvigil: log list update failed: GET .*503/);
      expect(await readFile(cacheFile)).toEqual(cached);
      const still = await runCli(['loglist', 'show', '--log-list', url, '--state-dir', dir], env);
      expect(still.code).toBe(0);
      expect(still.stdout).toMatch(/^origin: +cache$/m);
    } finally {
      failing = false;
    }
  });

  it.each([
    ['both --state-dir and --cache-dir', ['update', '--state-dir', 'A', '--cache-dir', 'B'], /not both/],
    [
      'a non-loopback http URL',
      ['update', '--log-list', 'http://ct.example/list.json', '--state-dir', 'A'],
      /only https/,
    ],
    ['an empty --log-list', ['show', '--log-list', '', '--state-dir', 'A'], /must not be empty/],
    ['a missing file and no cache', ['show', '--log-list', 'nope.json', '--state-dir', 'A'], /no such file/],
  ])('%s: exit 2, one line, nothing created', async (_name, args, message) => {
    const base = await mkdtemp(join(work, 'bad-'));
    const resolved = args.map((a) =>
      a === 'A' || a === 'B' ? join(base, a) : a === 'nope.json' ? join(base, a) : a,
    );
    const r = await runCli(['loglist', ...resolved], env);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(await readdir(base)).toEqual([]);
  });

  it.each([['update'], ['show']])('%s --help states the exit statuses', async (sub) => {
    const r = await runCli(['loglist', sub, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Exit status: 0 .*2 /s);
  });
});
