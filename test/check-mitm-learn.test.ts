/**
 * Issue 12: `mitm learn HOST --ports P` on a closed port exited 0 with "JARM (none)" and stored an
 * empty baseline, and `check mitm` then said OK forever. Now a port without a TLS answer is not
 * learned (exit 2 with the reason, nothing stored for it; nothing at all when no port learned);
 * `--allow-no-tls` records "no TLS here", and TLS appearing there is a change. Node TLS servers on
 * loopback, traceroutes off.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli } from './cli-run.js';
import { TestCa } from './fixtures/ct-log/index.js';
import { chainPem, privateKeyPem, startNodeTlsServer } from './fixtures/tls/index.js';
import type { NodeTlsServer, TlsIdentity } from './fixtures/tls/index.js';
import { findFreePort } from './harness/processes.js';

let work: string;
let identity: TlsIdentity;
let web: NodeTlsServer;
let closedPort: number;
/** A plain TCP service that answers with a banner and closes (no TLS). */
let plain: Server;
let plainPort: number;
let appeared: NodeTlsServer | null = null;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-mitm-learn-'));
  const ca = await TestCa.create();
  const cert = ca.issue({ dnsNames: ['xmpp.example.test'], keyType: 'rsa-2048' });
  identity = { chainPem: chainPem(cert.der, cert.chain), keyPem: privateKeyPem(cert.privateKey) };
  web = await startNodeTlsServer(identity);
  closedPort = await findFreePort();
  plain = createServer((s) => s.end('220 plain text service\r\n'));
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  plainPort = (plain.address() as { port: number }).port;
}, 30_000);

afterAll(async () => {
  await Promise.all([web?.stop(), appeared?.stop()]);
  plain?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

const opts = (state: string) => ['--state-dir', state, '--no-trace', '--probe-timeout', '1s'];

describe('mitm learn refuses to learn nothing', () => {
  it.each([
    ['a closed port (connection refused)', () => closedPort, /ECONNREFUSED/],
    ['a port that answers without TLS', () => plainPort, /no TLS answer/],
  ])('%s: exit 2 with the reason, and no state at all', async (_what, port, why) => {
    const state = join(work, `none-${port()}`);
    for (const command of ['learn', 'relearn']) {
      const r = await runCli([
        'mitm',
        command,
        '127.0.0.1',
        '--ports',
        String(port()),
        '--rounds',
        '2',
        ...opts(state),
      ]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `^certvigil: 127\\.0\\.0\\.1:${port()} not learned: no TLS answer on port ${port()} in 2 rounds`,
        ),
      );
      expect(lines[0]).toMatch(why);
      expect(lines[0]).toMatch(/--allow-no-tls/);
      // Nothing learned: not even the state directory is created.
      expect(existsSync(state)).toBe(false);
    }
    const check = await runCli(['check', 'mitm', '127.0.0.1', ...opts(state)]);
    expect(check.code).toBe(3);
    expect(check.stdout).toMatch(/^CERTVIGIL UNKNOWN - no certvigil state at /);
    expect(existsSync(state)).toBe(false);
  });

  it('one port learned, one refused: the good one is stored, exit 2 names the other', async () => {
    const state = join(work, 'partial');
    const r = await runCli([
      'mitm',
      'learn',
      '127.0.0.1',
      '--ports',
      `${web.port},${closedPort}`,
      '--rounds',
      '1',
      '--json',
      ...opts(state),
    ]);
    expect(r.code).toBe(2);
    expect((jsonLines(r.stdout) as { port: number }[]).map((b) => b.port)).toEqual([web.port]);
    expect(r.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${closedPort} not learned`));
    const show = await runCli(['mitm', 'show', '127.0.0.1', '--json', '--state-dir', state]);
    expect((jsonLines(show.stdout) as { port: number }[]).map((b) => b.port)).toEqual([web.port]);
    // What was learned checks OK; the refused port was never silently "as learned".
    const check = await runCli(['check', 'mitm', '127.0.0.1', ...opts(state)]);
    expect(check.code, check.stdout).toBe(0);
    expect(check.stdout).toMatch(/^CERTVIGIL OK - 127\.0\.0\.1: 1 port as learned/);
    // Another target of the same state has no baseline: UNKNOWN, as before.
    const other = await runCli(['check', 'mitm', '127.0.0.2', ...opts(state)]);
    expect(other.code).toBe(3);
    expect(other.stdout).toMatch(/^CERTVIGIL UNKNOWN - 127\.0\.0\.2: no baseline learned/);
  });

  it('relearn of a refused port keeps its old baseline (never leaves it unwatched)', async () => {
    const state = join(work, 'relearn-keeps');
    const learn = await runCli(['mitm', 'learn', '127.0.0.1', '--ports', String(web.port), ...opts(state)]);
    expect(learn.code, learn.stderr).toBe(0);
    const before = await runCli(['mitm', 'show', '127.0.0.1', '--json', '--state-dir', state]);
    // The same port, now refused because the probes cannot get through in time.
    const relearn = await runCli([
      'mitm',
      'relearn',
      '127.0.0.1',
      '--ports',
      String(web.port),
      '--state-dir',
      state,
      '--no-trace',
      '--starttls',
      `${web.port}=smtp`,
      '--probe-timeout',
      '200ms',
    ]);
    expect(relearn.code).toBe(2);
    const after = await runCli(['mitm', 'show', '127.0.0.1', '--json', '--state-dir', state]);
    expect(after.stdout).toBe(before.stdout);
  });
});

describe('mitm learn --allow-no-tls: "no TLS here" is the expected state', () => {
  let state: string;
  let port: number;

  it('stores "no TLS" for a closed port, exit 0, and check mitm is OK while it stays so', async () => {
    state = join(work, 'allow');
    port = await findFreePort();
    const r = await runCli([
      'mitm',
      'learn',
      '127.0.0.1',
      '--ports',
      `${web.port},${port}`,
      '--rounds',
      '1',
      '--allow-no-tls',
      ...opts(state),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`127.0.0.1:${port} JARM no TLS;`);
    const check = await runCli(['check', 'mitm', '127.0.0.1', ...opts(state)]);
    expect(check.code, check.stdout).toBe(0);
    expect(check.stdout).toContain(`port ${port} answers without TLS, as learned`);
  });

  it('TLS appearing there while the other port keeps its JARM: CRITICAL jarm-changed on that port', async () => {
    appeared = await startNodeTlsServer({ ...identity, port });
    const r = await runCli(['check', 'mitm', '127.0.0.1', '--json', ...opts(state)]);
    expect(r.code, r.stdout).toBe(2);
    const [result] = jsonLines(r.stdout) as {
      findings: { id: string; severity: string; address: string }[];
    }[];
    expect(
      result?.findings.filter((f) => f.severity !== 'ok').map((f) => `${f.address} ${f.id} ${f.severity}`),
    ).toEqual([`127.0.0.1:${port} jarm-changed critical`]);
    const text = await runCli(['check', 'mitm', '127.0.0.1', ...opts(state)]);
    expect(text.stdout.split('\n')[0]).toMatch(/TLS now answers, JARM [0-9a-f]{62} \(learned: no TLS\)/);
  });
});
