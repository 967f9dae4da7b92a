/**
 * `certvigil monitor` as an unattended service (issue 13), against the built binary and the local CT
 * log: a stuck log holds nothing up (the watched certificate in the healthy log reaches the exec
 * hook within 30 s), a log list that disappears keeps the daemon running on the logs it knows,
 * SIGHUP re-reads the watch list and config (a broken config keeps the old one), SIGTERM exits 0,
 * and a log whose signed root stops matching is rewound and alerted once per evidence.
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCtLogServer, TestCa, TestLog, writeLogList } from './fixtures/ct-log/index.js';
import type { CtLogServer } from './fixtures/ct-log/index.js';
import { CLI, jsonLines, runCli } from './cli-run.js';

let work: string;
let ca: TestCa;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-daemon-'));
  ca = await TestCa.create();
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});
const servers: CtLogServer[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

let n = 0;
async function caseDir(): Promise<string> {
  const dir = join(work, `case-${++n}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** A log with some noise, served over both APIs. */
async function serveLog(name: string, staticCtApi: boolean, names: string[][] = []): Promise<CtLogServer> {
  const log = new TestLog({ name, staticCtApi });
  for (let i = 0; i < 20; i++) log.addCertificate(ca.issue({ dnsNames: [`noise-${i}.other.test`] }));
  for (const dnsNames of names) log.addCertificate(ca.issue({ dnsNames }));
  log.publish();
  const server = await startCtLogServer(log, {
    rfc6962Prefix: '/logs/t/',
    staticPrefix: staticCtApi ? '/static/' : null,
  });
  servers.push(server);
  return server;
}

/**
 * Hook: one line per event, `EVENT|dns names|LEAF_HASH|"entry" if ENTRY_FILENAME is readable|message`;
 * the names come from the certspotter JSON file. Writes the script and returns the config text.
 */
async function hookConfig(hookLog: string, extra = ''): Promise<string> {
  const script = `${hookLog}.sh`;
  await writeFile(
    script,
    [
      '#!/bin/sh',
      'cat >/dev/null',
      'names=""',
      `[ -n "$JSON_FILENAME" ] && names=$(tr -d '\n ' < "$JSON_FILENAME" | grep -o '"dns_names":\\[[^]]*\\]' | sed 's/"dns_names"://' | tr -d '"[]')`,
      'entry=""; [ -s "$ENTRY_FILENAME" ] && entry=entry',
      `printf '%s|%s|%s|%s|%s\n' "$EVENT" "$names" "$LEAF_HASH" "$entry" "$CERTVIGIL_MESSAGE" >> '${hookLog}'`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  return `caaResolver: false\n${extra}alerts:\n  exec: { command: '${script}' }\n`;
}

async function hookLines(hookLog: string): Promise<string[]> {
  return (await readFile(hookLog, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');
}

interface Daemon {
  child: ChildProcess;
  passes: () => number;
  stderr: string[];
  exit: Promise<number | null>;
}

function startDaemon(args: string[]): Daemon {
  const child = spawn(process.execPath, [CLI, 'monitor', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  children.push(child);
  const stderr: string[] = [];
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (l) => stderr.push(l));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, stderr, exit, passes: () => stderr.filter((l) => l.startsWith('alerts:')).length };
}

async function until(what: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await what()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return what();
}

describe('a stuck log holds nothing up', () => {
  it.each([
    ['rfc6962', false, ['get-entries'] as const],
    ['static-ct-api', true, ['data-tile', 'tile'] as const],
  ])(
    '%s: with one log that never answers get-entries/tiles, a watched certificate in the other reaches the exec hook within 30 s',
    async (_kind, staticCtApi, hang) => {
      const dir = await caseDir();
      const hung = await serveLog('hung log', staticCtApi, [['www.watched.test']]);
      hung.faults.hang = [...hang];
      const healthy = await serveLog('healthy log', staticCtApi, [['alert.watched.test']]);
      const list = join(dir, 'list.json');
      const api = staticCtApi ? 'static' : 'rfc6962';
      // The hung log first: a daemon that reads logs in order would wait for it.
      await writeLogList(list, [
        { server: hung, api },
        { server: healthy, api },
      ]);
      const watchlist = join(dir, 'watchlist');
      await writeFile(watchlist, '.watched.test\n');
      const hookLog = join(dir, 'hook.log');
      const config = join(dir, 'config.yaml');
      await writeFile(config, await hookConfig(hookLog));
      const started = Date.now();
      const d = startDaemon([
        '--config',
        config,
        '--log-list',
        list,
        '--watchlist',
        watchlist,
        '--state-dir',
        join(dir, 'state'),
        '--interval',
        '5',
      ]);
      const seen = await until(
        async () =>
          (await hookLines(hookLog)).some((l) => l.startsWith('discovered_cert|alert.watched.test')),
        30_000,
      );
      const elapsed = Date.now() - started;
      expect(seen, `${d.stderr.join('\n')}\n${(await hookLines(hookLog)).join('\n')}`).toBe(true);
      expect(elapsed).toBeLessThan(30_000);
      // The stuck log was really asked (and never answered).
      expect(hung.requests.some((r) => r.fault === 'hang')).toBe(true);
      // The pass reports the stuck log after one interval instead of waiting for it.
      expect(await until(() => d.passes() >= 1, 15_000)).toBe(true);
      expect(d.stderr.join('\n')).toMatch(/WAITING hung log .*first attempt still running/);
      expect(d.stderr.join('\n')).toMatch(/ok healthy log/);
      expect(d.child.exitCode).toBeNull();
      d.child.kill('SIGTERM');
      expect(await d.exit).toBe(0);
    },
    60_000,
  );
});

describe('the log list becomes unreachable', () => {
  it('keeps running (alive after 3 more intervals) and keeps reading the logs it knows', async () => {
    const dir = await caseDir();
    const server = await serveLog('known log', false);
    const list = join(dir, 'list.json');
    await writeLogList(list, [{ server, api: 'rfc6962' }]);
    const watchlist = join(dir, 'watchlist');
    await writeFile(watchlist, '.watched.test\n');
    const hookLog = join(dir, 'hook.log');
    const config = join(dir, 'config.yaml');
    await writeFile(config, await hookConfig(hookLog));
    const d = startDaemon([
      '--config',
      config,
      '--log-list',
      list,
      '--watchlist',
      watchlist,
      '--state-dir',
      join(dir, 'state'),
      '--interval',
      '1',
    ]);
    expect(await until(() => d.passes() >= 1, 20_000), d.stderr.join('\n')).toBe(true);
    await rm(list);
    server.log.addCertificate(ca.issue({ dnsNames: ['late.watched.test'] }));
    server.log.publish();
    const before = d.passes();
    expect(await until(() => d.passes() >= before + 3, 20_000), d.stderr.join('\n')).toBe(true);
    expect(d.child.exitCode).toBeNull();
    expect(
      await until(
        async () => (await hookLines(hookLog)).some((l) => l.startsWith('discovered_cert|late.watched.test')),
        10_000,
      ),
    ).toBe(true);
    expect(d.stderr.join('\n')).toMatch(/log list not reloaded, keeping the last one/);
    d.child.kill('SIGTERM');
    expect(await d.exit).toBe(0);
  }, 60_000);
});

describe('signals', () => {
  it('SIGHUP re-reads the watch list (matched in the next cycle), a broken config keeps the old one; SIGTERM exits 0', async () => {
    const dir = await caseDir();
    const server = await serveLog('hup log', false, [['first.watched.test']]);
    const list = join(dir, 'list.json');
    await writeLogList(list, [{ server, api: 'rfc6962' }]);
    const watchlist = join(dir, 'watchlist');
    await writeFile(watchlist, '.watched.test\n');
    const hookLog = join(dir, 'hook.log');
    const config = join(dir, 'config.yaml');
    await writeFile(config, await hookConfig(hookLog));
    const state = join(dir, 'state');
    // A long interval: only SIGHUP can bring the next cycle this soon.
    const d = startDaemon([
      '--config',
      config,
      '--log-list',
      list,
      '--watchlist',
      watchlist,
      '--state-dir',
      state,
      '--interval',
      '1h',
    ]);
    expect(await until(() => d.passes() >= 1, 20_000), d.stderr.join('\n')).toBe(true);
    await appendFile(watchlist, 'hup.example.test\n');
    server.log.addCertificate(ca.issue({ dnsNames: ['hup.example.test'] }));
    server.log.publish();
    d.child.kill('SIGHUP');
    expect(
      await until(
        async () => (await hookLines(hookLog)).some((l) => l.startsWith('discovered_cert|hup.example.test')),
        15_000,
      ),
      d.stderr.join('\n'),
    ).toBe(true);
    expect(d.child.exitCode).toBeNull();
    const names = jsonLines((await runCli(['certs', 'list', '--state-dir', state, '--json'])).stdout).map(
      (c) => c.dnsNames,
    );
    expect(names).toContainEqual(['hup.example.test']);

    // A broken config on the next SIGHUP: logged, the old one kept, still running.
    await writeFile(config, 'alerts: [not, a, mapping\n');
    d.child.kill('SIGHUP');
    expect(
      await until(
        () => d.stderr.some((l) => /configuration not reloaded, keeping the last one/.test(l)),
        10_000,
      ),
      d.stderr.join('\n'),
    ).toBe(true);
    server.log.addCertificate(ca.issue({ dnsNames: ['after.watched.test'] }));
    server.log.publish();
    d.child.kill('SIGHUP');
    // The old config (its exec hook) still delivers.
    expect(
      await until(
        async () =>
          (await hookLines(hookLog)).some((l) => l.startsWith('discovered_cert|after.watched.test')),
        15_000,
      ),
    ).toBe(true);
    expect(d.child.exitCode).toBeNull();
    d.child.kill('SIGTERM');
    expect(await d.exit).toBe(0);
  }, 60_000);
});

describe('a log whose signed root stops matching (flip root)', () => {
  it.each([
    ['rfc6962', false],
    ['static-ct-api', true],
  ])(
    '%s: one misbehaviour alert for the evidence, position rewound, verified again once the log is fixed',
    async (_k, staticCtApi) => {
      const dir = await caseDir();
      const server = await serveLog('flip log', staticCtApi, [['a.watched.test']]);
      const list = join(dir, 'list.json');
      await writeLogList(list, [{ server, api: staticCtApi ? 'static' : 'rfc6962' }]);
      const watchlist = join(dir, 'watchlist');
      await writeFile(watchlist, '.watched.test\n');
      const hookLog = join(dir, 'hook.log');
      const config = join(dir, 'config.yaml');
      await writeFile(config, await hookConfig(hookLog));
      const state = join(dir, 'state');
      const once = (): ReturnType<typeof runCli> =>
        runCli([
          'monitor',
          '--once',
          '--config',
          config,
          '--log-list',
          list,
          '--watchlist',
          watchlist,
          '--state-dir',
          state,
        ]);
      expect((await once()).code).toBe(0);
      server.log.addCertificate(ca.issue({ dnsNames: ['b.watched.test'] }));
      server.log.publish();
      server.faults.flipRoot = true;
      const first = await once();
      expect(first.code, first.stderr).toBe(1);
      expect(first.stderr).toMatch(/MISBEHAVING .*hash to .* but it signed/);
      // The download position went back to the verified head (21 entries), not past the unverified one.
      const cursor = (): { position: number; verified: string } => {
        const db = new Database(join(state, 'certvigil.sqlite3'), { readonly: true });
        try {
          return db.prepare('SELECT position, verified FROM logs').get() as {
            position: number;
            verified: string;
          };
        } finally {
          db.close();
        }
      };
      expect(cursor().position).toBe(21);
      expect((JSON.parse(cursor().verified) as { treeSize: number }).treeSize).toBe(21);
      const second = await once();
      expect(second.code, second.stderr).toBe(1);
      // The rewound entries were read again (the cursor did not stay past them) ...
      expect(second.stderr).toMatch(/hash to/);
      // ... and the same evidence alerted once, not once per run.
      const errors = (await hookLines(hookLog)).filter((l) => l.startsWith('error|') && /signed/.test(l));
      expect(errors).toHaveLength(1);
      server.faults.flipRoot = false;
      const fixed = await once();
      expect(fixed.code, fixed.stderr).toBe(0);
      expect(fixed.stderr).toMatch(/ok .*at 22\/22/);
    },
    60_000,
  );
});

describe('malformed entries in a real run', () => {
  it('the exec hook gets LEAF_HASH and a readable ENTRY_FILENAME', async () => {
    const dir = await caseDir();
    const log = new TestLog({ name: 'malformed log' });
    log.addRaw(Buffer.from('definitely not DER'));
    log.publish();
    const server = await startCtLogServer(log, { rfc6962Prefix: '/logs/t/' });
    servers.push(server);
    const list = join(dir, 'list.json');
    await writeLogList(list, [{ server, api: 'rfc6962' }]);
    const watchlist = join(dir, 'watchlist');
    await writeFile(watchlist, '.watched.test\n');
    const hookLog = join(dir, 'hook.log');
    const config = join(dir, 'config.yaml');
    await writeFile(config, await hookConfig(hookLog));
    const r = await runCli([
      'monitor',
      '--once',
      '--config',
      config,
      '--log-list',
      list,
      '--watchlist',
      watchlist,
      '--state-dir',
      join(dir, 'state'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const lines = (await hookLines(hookLog)).filter((l) => l.startsWith('malformed_cert|'));
    expect(lines).toHaveLength(1);
    const [, , leafHash, entry] = (lines[0] ?? '').split('|');
    expect(leafHash).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(entry).toBe('entry');
  }, 60_000);
});

describe('heartbeat and a hooks.d directory in a real daemon run', () => {
  it('every executable of the directory gets the discovered certificate and the opt-in heartbeat', async () => {
    const dir = await caseDir();
    const server = await serveLog('heartbeat log', false, [['hb.watched.test']]);
    const list = join(dir, 'list.json');
    await writeLogList(list, [{ server, api: 'rfc6962' }]);
    const watchlist = join(dir, 'watchlist');
    await writeFile(watchlist, '.watched.test\n');
    const hooks = join(dir, 'hooks.d');
    await mkdir(hooks);
    for (const name of ['10-first', '20-second']) {
      await writeFile(
        join(hooks, name),
        `#!/bin/sh\ncat >/dev/null\nprintf '%s\\n' "$EVENT" >> '${join(dir, `${name}.log`)}'\n`,
        { mode: 0o755 },
      );
    }
    // Not executable, and a dotfile: skipped, as certspotter does.
    await writeFile(join(hooks, '30-not-executable'), '#!/bin/sh\nexit 1\n', { mode: 0o644 });
    await writeFile(join(hooks, '.hidden'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    const config = join(dir, 'config.yaml');
    await writeFile(
      config,
      `caaResolver: false\nalerts:\n  heartbeat: 1h\n  exec: { directory: '${hooks}' }\n`,
    );
    const d = startDaemon([
      '--config',
      config,
      '--log-list',
      list,
      '--watchlist',
      watchlist,
      '--state-dir',
      join(dir, 'state'),
      '--interval',
      '1',
    ]);
    const events = async (name: string): Promise<string[]> => hookLines(join(dir, `${name}.log`));
    const both = async (event: string): Promise<boolean> =>
      (await events('10-first')).includes(event) && (await events('20-second')).includes(event);
    expect(await until(() => both('discovered_cert'), 20_000), d.stderr.join('\n')).toBe(true);
    expect(await until(() => both('heartbeat'), 20_000), d.stderr.join('\n')).toBe(true);
    // One heartbeat per interval (1 h), not one per pass.
    const before = d.passes();
    expect(await until(() => d.passes() >= before + 2, 20_000)).toBe(true);
    expect((await events('10-first')).filter((e) => e === 'heartbeat')).toHaveLength(1);
    d.child.kill('SIGTERM');
    expect(await d.exit).toBe(0);
  }, 90_000);
});

describe('a log list that cannot be refreshed past its grace period', () => {
  it('raises one health alert, and the daemon goes on reading the logs of the last good list', async () => {
    const dir = await caseDir();
    const server = await serveLog('list gone log', false);
    const file = join(dir, 'list.json');
    await writeLogList(file, [{ server, api: 'rfc6962' }]);
    const body = await readFile(file);
    const listServer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    await new Promise<void>((resolve) => listServer.listen(0, '127.0.0.1', resolve));
    const port = (listServer.address() as AddressInfo).port;
    const watchlist = join(dir, 'watchlist');
    await writeFile(watchlist, '.watched.test\n');
    const hookLog = join(dir, 'hook.log');
    const config = join(dir, 'config.yaml');
    await writeFile(config, await hookConfig(hookLog, 'logListMaxAge: 1s\nlogListGrace: 2s\n'));
    const d = startDaemon([
      '--config',
      config,
      '--log-list',
      `http://127.0.0.1:${port}/list.json`,
      '--watchlist',
      watchlist,
      '--state-dir',
      join(dir, 'state'),
      '--interval',
      '1',
    ]);
    expect(await until(() => d.passes() >= 1, 20_000), d.stderr.join('\n')).toBe(true);
    listServer.closeAllConnections();
    await new Promise<void>((resolve) => listServer.close(() => resolve()));
    const listAlerts = async (): Promise<string[]> =>
      (await hookLines(hookLog)).filter((l) => l.startsWith('error|') && l.includes('log list'));
    expect(await until(async () => (await listAlerts()).length > 0, 30_000), d.stderr.join('\n')).toBe(true);
    // Still reading the log of the last good list.
    server.log.addCertificate(ca.issue({ dnsNames: ['after.watched.test'] }));
    server.log.publish();
    expect(
      await until(
        async () =>
          (await hookLines(hookLog)).some((l) => l.startsWith('discovered_cert|after.watched.test')),
        20_000,
      ),
    ).toBe(true);
    expect(await listAlerts()).toHaveLength(1);
    expect(d.child.exitCode).toBeNull();
    d.child.kill('SIGTERM');
    expect(await d.exit).toBe(0);
  }, 90_000);
});
