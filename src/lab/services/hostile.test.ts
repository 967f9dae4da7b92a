/**
 * Hostile peers against the victim's services and the front: garbage before the stream, a foreign
 * domain, a stanza before STARTTLS, a flood of bytes, a client that never speaks, a ClientHello on
 * the STARTTLS port, and more connections than allowed. Each is answered per RFC 6120 §4.9 where a
 * stream exists, closed in bounded time, and the service keeps working afterwards.
 */
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Front } from './front.js';
import { startFront } from './front.js';
import type { LabCerts } from './services.fixture.js';
import { labCerts, presented, readAll, xmppRoundTrip } from './services.fixture.js';
import type { ServiceName, VictimServices } from './victim.js';
import { SERVICE_NAMES, startVictimServices } from './victim.js';

const SHORT = { idleTimeoutMs: 300, handshakeTimeoutMs: 300, maxConnections: 5 };
const OPEN =
  "<stream:stream to='jabber.lab' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>";

/** Connects, sends `send` (if any), and resolves with what came back and how long until close. */
async function exchange(port: number, send?: string | Buffer): Promise<{ reply: string; ms: number }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  await new Promise((resolve) => socket.once('connect', resolve));
  const start = Date.now();
  const reply = readAll(socket, 5_000);
  if (send !== undefined) socket.write(send);
  return { reply: await reply, ms: Date.now() - start };
}

describe('hostile peers', () => {
  let certs: LabCerts;
  let victim: VictimServices;
  let front: Front;

  beforeAll(async () => {
    certs = await labCerts();
    victim = await startVictimServices({ cert: certs.victim, limits: SHORT });
    front = await startFront({ backends: victim.ports, limits: SHORT });
  });
  afterAll(async () => {
    await front.close();
    await victim.close();
  });

  it.each([
    ['garbage before the stream', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'not-well-formed'],
    ['a foreign domain', OPEN.replace('jabber.lab', 'other.example'), 'host-unknown'],
    ['a stanza before STARTTLS', `${OPEN}<iq type='get' id='1'/>`, 'policy-violation'],
    ['more than the pre-TLS budget', `${OPEN}<iq a='${'x'.repeat(20_000)}`, 'policy-violation'],
    ['a stream header without the streams namespace', "<stream:stream to='jabber.lab'>", 'not-well-formed'],
  ])('STARTTLS port, %s: our header, a stream error, closed', async (_name, send, condition) => {
    for (const port of [victim.ports.xmppStarttls, front.ports.xmppStarttls]) {
      const { reply, ms } = await exchange(port, send);
      expect(reply).toMatch(/^<\?xml version='1\.0'\?><stream:stream /);
      expect(reply).toContain(`<stream:error><${condition} xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>`);
      expect(reply.endsWith('</stream:stream>')).toBe(true);
      expect(ms).toBeLessThan(2_000);
    }
  });

  it('a client that closes the stream before STARTTLS gets the close back', async () => {
    const { reply } = await exchange(victim.ports.xmppStarttls, `${OPEN}</stream:stream>`);
    expect(reply.endsWith('</stream:stream>')).toBe(true);
  });

  it('plaintext pipelined after <starttls/> is dropped, never processed inside TLS (CVE-2011-0411 class)', async () => {
    const raw = net.connect({ host: '127.0.0.1', port: victim.ports.xmppStarttls });
    raw.on('error', () => undefined);
    let seen = '';
    await new Promise<void>((resolve) => {
      const onData = (chunk: Buffer): void => {
        seen += chunk.toString();
        if (!seen.includes('<proceed')) return;
        raw.off('data', onData);
        raw.pause();
        resolve();
      };
      raw.on('data', onData);
      raw.write(`${OPEN}<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><iq type='get' id='injected'/>`);
    });
    const socket = tls.connect({ socket: raw, servername: 'jabber.lab', rejectUnauthorized: false });
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    const reply = await xmppRoundTrip(socket);
    expect(reply).toContain('<stream:features/>');
    expect(reply).not.toContain('<stream:error>');
  });

  it('a TLS ClientHello on the STARTTLS port is a not-well-formed stream, not a crash', async () => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: victim.ports.xmppStarttls,
      rejectUnauthorized: false,
    });
    const failed = await new Promise<boolean>((resolve) => {
      socket.once('error', () => resolve(true));
      socket.once('secureConnect', () => resolve(false));
    });
    socket.destroy();
    expect(failed).toBe(true);
  });

  describe('a client that never speaks is closed after the idle time-out', () => {
    const cases: [string, () => number][] = [
      ...SERVICE_NAMES.map((s): [string, () => number] => [`victim ${s}`, () => victim.ports[s]]),
      ...SERVICE_NAMES.map((s): [string, () => number] => [`front ${s} (relay)`, () => front.ports[s]]),
    ];
    it.each(cases)('%s', async (_name, port) => {
      const { ms } = await exchange(port());
      expect(ms).toBeGreaterThanOrEqual(250);
      expect(ms).toBeLessThan(3_000);
    });

    it.each(['xmppStarttls', 'xmppTls'] as ServiceName[])('front %s (intercepted)', async (service) => {
      front.intercept({ services: ['xmppStarttls', 'xmppTls'], cert: certs.attacker });
      try {
        const { ms } = await exchange(front.ports[service]);
        expect(ms).toBeLessThan(3_000);
      } finally {
        front.stopIntercepting();
      }
    });
  });

  it('more connections than allowed are dropped on accept; the service still answers after', async () => {
    for (const port of [victim.ports.https, front.ports.xmppTls]) {
      const sockets = Array.from({ length: 20 }, () => {
        const socket = net.connect({ host: '127.0.0.1', port });
        socket.on('error', () => undefined);
        return socket;
      });
      await new Promise((resolve) => setTimeout(resolve, 150));
      const open = sockets.filter((s) => !s.destroyed && s.readyState === 'open');
      // Dropped sockets see their close shortly after; count once they have had the chance.
      const survivors = await Promise.all(
        sockets.map(
          (s) =>
            new Promise<boolean>((resolve) => {
              if (s.destroyed) resolve(false);
              else {
                s.once('close', () => resolve(false));
                setTimeout(() => resolve(!s.destroyed), 100);
              }
            }),
        ),
      );
      expect(open.length).toBeGreaterThan(0);
      expect(survivors.filter(Boolean).length).toBeLessThanOrEqual(5);
      for (const s of sockets) s.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    const got = await presented(front.ports.https);
    got.socket.end();
    expect(got.der.equals(certs.victim.der)).toBe(true);
  });
});
