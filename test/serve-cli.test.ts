/**
 * `certvigil serve` end to end through the built binary: serves a state until SIGTERM (exit 0), the
 * API answers with a token and refuses without; the loopback-or-TLS rule, a missing state and bad
 * TLS material are usage errors (exit 2, one line, nothing created); HTTPS with a certificate from
 * the test PKI works.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/index.js';
// eslint-disable-next-line certvigil/no-deep-imports -- a test fixture of src/, not part of store's API
import { LOG_A, batch, ensureLogA, issuance } from '../src/store/store.fixture.js';
import { runCli } from './cli-run.js';
import { runTokenCreate } from './fixtures/tokens.js';
import { startServing } from './fixtures/server.js';
import type { Served } from './fixtures/server.js';
import { findFreePort } from './harness/processes.js';
import { createPki } from './fixtures/tls/pki.js';
import type { Pki } from './fixtures/tls/pki.js';

let work: string;
let stateDir: string;
let token: string;
let pki: Pki;
const children: ChildProcess[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-serve-cli-'));
  stateDir = join(work, 'state');
  const store = await openStore({ stateDir });
  try {
    await store.migrate();
    await ensureLogA(store);
    await store.commitBatch(
      batch(LOG_A, 0, 2, {
        issuances: [
          issuance({ index: 0, dnsNames: ['www.example.com', 'example.com'] }),
          issuance({ index: 1, dnsNames: ['other.test'] }),
        ],
      }),
    );
  } finally {
    await store.close();
  }
  // The CONTRACT's way to a token: `certvigil token create` prints it alone on stdout's first line.
  const created = await runTokenCreate(stateDir, 'viewer', ['--name', 'e2e']);
  expect(created.code, created.stderr).toBe(0);
  token = created.stdout.split('\n')[0] ?? '';
  pki = createPki();
}, 60_000);

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});
afterAll(async () => {
  pki?.cleanup();
  await rm(work, { recursive: true, force: true });
});

/** Starts `certvigil serve ARGS` and waits for its "serving on URL" line. */
const serve = (args: string[]): Promise<Served> => startServing(['serve', ...args], children);

const errorLines = (stderr: string): string[] =>
  stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{"level"'));

describe('certvigil serve (CONTRACT)', () => {
  it('serves the API on 127.0.0.1:P until SIGTERM, then exits 0', async () => {
    const port = await findFreePort();
    const s = await serve(['--listen', `127.0.0.1:${port}`, '--state-dir', stateDir]);
    expect(s.url).toBe(`http://127.0.0.1:${port}`);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    const anonymous = await fetch(`${s.url}/api/v1/certificates?name=example.com`);
    expect(anonymous.status).toBe(401);
    const res = await fetch(`${s.url}/api/v1/certificates?name=example.com`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      certificates: { dnsNames: string[]; known: boolean; reasons: unknown[] }[];
    };
    expect(body.certificates.map((c) => c.dnsNames)).toEqual([['www.example.com', 'example.com']]);
    expect(body.certificates[0]).toMatchObject({ known: false });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    // A keep-alive connection held open by a client does not hold up the exit.
    s.child.kill('SIGTERM');
    const { code } = await s.exit;
    expect(code).toBe(0);
  });

  it('SIGINT stops it too (exit 0)', async () => {
    const s = await serve(['--listen', `[::1]:${await findFreePort()}`, '--state-dir', stateDir]).catch(
      async () => serve(['--listen', `localhost:${await findFreePort()}`, '--state-dir', stateDir]),
    );
    s.child.kill('SIGINT');
    expect((await s.exit).code).toBe(0);
  });
});

describe('usage errors: exit 2, one line, nothing created', () => {
  it.each([
    [
      '0.0.0.0 without TLS',
      ['--listen', '0.0.0.0:8080'],
      /0\.0\.0\.0 is not a loopback address: give --tls-cert and --tls-key, or --insecure-http/,
    ],
    ['a host name without TLS', ['--listen', 'example.test:8080'], /not a loopback address/],
    ['a bad --listen', ['--listen', '127.0.0.1:99999'], /--listen wants HOST:PORT/],
    [
      '--tls-cert alone',
      ['--listen', '127.0.0.1:8080', '--tls-cert', '/etc/hostname'],
      /--tls-cert and --tls-key go together/,
    ],
    ['a bad --audit-interval', ['--listen', '127.0.0.1:8080', '--audit-interval', '1s'], /--audit-interval/],
    ['no --listen', [], /--listen/],
  ])('%s', async (_what, args, message) => {
    const missing = join(work, `missing-${Math.random().toString(36).slice(2)}`, 'state');
    const out = await runCli(['serve', ...args, '--state-dir', missing]);
    expect(out.code, out.stderr).toBe(2);
    const lines = errorLines(out.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(existsSync(join(missing, '..'))).toBe(false);
  });

  it('a missing state: "run certvigil monitor first", and nothing is created', async () => {
    const missing = join(work, 'never', 'state');
    const out = await runCli([
      'serve',
      '--listen',
      `127.0.0.1:${await findFreePort()}`,
      '--state-dir',
      missing,
    ]);
    expect(out.code, out.stderr).toBe(2);
    expect(errorLines(out.stderr)).toEqual([
      `certvigil: no certvigil state at ${missing} (run \`certvigil monitor\` first)`,
    ]);
    expect(existsSync(join(work, 'never'))).toBe(false);
  });

  it('a certificate and a key that do not match', async () => {
    const root = pki.root('serve test root');
    const a = pki.issue(root, { cn: 'a', dns: ['localhost'] });
    const b = pki.issue(root, { cn: 'b', dns: ['localhost'] });
    const out = await runCli([
      'serve',
      '--listen',
      '127.0.0.1:8080',
      '--state-dir',
      stateDir,
      '--tls-cert',
      a.certFile,
      '--tls-key',
      b.keyFile,
    ]);
    expect(out.code, out.stderr).toBe(2);
    expect(errorLines(out.stderr)).toEqual([expect.stringMatching(/^certvigil: --tls-cert\/--tls-key: /)]);
  });

  it('a port in use', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const out = await runCli(['serve', '--listen', `127.0.0.1:${port}`, '--state-dir', stateDir]);
      expect(out.code, out.stderr).toBe(2);
      expect(errorLines(out.stderr)).toEqual([`certvigil: cannot listen on 127.0.0.1:${port}: EADDRINUSE`]);
    } finally {
      blocker.close();
    }
  });

  it('--help states the exit statuses', async () => {
    const out = await runCli(['serve', '--help']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/Exit status: 0 stopped by SIGTERM\/SIGINT, 2 a usage error/);
  });
});

describe('TLS and --insecure-http', () => {
  it('HTTPS with --tls-cert/--tls-key on a non-loopback address', async () => {
    const root = pki.root('serve https root');
    const leaf = pki.issue(root, { cn: 'localhost', dns: ['localhost'] });
    const port = await findFreePort();
    const s = await serve([
      '--listen',
      `0.0.0.0:${port}`,
      '--state-dir',
      stateDir,
      '--tls-cert',
      leaf.certFile,
      '--tls-key',
      leaf.keyFile,
    ]);
    expect(s.url).toBe(`https://0.0.0.0:${port}`);
    const answer = await new Promise<{ status: number; hsts: string | undefined; body: string }>(
      (resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            servername: 'localhost',
            ca: root.certPem,
            path: '/api/v1/certificates?name=other.test',
            headers: { authorization: `Bearer ${token}` },
          },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, hsts: res.headers['strict-transport-security'], body }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      },
    );
    expect(answer.status).toBe(200);
    expect(answer.hsts).toMatch(/max-age=/);
    expect((JSON.parse(answer.body) as { certificates: unknown[] }).certificates).toHaveLength(1);
    s.child.kill('SIGTERM');
    expect((await s.exit).code).toBe(0);
  });

  it('plain HTTP on 0.0.0.0 with --insecure-http', async () => {
    const port = await findFreePort();
    const s = await serve(['--listen', `0.0.0.0:${port}`, '--state-dir', stateDir, '--insecure-http']);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    s.child.kill('SIGTERM');
    expect((await s.exit).code).toBe(0);
    // The state directory holds the store and nothing the server invented.
    expect((await readdir(stateDir)).filter((f) => !f.startsWith('certvigil.sqlite3'))).toEqual([]);
  });
});
