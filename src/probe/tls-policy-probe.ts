/**
 * @module probe/tls-policy-probe
 * The sockets of the TLS protocol policy (`tls-policy.ts` decides): one raw ClientHello per
 * question (`tls-hello.ts` builds and reads it), all at once, each on its own connection opened by
 * the caller's `connect` (TCP, proxy, STARTTLS: the same path as the main handshake) and bounded
 * by the check's deadline and AbortSignal.
 *
 * Node's OpenSSL refuses to offer TLS 1.0/1.1 or weak suites at its default security level, so
 * these hellos are our own; we read the ServerHello (or the alert) and hang up, so no key
 * exchange and no crypto happen, whatever the server picked.
 */
import { errorMessage } from '../errors.js';
import type { Socket } from 'node:net';
import {
  EXTENSION_TYPE,
  TLS_1_2,
  TLS_1_3,
  TlsHelloError,
  buildClientHello,
  readServerHello,
} from './tls-hello.js';
import type { ServerHelloFacts } from './tls-hello.js';
import type { TlsProbe, TlsProbeAnswer, TlsProbeOutcome } from './tls-policy.js';

export interface TlsPolicyProbeOptions {
  /** Opens a connection ready for a ClientHello (TCP, proxy, STARTTLS done). */
  connect: () => Promise<Socket>;
  /** SNI (RFC 6066 §3), as the main handshake sends it. */
  serverName: string | null;
  /** Epoch ms by which every probe has its answer or gives up. */
  deadline: number;
  signal?: AbortSignal;
}

/** RFC 5246 §7.2 AlertDescription names we are likely to see in a refusal. */
const ALERTS: Record<number, string> = {
  0: 'close_notify',
  10: 'unexpected_message',
  40: 'handshake_failure',
  47: 'illegal_parameter',
  50: 'decode_error',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  112: 'unrecognized_name',
};

/** The ClientHello of one probe; TLS 1.3 is asked for with supported_versions (RFC 8446 §4.2.1). */
export function helloFor(probe: TlsProbe, serverName: string | null): Uint8Array {
  const base = { serverName, cipherSuites: probe.suites, requestOcsp: false, requestScts: false };
  // RFC 8446 §4.1.2: legacy_version stays 0x0303 when TLS 1.3 is offered.
  if (probe.version >= TLS_1_3)
    return buildClientHello({ ...base, clientVersion: TLS_1_2, supportedVersions: [probe.version] });
  return buildClientHello({ ...base, clientVersion: probe.version });
}

/** The answer the facts of a (possibly partial) server flight give to `probe`. */
export function answerOf(facts: ServerHelloFacts, probe: TlsProbe): TlsProbeAnswer {
  if (facts.version !== 0) {
    const hello = { kind: 'hello' as const, version: facts.version, cipherSuite: facts.cipherSuite };
    // RFC 5246 §7.4.1.4: no extension in the ServerHello that the ClientHello did not carry. A
    // supported_versions we did not send would make facts.version the server's say-so alone.
    const unsolicited = facts.extensions.some((e) => e.type === EXTENSION_TYPE.supportedVersions);
    if (unsolicited && probe.version < TLS_1_3)
      return { ...hello, anomaly: 'a supported_versions extension the hello did not carry' };
    return hello;
  }
  if (facts.alert) {
    const d = facts.alert.description;
    return { kind: 'refused', detail: `alert ${ALERTS[d] ?? d}` };
  }
  return { kind: 'failed', detail: 'no ServerHello' };
}

function answerOfError(e: unknown, probe: TlsProbe): TlsProbeAnswer {
  if (e instanceof TlsHelloError) {
    // A closed or reset connection after our hello is how many servers refuse a version or find
    // no suite in common; a ServerHello read in full before the close still counts.
    if (e.code === 'TLS_HELLO_CLOSED') {
      if (e.partial === undefined) return { kind: 'refused', detail: 'connection closed' };
      // Some bytes but no whole ServerHello (a cut record, a length running past the end): no answer.
      return e.partial.version !== 0
        ? answerOf(e.partial, probe)
        : { kind: 'failed', detail: `closed mid-answer: ${e.message}` };
    }
    if (e.code === 'TLS_HELLO_NETWORK' && /ECONNRESET|EPIPE/.test(e.message))
      return { kind: 'refused', detail: 'connection reset' };
    return { kind: 'failed', detail: e.message };
  }
  return { kind: 'failed', detail: errorMessage(e) };
}

async function runOne(probe: TlsProbe, options: TlsPolicyProbeOptions): Promise<TlsProbeAnswer> {
  let socket: Socket;
  try {
    socket = await options.connect();
  } catch (e) {
    return { kind: 'failed', detail: `connection failed: ${errorMessage(e)}` };
  }
  try {
    const hello = helloFor(probe, options.serverName);
    const reading = readServerHello(socket, {
      timeoutMs: Math.max(1, options.deadline - Date.now()),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    socket.write(hello, () => undefined); // write errors surface as 'error' events, read above
    return answerOf(await reading, probe);
  } catch (e) {
    return answerOfError(e, probe);
  } finally {
    socket.destroy();
  }
}

/** Sends every probe at once; never throws (a failure is a `failed` answer). */
export async function runTlsProbes(
  probes: readonly TlsProbe[],
  options: TlsPolicyProbeOptions,
): Promise<TlsProbeOutcome[]> {
  return Promise.all(probes.map(async (probe) => ({ probe, answer: await runOne(probe, options) })));
}
