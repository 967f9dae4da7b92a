/**
 * @module lab/services/services.fixture
 * Test helpers for the lab's services: the victim's and the attacker's certificates (same CA, same
 * name, different keys: the 2023 situation) and small clients that report which certificate a port
 * presents, directly or after certvigil's own XMPP STARTTLS dialogue (src/probe).
 */
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { negotiateStartTls } from '../../probe/index.js';
import { TestCa } from '../../../test/fixtures/ct-log/index.js';
import { chainPem, privateKeyPem } from '../../../test/fixtures/tls/index.js';
import type { ServiceCertificate } from './tls-profiles.js';

export interface LabCerts {
  victim: ServiceCertificate & { der: Buffer };
  attacker: ServiceCertificate & { der: Buffer };
  renewed: ServiceCertificate & { der: Buffer };
}

export async function labCerts(domain = 'jabber.lab'): Promise<LabCerts> {
  const ca = await TestCa.create();
  const make = (): ServiceCertificate & { der: Buffer } => {
    const cert = ca.issue({ dnsNames: [domain] });
    return {
      chainPem: chainPem(cert.der, cert.chain),
      keyPem: privateKeyPem(cert.privateKey),
      der: Buffer.from(cert.der),
    };
  };
  return { victim: make(), attacker: make(), renewed: make() };
}

export interface Presented {
  der: Buffer;
  protocol: string | null;
  cipher: string;
  alpn: string | false | null;
  socket: tls.TLSSocket;
}

/**
 * Connects to `port` (after certvigil's XMPP STARTTLS dialogue when `starttls`), completes the TLS
 * handshake without verification and returns the leaf presented; the socket stays open (caller ends it).
 */
/** A TLS 1.2 client that prefers AES128 over AES256: whose order wins shows honorCipherOrder. */
export const TLS12_CLIENT_ORDER = 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384';

export async function presented(
  port: number,
  options: { starttls?: boolean; alpn?: string[]; tls12?: boolean } = {},
): Promise<Presented> {
  const raw = net.connect({ host: '127.0.0.1', port });
  raw.on('error', () => undefined);
  if (options.starttls === true)
    await negotiateStartTls(raw, 'xmpp', { domain: 'jabber.lab', timeoutMs: 5_000 });
  const socket = tls.connect({
    socket: raw,
    servername: 'jabber.lab',
    rejectUnauthorized: false,
    ...(options.alpn === undefined ? {} : { ALPNProtocols: options.alpn }),
    ...(options.tls12 === true ? { maxVersion: 'TLSv1.2' as const, ciphers: TLS12_CLIENT_ORDER } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  return {
    der: socket.getPeerCertificate().raw,
    protocol: socket.getProtocol(),
    cipher: socket.getCipher().name,
    alpn: socket.alpnProtocol,
    socket,
  };
}

/** Everything `socket` sends until it closes (or `limitMs`), as text. */
export function readAll(socket: net.Socket | tls.TLSSocket, limitMs = 5_000): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(text);
    }, limitMs);
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

/** Opens the stream after TLS and closes it again; resolves with everything the server said. */
export async function xmppRoundTrip(socket: tls.TLSSocket): Promise<string> {
  const all = readAll(socket);
  let seen = '';
  const onData = (chunk: Buffer): void => {
    seen += chunk.toString('utf8');
    if (seen.includes('<stream:features')) {
      socket.off('data', onData);
      socket.write('</stream:stream>');
    }
  };
  socket.on('data', onData);
  socket.write(
    "<stream:stream to='jabber.lab' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
  );
  return all;
}

/**
 * `openssl s_client -starttls xmpp` against `port`: once the handshake is done it opens the stream
 * after TLS and closes it when the features arrive. Resolves with everything s_client printed.
 */
export function opensslXmpp(port: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      'openssl',
      [
        's_client',
        '-connect',
        `127.0.0.1:${port}`,
        '-starttls',
        'xmpp',
        '-xmpphost',
        'jabber.lab',
        '-ign_eof',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    let phase = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString('latin1');
      if (phase === 0 && /\n---\n[\s\S]*Verify return code/.test(out)) {
        phase = 1;
        child.stdin.write(
          "<stream:stream to='jabber.lab' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>",
        );
      } else if (phase === 1 && out.includes('<stream:features/>')) {
        phase = 2;
        child.stdin.end('</stream:stream>');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.stdin.on('error', () => undefined);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** The leaf s_client printed ("Server certificate"), as DER. */
export function printedLeaf(out: string): Buffer | undefined {
  const block = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(out);
  return block === null ? undefined : Buffer.from(new X509Certificate(block[0]).raw);
}
