/**
 * Issue 16: the dashboard shows the last `check mitm` result, which the plugin (read-only) never
 * kept. `check mitm --record` stores it (the output unchanged) and /mitm and /api/v1/mitm show it;
 * without `--record` nothing is written. A Node TLS server on loopback, traceroutes off.
 */
import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, newToken } from '../src/server/index.js';
import type { ServerDeps } from '../src/server/index.js';
import { openStore, SQLITE_FILE_NAME } from '../src/store/index.js';
import type { Store } from '../src/store/index.js';
import { jsonLines, runCli } from './cli-run.js';
import { TestCa } from './fixtures/ct-log/index.js';
import { chainPem, privateKeyPem, startNodeTlsServer } from './fixtures/tls/index.js';
import type { NodeTlsServer, TlsIdentity } from './fixtures/tls/index.js';

let work: string;
let state: string;
let identity: TlsIdentity;
let web: NodeTlsServer;
let other: NodeTlsServer | null = null;

const logger: ServerDeps['logger'] = { info() {}, warn() {}, error() {} };
const opts = () => ['--state-dir', state, '--no-trace', '--probe-timeout', '1s'];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-mitm-record-'));
  state = join(work, 'state');
  const ca = await TestCa.create();
  const cert = ca.issue({ dnsNames: ['mitm.example.test'], keyType: 'rsa-2048' });
  identity = { chainPem: chainPem(cert.der, cert.chain), keyPem: privateKeyPem(cert.privateKey) };
  web = await startNodeTlsServer(identity);
  const learn = await runCli([
    'mitm',
    'learn',
    '127.0.0.1',
    '--ports',
    String(web.port),
    '--rounds',
    '1',
    ...opts(),
  ]);
  expect(learn.code, learn.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  await Promise.all([web?.stop(), other?.stop()]);
  if (work) await rm(work, { recursive: true, force: true });
});

async function withStore<T>(fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ stateDir: state });
  await store.migrate();
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

const dbMtime = () => statSync(join(state, SQLITE_FILE_NAME)).mtimeMs;

describe('check mitm --record', () => {
  it('without --record: the same plugin, nothing recorded, the database untouched', async () => {
    const before = dbMtime();
    const r = await runCli(['check', 'mitm', '127.0.0.1', ...opts()]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/^CERTVIGIL OK - /);
    expect(dbMtime()).toBe(before);
    expect(await withStore((s) => s.listMitmResults())).toEqual([]);
  });

  it('stores the verdict and the --json result; the output is the plugin output unchanged', async () => {
    const plain = await runCli(['check', 'mitm', '127.0.0.1', '--json', ...opts()]);
    const started = new Date().toISOString();
    const r = await runCli(['check', 'mitm', '127.0.0.1', '--json', '--record', ...opts()]);
    expect(r.code, r.stdout).toBe(0);
    const [printed] = jsonLines(r.stdout) as Record<string, unknown>[];
    const [unrecorded] = jsonLines(plain.stdout) as Record<string, unknown>[];
    expect(Object.keys(printed ?? {})).toEqual(Object.keys(unrecorded ?? {}));
    const [stored, ...rest] = await withStore((s) => s.listMitmResults());
    expect(rest).toEqual([]);
    expect(stored).toMatchObject({ target: '127.0.0.1', status: 'OK' });
    expect((stored?.checkedAt ?? '') >= started).toBe(true);
    // The stored document is the --json line the plugin printed.
    expect(JSON.parse(stored?.resultJson ?? 'null')).toEqual(printed);
  });

  it('replaces the result on the next run: a changed JARM is recorded with the exit status printed', async () => {
    // Another TLS stack configuration on the learned port: stop the server, start one with another key.
    const port = web.port;
    await web.stop();
    const ca = await TestCa.create();
    const cert = ca.issue({ dnsNames: ['mitm.example.test'], keyType: 'ec-p256' });
    other = await startNodeTlsServer({
      chainPem: chainPem(cert.der, cert.chain),
      keyPem: privateKeyPem(cert.privateKey),
      port,
      minVersion: 'TLSv1.3',
    });
    const text = await runCli(['check', 'mitm', '127.0.0.1', '--record', ...opts()]);
    const results = await withStore((s) => s.listMitmResults());
    expect(results).toHaveLength(1);
    const status = text.stdout.split(' ')[1];
    // One port only: a change "on every port" (WARNING, see `check mitm --help`), never OK.
    expect(['WARNING', 'CRITICAL']).toContain(status);
    expect(results[0]?.status).toBe(status);
    expect(text.code).toBe({ OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 }[status ?? '']);
  });

  it('with no state: UNKNOWN, nothing created', async () => {
    const none = join(work, 'none');
    const r = await runCli(['check', 'mitm', '127.0.0.1', '--record', '--state-dir', none, '--no-trace']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^CERTVIGIL UNKNOWN - no certvigil state/);
    expect(() => statSync(none)).toThrow();
  });

  it('/mitm and /api/v1/mitm show the recorded result next to the baselines', async () => {
    await withStore(async (store) => {
      const t = newToken();
      await store.createToken({
        id: t.id,
        name: 'test-viewer',
        role: 'viewer',
        tokenSha256: t.tokenSha256,
        createdAt: new Date().toISOString(),
        expiresAt: null,
        revokedAt: null,
        lastUsedAt: null,
      });
      const app = createApp({ store, logger, secureCookies: false });
      const headers = { authorization: `Bearer ${t.token}` };
      const [recorded] = await store.listMitmResults();
      const api = await app.request('/api/v1/mitm', { headers });
      expect(api.status).toBe(200);
      const body = (await api.json()) as { baselines: unknown[]; results: Record<string, unknown>[] };
      expect(body.baselines).toHaveLength(1);
      expect(body.results).toEqual([
        {
          target: '127.0.0.1',
          status: recorded?.status,
          checkedAt: recorded?.checkedAt,
          result: expect.objectContaining({ target: '127.0.0.1', status: recorded?.status }),
        },
      ]);
      const none = (await (await app.request('/api/v1/mitm?target=none.test', { headers })).json()) as {
        results: unknown[];
      };
      expect(none.results).toEqual([]);
      const page = await app.request('/mitm', { headers });
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('Last check mitm result per target');
      expect(html).toContain(
        `badge-${recorded?.status === 'OK' ? 'ok' : recorded?.status === 'WARNING' ? 'warning' : recorded?.status === 'CRITICAL' ? 'critical' : 'info'}">${recorded?.status}`,
      );
      expect(html).toContain(`<time datetime="${recorded?.checkedAt}">`);
      expect(html).not.toContain('not kept in the store');
    });
  });
});
