/**
 * `certvigil monitor --serve H:P`: the daemon serves the dashboard and the API over its own store
 * while it reads the local CT log (RFC 6962), and stops both on SIGTERM (exit 0). The serving flags
 * are checked before anything is created.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// eslint-disable-next-line certvigil/no-deep-imports -- until `certvigil token create` lands, tests mint tokens as it will
import { newToken } from '../src/server/auth/secrets.js';
import { openStore } from '../src/store/index.js';
import { startCtLogServer, writeLogList } from './fixtures/ct-log/index.js';
import type { CtLogServer } from './fixtures/ct-log/index.js';
import { CLI, runCli } from './cli-run.js';
import { buildScenario } from './monitor-scenario.js';
import type { Scenario } from './monitor-scenario.js';

let work: string;
let scenario: Scenario;
let server: CtLogServer;
let list: string;
let config: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-monitor-serve-'));
  scenario = await buildScenario(work, { bulk: 100 });
  server = await startCtLogServer(scenario.log, { rfc6962Prefix: '/logs/s/', staticPrefix: '/static/' });
  list = join(work, 'loglist.json');
  await writeLogList(list, [{ server, api: 'rfc6962' }]);
  config = join(work, 'config.yaml');
  await writeFile(config, `caaResolver: false\nalerts:\n  exec: { command: "cat >/dev/null" }\n`);
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const monitorArgs = (stateDir: string): string[] => [
  'monitor',
  '--log-list',
  list,
  '--watchlist',
  scenario.watchlist,
  '--state-dir',
  stateDir,
  '--inventory',
  scenario.inventoryDir,
  '--config',
  config,
];

const errorLines = (stderr: string): string[] =>
  stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{"level"') && !l.startsWith('ok '));

describe('monitor --serve', () => {
  it('serves the API of the running daemon; SIGTERM stops both (exit 0)', async () => {
    const stateDir = join(work, 'state');
    // The state, and a token in it, exist before the daemon starts (as `token create` would do).
    const once = await runCli([...monitorArgs(stateDir), '--once']);
    expect(once.code, once.stderr).toBe(0);
    const t = newToken();
    const store = await openStore({ stateDir });
    await store.migrate();
    await store.createToken({
      id: t.id,
      name: 'daemon',
      role: 'viewer',
      tokenSha256: t.tokenSha256,
      createdAt: new Date().toISOString(),
      expiresAt: null,
      revokedAt: null,
      lastUsedAt: null,
    });
    await store.close();

    const port = await freePort();
    const child = spawn(
      process.execPath,
      [CLI, ...monitorArgs(stateDir), '--interval', '1s', '--serve', `127.0.0.1:${port}`],
      { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    children.push(child);
    let stderr = '';
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "serving on": ${stderr}`)), 30_000);
      child.stderr?.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (stderr.includes(`serving on http://127.0.0.1:${port}`)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const url = `http://127.0.0.1:${port}`;
    expect((await fetch(`${url}/api/v1/certificates?name=www.example.test`)).status).toBe(401);
    const res = await fetch(`${url}/api/v1/certificates?name=www.example.test`, {
      headers: { authorization: `Bearer ${t.token}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { certificates: { known: boolean }[] };
    expect(body.certificates).toHaveLength(4);
    expect(body.certificates.filter((c) => !c.known)).toHaveLength(1);
    // The domains come from the daemon's watch list; audits are off (`caaResolver: false`).
    const domains = (await (
      await fetch(`${url}/api/v1/domains`, { headers: { authorization: `Bearer ${t.token}` } })
    ).json()) as Record<string, unknown>;
    expect(domains).toMatchObject({
      watchListConfigured: true,
      auditConfigured: false,
      domains: [{ domain: 'example.test', watched: true, audit: null, checkedAt: null }],
    });
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  }, 90_000);

  it.each([
    [
      '--serve with --once',
      ['--once', '--serve', '127.0.0.1:8080'],
      /--serve runs the server inside the daemon/,
    ],
    [
      '--serve on 0.0.0.0 without TLS',
      ['--serve', '0.0.0.0:8080'],
      /--serve 0\.0\.0\.0 is not a loopback address/,
    ],
    ['--tls-cert without --serve', ['--tls-cert', '/etc/hostname'], /go with --serve/],
    ['a bad --serve', ['--serve', 'nope'], /--serve wants HOST:PORT/],
  ])('%s: exit 2, one line, nothing created', async (_what, extra, message) => {
    const stateDir = join(work, `never-${Math.random().toString(36).slice(2)}`, 'state');
    const out = await runCli([...monitorArgs(stateDir), ...extra]);
    expect(out.code, out.stderr).toBe(2);
    const lines = errorLines(out.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(existsSync(join(stateDir, '..'))).toBe(false);
  });
});
