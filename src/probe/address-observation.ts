/**
 * @module probe/address-observation
 * The per-address I/O of `check endpoint`: connect (directly or through the proxy), upgrade with
 * STARTTLS when asked, and read what the server presents. Two connections per address (and key
 * type): Node's TLS handshake for the validated chain, the stapled OCSP response and the negotiated
 * protocol; and our own raw TLS 1.2 ClientHello (tls-hello.ts) for what Node cannot show, the SCTs
 * of the `signed_certificate_timestamp` extension (RFC 6962 §3.3.1) and the chain exactly as served
 * (RFC 8446 §4.4.2). Failures become part of the observation, never a throw: a dead address is a
 * finding, not the end of the check.
 */
import { errorMessage } from '../errors.js';
import type { Socket } from 'node:net';
import { openTcp } from './connect.js';
import type { EndpointCheckOptions } from './endpoint-types.js';
import { tlsHandshake } from './handshake.js';
import { keyTypeAddress, keyTypeOffer } from './key-types.js';
import type { ServerKeyType } from './key-types.js';
import { negotiateStartTls } from './starttls.js';
import { probeTlsExtensionScts } from './tls-hello.js';

/** What one address (with one key type) presented, or why it presented nothing. */
export interface AddressObservation {
  address: string;
  error: string | null;
  handshake: Awaited<ReturnType<typeof tlsHandshake>> | null;
  tlsExtSctList: Uint8Array | null;
  tlsExtNote: string | null;
  /** The Certificate message as served (raw TLS 1.2 hello), when it shows the same leaf. */
  servedChain: Uint8Array[] | null;
  keyType?: ServerKeyType;
  /** The connection worked but the TLS handshake failed (a missing key type, not a dead server). */
  tlsFailed?: boolean;
}

/** A socket to `address`, STARTTLS-upgraded when asked, ready for a TLS ClientHello. */
export async function connectAndUpgrade(
  address: string,
  options: EndpointCheckOptions,
  deadline: number,
): Promise<Socket> {
  const left = (): number => Math.max(1, deadline - Date.now());
  const socket = await openTcp(address, options.port, {
    timeoutMs: left(),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.proxy ? { proxy: options.proxy } : {}),
  });
  if (options.starttls) {
    try {
      await negotiateStartTls(socket, options.starttls, {
        domain: options.sni ?? options.host,
        timeoutMs: left(),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (e) {
      socket.destroy();
      throw e;
    }
  }
  return socket;
}

/** Both handshakes with one address, by `deadline`; with `keyType`, offering only that key type. */
export async function observeAddress(
  address: string,
  options: EndpointCheckOptions,
  sni: string | null,
  deadline: number,
  keyType?: ServerKeyType,
): Promise<AddressObservation> {
  const label = keyTypeAddress(address, keyType);
  const left = (): number => Math.max(1, deadline - Date.now());
  const main = (async () => {
    const socket = await connectAndUpgrade(address, options, deadline);
    return tlsHandshake(socket, {
      servername: sni,
      ca: options.trustAnchors,
      timeoutMs: left(),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(keyType ? { keyType } : {}),
      ...(options.clientCert ? { clientCert: options.clientCert } : {}),
    });
  })();
  // RFC 6962 §3.3.1: the TLS extension is only visible to a client that asks for it, which Node
  // cannot; a second connection sends our own TLS 1.2 hello and reads the ServerHello.
  // It also shows the chain exactly as sent (chain.ts), so it runs even with CT off.
  const ext = (async () => {
    const socket = await connectAndUpgrade(address, options, deadline);
    return probeTlsExtensionScts(socket, sni, {
      timeoutMs: left(),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(keyType ? { cipherSuites: keyTypeOffer(keyType).helloSuites } : {}),
    });
  })();
  const [m, x] = await Promise.allSettled([main, ext]);
  if (m.status === 'rejected')
    return {
      address: label,
      error: errorMessage(m.reason),
      handshake: null,
      tlsExtSctList: null,
      tlsExtNote: null,
      servedChain: null,
      ...(keyType ? { keyType, tlsFailed: (m.reason as { code?: unknown }).code === 'PROBE_TLS' } : {}),
    };
  let tlsExtSctList: Uint8Array | null = null;
  let tlsExtNote: string | null = null;
  if (x.status === 'rejected') tlsExtNote = `TLS-extension SCTs not read: ${errorMessage(x.reason)}`;
  else if (x.value.alert)
    tlsExtNote = `TLS-extension SCTs not read: the server refused a TLS 1.2 hello (alert ${x.value.alert.description})`;
  else if (x.value.version !== 0x0303)
    tlsExtNote = 'TLS-extension SCTs not read: the server did not negotiate TLS 1.2';
  else tlsExtSctList = x.value.sctList;
  // Node rebuilds the chain (chain.ts); the raw hello saw it as sent, if it got the same leaf.
  const served = x.status === 'fulfilled' ? x.value.certificates : [];
  const leaf = m.value.chain[0];
  const servedChain = served[0] && leaf && Buffer.from(served[0]).equals(Buffer.from(leaf)) ? served : null;
  return {
    address: label,
    error: null,
    handshake: m.value,
    tlsExtSctList,
    tlsExtNote,
    servedChain,
    ...(keyType ? { keyType } : {}),
  };
}
