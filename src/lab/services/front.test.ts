/**
 * The front in the 2023 roles: a pure relay shows the real server (its certificate, its JARM) on
 * every port; intercepting the XMPP ports shows the attacker's certificate and a different JARM
 * there only, while 443 keeps the victim's certificate and JARM. JARM is certvigil's own
 * (`jarmFingerprint` of src/probe, the one `mitm learn`/`check mitm` use).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jarmFingerprint } from '../../probe/index.js';
import type { Front } from './front.js';
import { startFront } from './front.js';
import type { LabCerts } from './services.fixture.js';
import { labCerts, opensslXmpp, presented, printedLeaf, readAll, xmppRoundTrip } from './services.fixture.js';
import type { ServiceName, VictimServices } from './victim.js';
import { SERVICE_NAMES, startVictimServices } from './victim.js';

async function jarm(port: number, service: ServiceName): Promise<string> {
  const result = await jarmFingerprint(`127.0.0.1:${port}`, {
    serverName: 'jabber.lab',
    timeoutMs: 3_000,
    ...(service === 'xmppStarttls' ? { starttls: 'xmpp' as const } : {}),
  });
  expect(result.errors).toEqual([]);
  return result.jarm;
}

describe('front: relay, then the attacker’s TLS-terminating proxy on the XMPP ports', () => {
  let certs: LabCerts;
  let victim: VictimServices;
  let front: Front;
  const victimJarm = {} as Record<ServiceName, string>;

  beforeAll(async () => {
    certs = await labCerts();
    victim = await startVictimServices({ cert: certs.victim });
    front = await startFront({ backends: victim.ports });
    for (const service of SERVICE_NAMES) victimJarm[service] = await jarm(victim.ports[service], service);
  });
  afterAll(async () => {
    await front.close();
    await front.close();
    await victim.close();
  });

  it('the victim has one JARM on every port (one TLS stack), and not the empty one', () => {
    expect(new Set(Object.values(victimJarm)).size).toBe(1);
    expect(victimJarm.https).not.toMatch(/^0+$/);
  });

  describe('pass-through', () => {
    it.each(SERVICE_NAMES)('%s: the real server’s certificate and JARM, byte for byte', async (service) => {
      const got = await presented(front.ports[service], { starttls: service === 'xmppStarttls' });
      got.socket.end();
      expect(got.der.equals(certs.victim.der)).toBe(true);
      expect(await jarm(front.ports[service], service)).toBe(victimJarm[service]);
    });
  });

  describe('intercepting xmppStarttls and xmppTls', () => {
    beforeAll(() => {
      front.intercept({ services: ['xmppStarttls', 'xmppTls'], cert: certs.attacker });
    });

    it('lists what it intercepts', () => {
      expect(front.intercepted().sort()).toEqual(['xmppStarttls', 'xmppTls']);
    });

    it.each(['xmppStarttls', 'xmppTls'] as const)(
      '%s: the attacker’s certificate (another key) and a different JARM',
      async (service) => {
        const got = await presented(front.ports[service], { starttls: service === 'xmppStarttls' });
        got.socket.end();
        expect(got.der.equals(certs.attacker.der)).toBe(true);
        expect(got.protocol).toBe('TLSv1.2');
        expect(await jarm(front.ports[service], service)).not.toBe(victimJarm[service]);
      },
    );

    it('the attacker honours the client’s cipher order and sends no ALPN (its own TLS profile)', async () => {
      const got = await presented(front.ports.xmppTls, { tls12: true, alpn: ['xmpp-client'] });
      got.socket.end();
      expect(got).toMatchObject({ cipher: 'ECDHE-ECDSA-AES128-GCM-SHA256', alpn: false });
    });

    it('https (443) is untouched: the victim’s certificate and JARM', async () => {
      const got = await presented(front.ports.https);
      got.socket.end();
      expect(got.der.equals(certs.victim.der)).toBe(true);
      expect(await jarm(front.ports.https, 'https')).toBe(victimJarm.https);
    });

    it('relays the XMPP stream to the real server after STARTTLS and after direct TLS', async () => {
      for (const service of ['xmppStarttls', 'xmppTls'] as const) {
        const got = await presented(front.ports[service], { starttls: service === 'xmppStarttls' });
        const reply = await xmppRoundTrip(got.socket);
        expect(reply).toMatch(/<stream:features\/>/);
        expect(reply.endsWith('</stream:stream>')).toBe(true);
      }
    });

    it('openssl s_client -starttls xmpp sees the attacker’s leaf and still reaches the stream', async () => {
      const { code, out } = await opensslXmpp(front.ports.xmppStarttls);
      expect(printedLeaf(out)?.equals(certs.attacker.der)).toBe(true);
      expect(out).toContain('<stream:features/>');
      expect(code).toBe(0);
    });

    it('closes the client when the real server goes away', async () => {
      const backend = await startVictimServices({ cert: certs.victim });
      const alone = await startFront({ backends: backend.ports });
      try {
        alone.intercept({ services: ['xmppTls'], cert: certs.attacker });
        const got = await presented(alone.ports.xmppTls);
        const closed = readAll(got.socket, 5_000).then(() => Date.now());
        await new Promise((resolve) => setTimeout(resolve, 50));
        const start = Date.now();
        await backend.close();
        expect((await closed) - start).toBeLessThan(2_000);
      } finally {
        await alone.close();
        await backend.close();
      }
    });

    it('refuses unknown services and unusable certificates', () => {
      expect(() => front.intercept({ services: ['smtp' as ServiceName], cert: certs.attacker })).toThrow(
        expect.objectContaining({ code: 'LAB_INVALID_REQUEST' }),
      );
      expect(() =>
        front.intercept({
          services: ['xmppTls'],
          cert: { chainPem: certs.attacker.chainPem, keyPem: certs.victim.keyPem },
        }),
      ).toThrow(expect.objectContaining({ code: 'LAB_INVALID_REQUEST' }));
      expect(front.intercepted().sort()).toEqual(['xmppStarttls', 'xmppTls']);
    });

    it('stopIntercepting: new connections see the real server again', async () => {
      front.stopIntercepting();
      for (const service of SERVICE_NAMES) {
        const got = await presented(front.ports[service], { starttls: service === 'xmppStarttls' });
        got.socket.end();
        expect(got.der.equals(certs.victim.der)).toBe(true);
      }
      expect(await jarm(front.ports.xmppTls, 'xmppTls')).toBe(victimJarm.xmppTls);
    });
  });
});
