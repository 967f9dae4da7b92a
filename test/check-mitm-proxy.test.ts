/**
 * `certvigil mitm learn` / `check mitm` against a TLS-terminating proxy placed in front of a server
 * on one port (nginx's stream module, a real one): the JARM of that port changes while the other
 * port keeps its own, so the check turns CRITICAL naming that port; after `mitm relearn` it is OK.
 * All on loopback, traceroutes off (the namespace test covers paths).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runCli } from './cli-run.js';
import { TestCa } from './fixtures/ct-log/index.js';
import { chainPem, privateKeyPem, startNodeTlsServer } from './fixtures/tls/index.js';
import type { NodeTlsServer } from './fixtures/tls/index.js';
import { startNginxTlsProxy } from './harness/nginx.js';
import type { NginxTlsProxy } from './harness/nginx.js';
import { findFreePort } from './harness/processes.js';

let work: string;
let state: string;
let identity: { chainPem: string; keyPem: string };
let web: NodeTlsServer;
let xmpp: NodeTlsServer;
let moved: NodeTlsServer | null = null;
let proxy: NginxTlsProxy | null = null;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-mitm-proxy-'));
  state = join(work, 'state');
  const ca = await TestCa.create();
  const cert = ca.issue({ dnsNames: ['xmpp.example.test'], keyType: 'rsa-2048' });
  identity = { chainPem: chainPem(cert.der, cert.chain), keyPem: privateKeyPem(cert.privateKey) };
  web = await startNodeTlsServer(identity);
  xmpp = await startNodeTlsServer(identity);
}, 30_000);

afterAll(async () => {
  await Promise.all([web?.stop(), xmpp?.stop(), moved?.stop(), proxy?.stop()]);
  if (work) await rm(work, { recursive: true, force: true });
});

const ports = () => `${web.port},${xmpp.port}`;
const base = () => ['--state-dir', state, '--no-trace'];

describe('check mitm: a TLS-terminating proxy in front of one port', () => {
  it('no state yet: UNKNOWN, and the plugin creates none', async () => {
    const r = await runCli(['check', 'mitm', '127.0.0.1', ...base()]);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(
      /^CERTVIGIL UNKNOWN - no certvigil state at .* \(run `certvigil mitm learn` first\)\n$/,
    );
    expect(existsSync(state)).toBe(false);
  });

  it('learns both ports, and checks OK while nothing changed', async () => {
    const learn = await runCli([
      'mitm',
      'learn',
      '127.0.0.1',
      '--ports',
      ports(),
      '--rounds',
      '2',
      '--json',
      ...base(),
    ]);
    expect(learn.code, learn.stderr).toBe(0);
    const learned = jsonLines(learn.stdout) as { port: number; jarms: string[] }[];
    expect(learned.map((b) => b.port)).toEqual([web.port, xmpp.port]);
    for (const b of learned) expect(b.jarms).toHaveLength(1);
    const r = await runCli(['check', 'mitm', '127.0.0.1', ...base()]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(
      /^CERTVIGIL OK - 127\.0\.0\.1: 2 ports as learned .*\| ports=2;;;0 changed=0;;;0/,
    );
  });

  it('a proxy takes over one port: CRITICAL jarm-changed on that port only', async () => {
    // The real server moves behind the proxy; the proxy answers on its old port with nginx's TLS.
    const backendPort = await findFreePort();
    moved = await startNodeTlsServer({ ...identity, port: backendPort });
    const xmppPort = xmpp.port;
    await xmpp.stop();
    proxy = await startNginxTlsProxy({
      listenPort: xmppPort,
      backendPort,
      certPem: identity.chainPem,
      keyPem: identity.keyPem,
    });
    const r = await runCli(['check', 'mitm', '127.0.0.1', '--json', ...base()]);
    expect(r.code, r.stdout).toBe(2);
    const [result] = jsonLines(r.stdout) as {
      findings: { id: string; severity: string; address: string }[];
    }[];
    const critical = result?.findings
      .filter((f) => f.severity === 'critical')
      .map((f) => `${f.address} ${f.id}`);
    expect(critical).toEqual([`127.0.0.1:${xmppPort} jarm-changed`]);
    const text = await runCli(['check', 'mitm', '127.0.0.1', ...base()]);
    expect(text.stdout.split('\n')[0]).toMatch(
      new RegExp(
        `^CERTVIGIL CRITICAL - 127\\.0\\.0\\.1: port ${xmppPort} TLS fingerprint changed on this port only`,
      ),
    );
  });

  it('after `mitm relearn` of that port (an expected change), OK again', async () => {
    const relearn = await runCli(['mitm', 'relearn', '127.0.0.1', '--ports', String(xmpp.port), ...base()]);
    expect(relearn.code, relearn.stderr).toBe(0);
    const r = await runCli(['check', 'mitm', '127.0.0.1', ...base()]);
    expect(r.code, r.stdout).toBe(0);
    const show = await runCli(['mitm', 'show', '127.0.0.1', '--json', '--state-dir', state]);
    expect(jsonLines(show.stdout)).toHaveLength(2);
  });
});
