/**
 * The victim's services on their own: each presents the victim's certificate with the victim's TLS
 * profile, XMPP STARTTLS works with certvigil's own client (src/probe) and with `openssl s_client
 * -starttls xmpp -xmpphost jabber.lab`, the HTTPS page answers, renewals swap the certificate.
 */
import https from 'node:https';
import { jarmFingerprint } from '../../probe/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabCerts } from './services.fixture.js';
import { labCerts, opensslXmpp, presented, printedLeaf, xmppRoundTrip } from './services.fixture.js';
import type { VictimServices } from './victim.js';
import { startVictimServices } from './victim.js';

describe('victim services', () => {
  let certs: LabCerts;
  let victim: VictimServices;

  beforeAll(async () => {
    certs = await labCerts();
    victim = await startVictimServices({ cert: certs.victim, xmppDomain: 'jabber.lab' });
  });
  afterAll(async () => {
    await victim.close();
    await victim.close(); // idempotent
  });

  it.each(['https', 'xmppTls', 'xmppStarttls'] as const)(
    '%s presents the victim certificate with the victim TLS profile (TLS 1.3)',
    async (service) => {
      const got = await presented(victim.ports[service], { starttls: service === 'xmppStarttls' });
      got.socket.end();
      expect(got.der.equals(certs.victim.der)).toBe(true);
      expect(got.protocol).toBe('TLSv1.3');
    },
  );

  it('prefers its own cipher order in TLS 1.2 (ECDHE-ECDSA-AES256-GCM first) and selects ALPN', async () => {
    const got = await presented(victim.ports.xmppTls, { alpn: ['xmpp-client'], tls12: true });
    got.socket.end();
    expect(got).toMatchObject({
      protocol: 'TLSv1.2',
      cipher: 'ECDHE-ECDSA-AES256-GCM-SHA384',
      alpn: 'xmpp-client',
    });
  });

  it('serves a small page over HTTPS', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      https
        .get(
          {
            host: '127.0.0.1',
            port: victim.ports.https,
            path: '/',
            rejectUnauthorized: false,
            servername: 'jabber.lab',
          },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk.toString()));
            res.on('end', () => resolve(`${res.statusCode} ${text}`));
          },
        )
        .on('error', reject);
    });
    expect(body).toMatch(/^200 <!doctype html>.*jabber\.lab/);
  });

  it('speaks XMPP STARTTLS with certvigil’s own client, then a minimal stream after TLS', async () => {
    const got = await presented(victim.ports.xmppStarttls, { starttls: true });
    const reply = await xmppRoundTrip(got.socket);
    expect(reply).toMatch(
      /^<\?xml version='1\.0'\?><stream:stream [^>]*from='jabber\.lab'[^>]*><stream:features\/>/,
    );
    expect(reply.endsWith('</stream:stream>')).toBe(true);
  });

  it('accepts an IP literal as the stream `to` (the lab addresses 127.0.0.1; DEVIATION in xmpp-server.ts)', async () => {
    const result = await jarmFingerprint(`127.0.0.1:${victim.ports.xmppStarttls}`, {
      starttls: 'xmpp',
      timeoutMs: 3_000,
    });
    expect(result.errors).toEqual([]);
    expect(result.jarm).not.toMatch(/^0+$/);
  });

  it('speaks XMPP over direct TLS (XEP-0368)', async () => {
    const got = await presented(victim.ports.xmppTls);
    expect(await xmppRoundTrip(got.socket)).toContain('<stream:features/>');
  });

  it('works with openssl s_client -starttls xmpp -xmpphost jabber.lab', async () => {
    const { code, out } = await opensslXmpp(victim.ports.xmppStarttls);
    expect(printedLeaf(out)?.equals(certs.victim.der)).toBe(true);
    expect(out).toContain('<stream:features/>');
    expect(code).toBe(0);
  });

  it('setCertificate swaps the certificate for new connections; a bad pair changes nothing', async () => {
    const fresh = await startVictimServices({ cert: certs.victim });
    try {
      fresh.setCertificate(certs.renewed);
      for (const service of ['https', 'xmppTls', 'xmppStarttls'] as const) {
        const got = await presented(fresh.ports[service], { starttls: service === 'xmppStarttls' });
        got.socket.end();
        expect(got.der.equals(certs.renewed.der)).toBe(true);
      }
      expect(() =>
        fresh.setCertificate({ chainPem: certs.victim.chainPem, keyPem: certs.attacker.keyPem }),
      ).toThrow();
      const after = await presented(fresh.ports.https);
      after.socket.end();
      expect(after.der.equals(certs.renewed.der)).toBe(true);
    } finally {
      await fresh.close();
    }
  });

  it('listens on loopback only', async () => {
    await expect(startVictimServices({ host: '0.0.0.0', cert: certs.victim })).rejects.toMatchObject({
      code: 'LAB_INVALID_REQUEST',
    });
  });
});
