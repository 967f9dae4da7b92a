/**
 * The lab's namespaces as a product component: `namespacesSupported` answers in plain words and
 * never throws; a topology gets random names and leaves nothing behind; TLS listeners with the
 * victim's certificate start in the server namespace and answer a client in the client namespace,
 * through r1 and r2, on IPv4 and IPv6. The routing itself (detour per port, traceroute) is tested
 * in test/traceroute-netns.test.ts and test/check-mitm-netns.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Topology } from './netns.js';
import { createTopology } from './netns.js';
import { namespacesSupported } from './netns-support.js';
import type { NamespaceTlsListeners } from './netns-tls.js';
import { startNamespaceTlsListeners } from './netns-tls.js';
import type { LabCerts } from './services/services.fixture.js';
import { labCerts } from './services/services.fixture.js';

const support = await namespacesSupported();
const skip = support.ok ? null : support.reason;

describe('namespacesSupported', () => {
  it('says what is missing in plain words instead of throwing', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const result = await namespacesSupported();
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.reason).toMatch(/root|iproute2|Linux|kernel/);
    } finally {
      process.env.PATH = path;
    }
  });
});

function namespaces(): string[] {
  return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name !== '');
}

describe.skipIf(skip !== null)(`lab namespaces${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let topo: Topology;
  let certs: LabCerts;
  let listeners: NamespaceTlsListeners;

  beforeAll(async () => {
    certs = await labCerts();
    topo = await createTopology();
    listeners = await startNamespaceTlsListeners(topo, { ports: [443, 5222], cert: certs.victim });
  });
  afterAll(async () => {
    await listeners?.stop();
    await topo?.destroy();
  });

  it('names every namespace with a random suffix', async () => {
    const other = await createTopology();
    try {
      const ours = [topo.clientNs, topo.serverNs, topo.mitmNs, topo.r1Ns, topo.r2Ns];
      expect(new Set(ours.map((n) => /^cv-([0-9a-f]{6})-/.exec(n)?.[1])).size).toBe(1);
      expect(other.clientNs).not.toBe(topo.clientNs);
      expect(namespaces()).toEqual(expect.arrayContaining([...ours, other.clientNs]));
    } finally {
      await other.destroy();
      await other.destroy();
    }
    expect(namespaces()).not.toContain(other.clientNs);
  });

  it.each([
    ['IPv4', () => `${topo.serverV4}:5222`],
    ['IPv6', () => `[${topo.serverV6}]:443`],
  ])('the victim certificate answers in the client namespace (%s)', async (_family, target) => {
    const result = await topo.exec(topo.clientNs, [
      '/bin/sh',
      '-c',
      'openssl s_client -connect "$1" -servername jabber.lab </dev/null 2>/dev/null',
      's_client',
      target(),
    ]);
    const pem = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(result.stdout)?.[0];
    expect(pem).toBeDefined();
    expect(Buffer.from(new X509Certificate(pem ?? '').raw).equals(certs.victim.der)).toBe(true);
  });

  it('refuses a port in use with LAB_START_FAILED, and stop() is idempotent', async () => {
    await expect(
      startNamespaceTlsListeners(topo, { ports: [443], cert: certs.victim, readyTimeoutMs: 5_000 }),
    ).rejects.toMatchObject({
      code: 'LAB_START_FAILED',
    });
    const extra = await startNamespaceTlsListeners(topo, { ports: [5223], cert: certs.victim });
    await extra.stop();
    await extra.stop();
  });

  it('destroy() removes every namespace', async () => {
    const names = [topo.clientNs, topo.serverNs, topo.mitmNs, topo.r1Ns, topo.r2Ns];
    await listeners.stop();
    await topo.destroy();
    const left = namespaces();
    for (const name of names) expect(left).not.toContain(name);
  });
});
