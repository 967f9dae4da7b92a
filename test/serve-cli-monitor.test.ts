/**
 * `certvigil monitor --serve H:P`: the daemon serves the dashboard and the API over its own store
 * while it reads the local CT log (RFC 6962), and stops both on SIGTERM (exit 0). The serving flags
 * are checked before anything is created.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/index.js';
import type { CtLogServer } from './fixtures/ct-log/index.js';
import { runCli } from './cli-run.js';
import { monitorArgs as args, runMonitorOnce, startMonitorSetup } from './fixtures/monitor-run.js';
import type { MonitorSetup } from './fixtures/monitor-run.js';
import { startServing } from './fixtures/server.js';
import { createTestToken } from './fixtures/tokens.js';
import { findFreePort } from './harness/processes.js';

let work: string;
let setup: MonitorSetup;
let server: CtLogServer;
const children: ChildProcess[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-monitor-serve-'));
  setup = await startMonitorSetup(work, { bulk: 100 });
  server = setup.server;
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

const monitorArgs = (stateDir: string): string[] => args(setup, stateDir);

const errorLines = (stderr: string): string[] =>
  stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{"level"') && !l.startsWith('ok '));

describe('monitor --serve', () => {
  it('serves the API of the running daemon; SIGTERM stops both (exit 0)', async () => {
    const stateDir = join(work, 'state');
    // The state, and a token in it, exist before the daemon starts (as `token create` would do).
    const once = await runMonitorOnce(setup, stateDir);
    expect(once.code, once.stderr).toBe(0);
    const store = await openStore({ stateDir });
    await store.migrate();
    const token = await createTestToken(store, 'viewer', { name: 'daemon' });
    await store.close();

    const port = await findFreePort();
    const { child, exit } = await startServing(
      [...monitorArgs(stateDir), '--interval', '1s', '--serve', `127.0.0.1:${port}`],
      children,
      30_000,
    );
    const url = `http://127.0.0.1:${port}`;
    expect((await fetch(`${url}/api/v1/certificates?name=www.example.test`)).status).toBe(401);
    const res = await fetch(`${url}/api/v1/certificates?name=www.example.test`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { certificates: { known: boolean }[] };
    expect(body.certificates).toHaveLength(4);
    expect(body.certificates.filter((c) => !c.known)).toHaveLength(1);
    // The domains come from the daemon's watch list; audits are off (`caaResolver: false`).
    const domains = (await (
      await fetch(`${url}/api/v1/domains`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as Record<string, unknown>;
    expect(domains).toMatchObject({
      watchListConfigured: true,
      auditConfigured: false,
      domains: [{ domain: 'example.test', watched: true, audit: null, checkedAt: null }],
    });
    child.kill('SIGTERM');
    expect((await exit).code).toBe(0);
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
