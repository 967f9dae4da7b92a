/**
 * `monitor --source-address ADDR` (config `ctSourceAddress:`): the CT log connections leave from
 * that address, so workers on one multi-homed host look like several clients to a log that limits
 * per IP (issue 18). On Linux all of 127.0.0.0/8 is on lo: 127.0.0.2 needs no root. A bad address
 * is a usage error before anything is created.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendBulk, startCtLogServer, TestCa, TestLog, writeLogList } from './fixtures/ct-log/index.js';
import type { CtLogServer } from './fixtures/ct-log/index.js';
import { runCli } from './cli-run.js';

const ENTRIES = 1_500;

let work: string;
let log: InstanceType<typeof TestLog>;
let server: CtLogServer;
let list: string;
let watchlist: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-source-address-'));
  const ca = await TestCa.create();
  log = new TestLog({ name: 'source address test log' });
  appendBulk(log, ca, { count: ENTRIES });
  log.publish();
  server = await startCtLogServer(log, { rfc6962Prefix: '/logs/s/' });
  list = join(work, 'loglist.json');
  await writeLogList(list, [{ server, api: 'rfc6962' }]);
  watchlist = join(work, 'watchlist');
  await writeFile(watchlist, 'h1.s1.bulk.test\n');
});

afterAll(async () => {
  await server?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const monitor = (stateDir: string, ...extra: string[]): string[] => [
  'monitor',
  '--once',
  '--json',
  '--log-list',
  list,
  '--watchlist',
  watchlist,
  '--caa-resolver',
  'off',
  '--state-dir',
  stateDir,
  ...extra,
];

const entriesRead = (stdout: string): number =>
  (JSON.parse(stdout.trim().split('\n').at(-1) as string) as { entriesRead: number }).entriesRead;

describe('monitor --source-address', () => {
  it('reaches the log from 127.0.0.2: every request the log answered came from that address', async () => {
    const before = server.requests.length;
    const r = await runCli(monitor(join(work, 'state-flag'), '--source-address', '127.0.0.2'));
    expect(r.code, r.stderr).toBe(0);
    expect(entriesRead(r.stdout)).toBe(ENTRIES);
    const clients = new Set(server.requests.slice(before).map((q) => q.client));
    expect([...clients]).toEqual(['127.0.0.2']);
  });

  it('takes the address from the config file (ctSourceAddress), the flag winning over it', async () => {
    const config = join(work, 'config.yaml');
    await writeFile(config, 'ctSourceAddress: 127.0.0.3\n');
    let before = server.requests.length;
    const fromFile = await runCli(monitor(join(work, 'state-config'), '--config', config));
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(new Set(server.requests.slice(before).map((q) => q.client))).toEqual(new Set(['127.0.0.3']));
    before = server.requests.length;
    const both = await runCli(
      monitor(join(work, 'state-both'), '--config', config, '--source-address', '127.0.0.4'),
    );
    expect(both.code, both.stderr).toBe(0);
    expect(new Set(server.requests.slice(before).map((q) => q.client))).toEqual(new Set(['127.0.0.4']));
  });

  it('obeys a per-client limit (429 + Retry-After) and still reads the whole log', async () => {
    const limited = await startCtLogServer(log, {
      rfc6962Prefix: '/logs/s/',
      maxEntriesPerResponse: 100,
      rateLimit: { requestsPerSecond: 10, burst: 4 },
    });
    try {
      const limitedList = join(work, 'loglist-limited.json');
      await writeLogList(limitedList, [{ server: limited, api: 'rfc6962' }]);
      const args = monitor(join(work, 'state-limited'), '--source-address', '127.0.0.5');
      args[args.indexOf(list)] = limitedList;
      const r = await runCli(args);
      expect(r.code, r.stderr).toBe(0);
      expect(entriesRead(r.stdout)).toBe(ENTRIES);
      expect(limited.rateLimited).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  }, 60_000);

  it.each([
    [
      'a name',
      ['--source-address', 'localhost'],
      /^certvigil: --source-address "localhost": not a literal IPv4 or IPv6 address$/,
    ],
    ['an address and port', ['--source-address', '127.0.0.2:80'], /not a literal IPv4 or IPv6 address$/],
    [
      'an address this host does not have',
      ['--source-address', '192.0.2.1'],
      /"192\.0\.2\.1": not an address of this host/,
    ],
    ['an empty value', ['--source-address', ''], /not a literal IPv4 or IPv6 address$/],
  ])('%s is a usage error: exit 2, one line, nothing created', async (_name, extra, message) => {
    const state = join(work, `state-bad-${_name.replaceAll(' ', '-')}`);
    const r = await runCli(monitor(state, ...extra));
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
    expect(existsSync(state)).toBe(false);
  });

  it('a config value that is not an IP address is a config error naming the key, nothing created', async () => {
    const config = join(work, 'config-bad.yaml');
    await writeFile(config, 'ctSourceAddress: ct.example.net\n');
    const state = join(work, 'state-bad-config');
    const r = await runCli(monitor(state, '--config', config));
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('ctSourceAddress: must be a literal IPv4 or IPv6 address');
    expect(r.stderr).not.toContain('ct.example.net');
    expect(existsSync(state)).toBe(false);
  });

  it('is documented in monitor --help', async () => {
    const r = await runCli(['monitor', '--help']);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain(
      'spread several workers on a multi-homed host over its addresses, because public logs rate-limit per IP',
    );
  });
});
