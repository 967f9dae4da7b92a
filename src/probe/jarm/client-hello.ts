/**
 * @module probe/jarm/client-hello
 * The bytes JARM sends: the ten ClientHellos of `probes.ts`, laid out by `template.ts`, with the
 * server name in server_name (RFC 6066 §3) and fresh randomness in ClientHello.random,
 * legacy_session_id (RFC 5246 §7.4.1.2, RFC 8446 §4.1.2), the X25519 key_share (RFC 8446 §4.2.8)
 * and the GREASE slots (RFC 8701 §3.1).
 *
 * Why the randomness is injectable: jarm.py draws it fresh per probe (os.urandom, random.choice),
 * and it is not part of the fingerprint; tests fix it to compare the bytes with jarm.py captures
 * (test/vectors/jarm/jarm-probes.json) byte for byte.
 */
import { randomBytes, randomFillSync } from 'node:crypto';
import { CertvigilError } from '../../errors.js';
import type { JarmProbeSpec } from './probes.js';
import { GREASE_VALUES, JARM_PROBES } from './probes.js';
import type { PlacedProbe } from './template.js';
import { placeProbe, probeLength, templateFor } from './template.js';

/**
 * The random parts of a probe. jarm.py draws them fresh for every probe (os.urandom and
 * random.choice); tests inject fixed ones to compare the bytes with reference captures.
 */
export interface JarmRandomness {
  /** ClientHello.random, 32 bytes. */
  random: Uint8Array;
  /** legacy_session_id, 32 bytes (jarm.py always sends a 32-byte one). */
  sessionId: Uint8Array;
  /** The X25519 key_share public value, 32 bytes (random bytes, not a real key: no handshake follows). */
  keyShare: Uint8Array;
  /**
   * GREASE values for the GREASE probes, used in this order and repeated when short: cipher list,
   * first extension, key_share group, supported_versions entry (jarm.py draws each separately).
   */
  grease: readonly number[];
}

/** Fresh randomness, as jarm.py draws it. */
export function randomJarmRandomness(): JarmRandomness {
  const r = randomBytes(RANDOM_BYTES_PER_PROBE);
  return randomnessFrom(r, 0);
}

/** random, session id, key share (32 bytes each) and four GREASE choices (one byte each). */
const RANDOM_BYTES_PER_PROBE = 3 * 32 + 4;

/**
 * The randomness of one probe taken from `RANDOM_BYTES_PER_PROBE` bytes of `r` at `at`. A GREASE
 * value is the byte's low nibble as an index into the 16 values: uniform, as jarm.py's
 * random.choice (only the distribution matters, the values themselves are not fingerprinted).
 */
function randomnessFrom(r: Uint8Array, at: number): JarmRandomness {
  const grease: number[] = [];
  for (let i = 0; i < 4; i++) grease.push(GREASE_VALUES[(r[at + 96 + i] ?? 0) & 0x0f] ?? 0x0a0a);
  return {
    random: r.subarray(at, at + 32),
    sessionId: r.subarray(at + 32, at + 64),
    keyShare: r.subarray(at + 64, at + 96),
    grease,
  };
}

function exactLength(name: string, value: Uint8Array, length: number): void {
  if (value.length !== length)
    throw new CertvigilError('USAGE', `JARM ${name} must be ${length} bytes (got ${value.length})`);
}
/** Puts a probe's randomness into its slots; GREASE values repeat when fewer are given. */
function fillRandomness(out: Uint8Array, placed: PlacedProbe, r: JarmRandomness): void {
  out.set(r.random, placed.randomAt);
  out.set(r.sessionId, placed.sessionIdAt);
  out.set(r.keyShare, placed.keyShareAt);
  const g = r.grease;
  placed.greaseAt.forEach((at, i) => {
    const value = g.length === 0 ? 0x0a0a : (g[i % g.length] ?? 0x0a0a) & 0xffff;
    out[at] = value >> 8;
    out[at + 1] = value & 0xff;
  });
}

function serverNameBytes(serverName: string): Buffer {
  const name = Buffer.from(serverName, 'utf8');
  if (name.length > 0xff00) throw new CertvigilError('USAGE', 'JARM server name too long');
  return name;
}

/**
 * The exact bytes of one JARM probe: a TLS record (RFC 5246 §6.2.1) holding one ClientHello
 * (RFC 5246 §7.4.1.2, RFC 8446 §4.1.2) for `serverName`, which goes into server_name (RFC 6066 §3)
 * as given — jarm.py sends the target as typed, IP literal or not.
 */
export function buildJarmProbe(
  spec: JarmProbeSpec,
  serverName: string,
  randomness: JarmRandomness = randomJarmRandomness(),
): Uint8Array {
  exactLength('random', randomness.random, 32);
  exactLength('session id', randomness.sessionId, 32);
  exactLength('key share', randomness.keyShare, 32);
  const name = serverNameBytes(serverName);
  const t = templateFor(spec);
  const out = new Uint8Array(probeLength(t, name));
  fillRandomness(out, placeProbe(t, name, out, 0), randomness);
  return out;
}

/**
 * The ten probes of a scan (JARM_PROBES order) for `serverName`, with fresh randomness: the same
 * bytes as ten {@link buildJarmProbe} calls, but in one allocation and from one randomFillSync
 * (three per probe showed up in `node --cpu-prof`). Each element is its own view; none is reused.
 * `fill` (tests only) replaces the random source; it is called once.
 */
export function buildJarmProbes(
  serverName: string,
  fill: (bytes: Uint8Array) => Uint8Array = randomFillSync,
): Uint8Array[] {
  const name = serverNameBytes(serverName);
  const ts = JARM_PROBES.map(templateFor);
  let total = 0;
  for (const t of ts) total += probeLength(t, name);
  const out = new Uint8Array(total);
  const r = fill(new Uint8Array(ts.length * RANDOM_BYTES_PER_PROBE));
  const probes: Uint8Array[] = [];
  let at = 0;
  ts.forEach((t, i) => {
    const placed = placeProbe(t, name, out, at);
    fillRandomness(out, placed, randomnessFrom(r, i * RANDOM_BYTES_PER_PROBE));
    probes.push(out.subarray(at, at + placed.length));
    at += placed.length;
  });
  return probes;
}
