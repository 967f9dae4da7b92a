/**
 * @module probe/jarm
 * The pure half of JARM, the active TLS server fingerprint of salesforce/jarm (jarm.py, "Version
 * 1.0", the current upstream revision): the ten ClientHello probes, the parse of each reply into a
 * `cipher|version|alpn|extensions` string, and the fuzzy hash of the ten strings.
 *
 * Why a byte-exact re-implementation instead of "a JARM-like" fingerprint: a JARM is only useful
 * when it can be compared with fingerprints taken by other tools (threat-intelligence feeds,
 * Shodan, the jabber.ru write-ups all quote jarm.py hashes). So every probe is built exactly as
 * jarm.py builds it and every reply is read exactly as jarm.py reads it, including where jarm.py
 * deviates from what RFC 5246 / RFC 8446 say a ServerHello is. Each such quirk is marked QUIRK below.
 *
 * How JARM works: ten ClientHellos that differ in record/client version (TLS 1.1, 1.2, 1.3 as in
 * RFC 8446 §4.1.2 with a 1.2 legacy_version and a supported_versions extension), cipher-suite
 * order (forward, reverse, top half, bottom half, middle-out), GREASE (RFC 8701), the ALPN list
 * (RFC 7301) and the order of ALPN names and versions. Each server stack picks differently, so the
 * ten choices (cipher suite, version, ALPN and the list of extension types in the ServerHello)
 * characterise the TLS library and its configuration, not the certificate.
 *
 * The network half (connections, STARTTLS, timeouts) is src/probe/jarm-scan.ts.
 */
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import { CertvigilError } from '../errors.js';

// ---------------------------------------------------------------------------------------------
// Probe definitions

/** The ClientHello version: record-layer and `client_version` bytes (RFC 5246 §6.2.1, §7.4.1.2). */
export type JarmVersion = 'SSLv3' | 'TLS_1' | 'TLS_1.1' | 'TLS_1.2' | 'TLS_1.3';
/** `ALL` includes the five TLS 1.3 suites (0x1301–0x1305); `NO1.3` leaves them out. */
export type JarmCipherList = 'ALL' | 'NO1.3';
/** How a list (cipher suites, ALPN names, versions) is reordered before it goes on the wire. */
export type JarmOrder = 'FORWARD' | 'REVERSE' | 'TOP_HALF' | 'BOTTOM_HALF' | 'MIDDLE_OUT';
/**
 * Whether a supported_versions extension (RFC 8446 §4.2.1) is sent: `1.2_SUPPORT` lists TLS 1.0–1.2,
 * `1.3_SUPPORT` TLS 1.0–1.3, `NO_SUPPORT` sends none (unless the version is TLS_1.3, which always
 * sends the 1.0–1.3 list).
 */
export type JarmSupportedVersions = '1.2_SUPPORT' | '1.3_SUPPORT' | 'NO_SUPPORT';

/** One of the ten probes, in jarm.py's own vocabulary (its `jarm_details` list, minus host/port). */
export interface JarmProbeSpec {
  /** jarm.py's variable name for the probe, for diagnostics. */
  name: string;
  version: JarmVersion;
  ciphers: JarmCipherList;
  cipherOrder: JarmOrder;
  /** GREASE (RFC 8701) in the cipher list, as the first extension, in key_share and supported_versions. */
  grease: boolean;
  /** `RARE_APLN`: the ALPN list without http/1.1 and h2. */
  rareAlpn: boolean;
  supportedVersions: JarmSupportedVersions;
  /** Order of the ALPN names and of the supported_versions list (only FORWARD and REVERSE are used). */
  extensionOrder: JarmOrder;
}

/** The ten probes in the order jarm.py sends them; the fingerprint keeps this order. */
export const JARM_PROBES: readonly JarmProbeSpec[] = [
  probe('tls1_2_forward', 'TLS_1.2', 'ALL', 'FORWARD', false, false, '1.2_SUPPORT', 'REVERSE'),
  probe('tls1_2_reverse', 'TLS_1.2', 'ALL', 'REVERSE', false, false, '1.2_SUPPORT', 'FORWARD'),
  probe('tls1_2_top_half', 'TLS_1.2', 'ALL', 'TOP_HALF', false, false, 'NO_SUPPORT', 'FORWARD'),
  probe('tls1_2_bottom_half', 'TLS_1.2', 'ALL', 'BOTTOM_HALF', false, true, 'NO_SUPPORT', 'FORWARD'),
  probe('tls1_2_middle_out', 'TLS_1.2', 'ALL', 'MIDDLE_OUT', true, true, 'NO_SUPPORT', 'REVERSE'),
  // QUIRK (naming): jarm.py calls this one "tls1_1_middle_out" but its cipher order is FORWARD.
  probe('tls1_1_middle_out', 'TLS_1.1', 'ALL', 'FORWARD', false, false, 'NO_SUPPORT', 'FORWARD'),
  probe('tls1_3_forward', 'TLS_1.3', 'ALL', 'FORWARD', false, false, '1.3_SUPPORT', 'REVERSE'),
  probe('tls1_3_reverse', 'TLS_1.3', 'ALL', 'REVERSE', false, false, '1.3_SUPPORT', 'FORWARD'),
  probe('tls1_3_invalid', 'TLS_1.3', 'NO1.3', 'FORWARD', false, false, '1.3_SUPPORT', 'FORWARD'),
  probe('tls1_3_middle_out', 'TLS_1.3', 'ALL', 'MIDDLE_OUT', true, false, '1.3_SUPPORT', 'REVERSE'),
];

function probe(
  name: string,
  version: JarmVersion,
  ciphers: JarmCipherList,
  cipherOrder: JarmOrder,
  grease: boolean,
  rareAlpn: boolean,
  supportedVersions: JarmSupportedVersions,
  extensionOrder: JarmOrder,
): JarmProbeSpec {
  return { name, version, ciphers, cipherOrder, grease, rareAlpn, supportedVersions, extensionOrder };
}

/**
 * jarm.py's cipher-suite list ("ALL"), in its order. The order is the fingerprint's input: a server
 * that honours the client's preference answers differently to each reordering.
 */
const CIPHERS_ALL: readonly number[] = [
  0x0016, 0x0033, 0x0067, 0xc09e, 0xc0a2, 0x009e, 0x0039, 0x006b, 0xc09f, 0xc0a3, 0x009f, 0x0045, 0x00be,
  0x0088, 0x00c4, 0x009a, 0xc008, 0xc009, 0xc023, 0xc0ac, 0xc0ae, 0xc02b, 0xc00a, 0xc024, 0xc0ad, 0xc0af,
  0xc02c, 0xc072, 0xc073, 0xcca9, 0x1302, 0x1301, 0xcc14, 0xc007, 0xc012, 0xc013, 0xc027, 0xc02f, 0xc014,
  0xc028, 0xc030, 0xc060, 0xc061, 0xc076, 0xc077, 0xcca8, 0x1305, 0x1304, 0x1303, 0xcc13, 0xc011, 0x000a,
  0x002f, 0x003c, 0xc09c, 0xc0a0, 0x009c, 0x0035, 0x003d, 0xc09d, 0xc0a1, 0x009d, 0x0041, 0x00ba, 0x0084,
  0x00c0, 0x0007, 0x0004, 0x0005,
];

/** "NO1.3": the same list without the TLS 1.3 suites (RFC 8446 §B.4), for the `tls1_3_invalid` probe. */
const CIPHERS_NO_TLS13: readonly number[] = CIPHERS_ALL.filter((c) => c >> 8 !== 0x13);

/**
 * The hash's cipher table: a suite's code is its 1-based position here in two hex digits; a suite
 * not listed gets one past the end (0x46), no suite at all gets "00". Sorted, unlike CIPHERS_ALL.
 */
const HASH_CIPHER_ORDER: readonly number[] = [
  0x0004, 0x0005, 0x0007, 0x000a, 0x0016, 0x002f, 0x0033, 0x0035, 0x0039, 0x003c, 0x003d, 0x0041, 0x0045,
  0x0067, 0x006b, 0x0084, 0x0088, 0x009a, 0x009c, 0x009d, 0x009e, 0x009f, 0x00ba, 0x00be, 0x00c0, 0x00c4,
  0xc007, 0xc008, 0xc009, 0xc00a, 0xc011, 0xc012, 0xc013, 0xc014, 0xc023, 0xc024, 0xc027, 0xc028, 0xc02b,
  0xc02c, 0xc02f, 0xc030, 0xc060, 0xc061, 0xc072, 0xc073, 0xc076, 0xc077, 0xc09c, 0xc09d, 0xc09e, 0xc09f,
  0xc0a0, 0xc0a1, 0xc0a2, 0xc0a3, 0xc0ac, 0xc0ad, 0xc0ae, 0xc0af, 0xcc13, 0xcc14, 0xcca8, 0xcca9, 0x1301,
  0x1302, 0x1303, 0x1304, 0x1305,
];

/** ALPN protocol names (RFC 7301 §3.1), "weakest to strongest" as jarm.py orders them. */
const ALPN_ALL: readonly string[] = [
  'http/0.9',
  'http/1.0',
  'http/1.1',
  'spdy/1',
  'spdy/2',
  'spdy/3',
  'h2',
  'h2c',
  'hq',
];
/** `RARE_APLN`: without the two names nearly every server knows (http/1.1, h2). */
const ALPN_RARE: readonly string[] = ALPN_ALL.filter((p) => p !== 'http/1.1' && p !== 'h2');

/** The 16 GREASE values of RFC 8701 §2 (0x0a0a, 0x1a1a, … 0xfafa). */
export const GREASE_VALUES: readonly number[] = Array.from(
  { length: 16 },
  (_, i) => ((i << 4) | 0xa) * 0x101,
);

/**
 * Reorders a list the way jarm.py's `cipher_mung` does (used for suites, ALPN names and versions):
 * - REVERSE: last to first;
 * - BOTTOM_HALF: the second half (for an odd length, without the middle element);
 * - TOP_HALF: the first half, reversed, led by the middle element when the length is odd;
 * - MIDDLE_OUT: from the middle outwards, alternating after-middle then before-middle
 *   (odd length: the middle element first).
 */
export function reorder<T>(list: readonly T[], order: JarmOrder): T[] {
  const n = list.length;
  const half = Math.floor(n / 2);
  const at = (i: number): T => list[i] as T;
  switch (order) {
    case 'FORWARD':
      return [...list];
    case 'REVERSE':
      return [...list].reverse();
    case 'BOTTOM_HALF':
      return list.slice(n % 2 === 1 ? half + 1 : half);
    case 'TOP_HALF': {
      const out = n % 2 === 1 ? [at(half)] : [];
      return out.concat(reorder(reorder(list, 'REVERSE'), 'BOTTOM_HALF'));
    }
    case 'MIDDLE_OUT': {
      const out: T[] = [];
      if (n % 2 === 1) {
        out.push(at(half));
        for (let i = 1; i <= half; i++) out.push(at(half + i), at(half - i));
      } else {
        for (let i = 1; i <= half; i++) out.push(at(half - 1 + i), at(half - i));
      }
      return out;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Probe bytes

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

/** A growable byte buffer with the big-endian writers a ClientHello needs (templates only). */
class Writer {
  private readonly parts: number[] = [];
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v >> 8).u8(v);
  }
  bytes(b: Uint8Array | readonly number[]): this {
    for (const x of b) this.parts.push(x);
    return this;
  }
  /** A u16 length followed by the bytes. */
  vec16(b: Uint8Array | readonly number[]): this {
    return this.u16(b.length).bytes(b);
  }
  get length(): number {
    return this.parts.length;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

function exactLength(name: string, value: Uint8Array, length: number): void {
  if (value.length !== length)
    throw new CertvigilError('USAGE', `JARM ${name} must be ${length} bytes (got ${value.length})`);
}

/**
 * A probe's bytes apart from the server name and the random fields. Why templates: a scan sends
 * ten probes per target, and building each ClientHello byte by byte (≈ 250 pushes, four
 * intermediate arrays) showed up in `node --cpu-prof` of many-target scans; the only parts that
 * change between probes of a spec are the random fields, the GREASE values and the server name,
 * so the rest is built once per process and copied.
 */
interface ProbeTemplate {
  /** Record-layer version (RFC 5246 §6.2.1; TLS 1.3 probes: the RFC 8446 §5.1 legacy 0x0301). */
  recordVersion: number;
  /** client_version … compression_methods, random, session id and a GREASE suite zeroed. */
  head: Uint8Array;
  /** Offset in `head` of the GREASE cipher suite (RFC 8701 §3.1), or -1. */
  greaseSuiteAt: number;
  /** An empty GREASE extension comes before server_name. */
  greaseExtension: boolean;
  /** The extensions after server_name, key share and GREASE values zeroed. */
  tail: Uint8Array;
  /** Offset in `tail` of the X25519 key_share value. */
  keyShareAt: number;
  /** Offsets in `tail` of the GREASE key_share group and supported_versions entry, in draw order. */
  greaseTailAt: number[];
}

/** Offsets in a template's head (RFC 5246 §7.4.1.2): after client_version, after the session id length. */
const HEAD_RANDOM_AT = 2;
const HEAD_SESSION_ID_AT = 2 + 32 + 1;
/** Record header (5) and handshake header (4) come before the head. */
const HEAD_AT = 9;

/** Templates per spec object, compiled on first use (no work at import time). */
const templates = new WeakMap<JarmProbeSpec, ProbeTemplate>();

function templateFor(spec: JarmProbeSpec): ProbeTemplate {
  let t = templates.get(spec);
  if (t === undefined) {
    t = compileTemplate(spec);
    templates.set(spec, t);
  }
  return t;
}

function compileTemplate(spec: JarmProbeSpec): ProbeTemplate {
  // Record version and client_version. TLS 1.3 uses the RFC 8446 §5.1 / §4.1.2 legacy values.
  const [recordVersion, clientVersion] = (
    {
      'TLS_1.3': [0x0301, 0x0303],
      SSLv3: [0x0300, 0x0300],
      TLS_1: [0x0301, 0x0301],
      'TLS_1.1': [0x0302, 0x0302],
      'TLS_1.2': [0x0303, 0x0303],
    } as const
  )[spec.version];

  const head = new Writer().u16(clientVersion).bytes(new Uint8Array(32));
  head.u8(32).bytes(new Uint8Array(32));
  // Cipher suites: reordered, then GREASE in front (RFC 8701 §3.1).
  const suites = reorder(spec.ciphers === 'ALL' ? CIPHERS_ALL : CIPHERS_NO_TLS13, spec.cipherOrder);
  const greaseSuiteAt = spec.grease ? head.length + 2 : -1;
  if (spec.grease) suites.unshift(0);
  const suiteBytes = new Writer();
  for (const s of suites) suiteBytes.u16(s);
  head.vec16(suiteBytes.done());
  // compression_methods: one method, null (RFC 5246 §7.4.1.2).
  head.u8(1).u8(0);

  // The extensions after server_name, in jarm.py's fixed order.
  const w = new Writer();
  w.u16(0x0017).u16(0); // extended_master_secret (RFC 7627), empty
  w.u16(0x0001).u16(1).u8(1); // max_fragment_length (RFC 6066 §4): 2^9
  w.u16(0xff01).u16(1).u8(0); // renegotiation_info (RFC 5746), empty
  // supported_groups (RFC 8422 §5.1.1 / RFC 8446 §4.2.7): x25519, secp256r1, secp384r1, secp521r1.
  w.u16(0x000a).u16(10).u16(8).u16(0x001d).u16(0x0017).u16(0x0018).u16(0x0019);
  w.u16(0x000b).u16(2).u8(1).u8(0); // ec_point_formats (RFC 8422 §5.1.2): uncompressed
  w.u16(0x0023).u16(0); // session_ticket (RFC 5077), empty

  // ALPN (RFC 7301 §3.1), reordered by the probe's extension order.
  const protocols = new Writer();
  for (const p of reorder(spec.rareAlpn ? ALPN_RARE : ALPN_ALL, spec.extensionOrder))
    protocols.u8(p.length).bytes(Buffer.from(p, 'latin1'));
  const alpnList = protocols.done();
  w.u16(0x0010)
    .u16(alpnList.length + 2)
    .vec16(alpnList);

  // signature_algorithms (RFC 8446 §4.2.3).
  const sigAlgs = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0201];
  w.u16(0x000d)
    .u16(sigAlgs.length * 2 + 2)
    .u16(sigAlgs.length * 2);
  for (const s of sigAlgs) w.u16(s);

  // key_share (RFC 8446 §4.2.8): with GREASE, a GREASE group with a 1-byte share first; then X25519.
  const greaseTailAt: number[] = [];
  const shareListLength = (spec.grease ? 5 : 0) + 4 + 32;
  w.u16(0x0033)
    .u16(shareListLength + 2)
    .u16(shareListLength);
  if (spec.grease) {
    greaseTailAt.push(w.length);
    w.u16(0).u16(1).u8(0);
  }
  w.u16(0x001d).u16(32);
  const keyShareAt = w.length;
  w.bytes(new Uint8Array(32));

  w.u16(0x002d).u16(2).u8(1).u8(1); // psk_key_exchange_modes (RFC 8446 §4.2.9): psk_dhe_ke

  // supported_versions (RFC 8446 §4.2.1): sent by TLS_1.3 probes and by 1.2_SUPPORT ones.
  if (spec.version === 'TLS_1.3' || spec.supportedVersions === '1.2_SUPPORT') {
    const versions =
      spec.supportedVersions === '1.2_SUPPORT' ? [0x0301, 0x0302, 0x0303] : [0x0301, 0x0302, 0x0303, 0x0304];
    const listLength = (spec.grease ? 2 : 0) + versions.length * 2;
    w.u16(0x002b)
      .u16(listLength + 1)
      .u8(listLength);
    if (spec.grease) {
      greaseTailAt.push(w.length);
      w.u16(0);
    }
    for (const v of reorder(versions, spec.extensionOrder)) w.u16(v);
  }
  return {
    recordVersion,
    head: head.done(),
    greaseSuiteAt,
    greaseExtension: spec.grease,
    tail: w.done(),
    keyShareAt,
    greaseTailAt,
  };
}

/** Where a placed probe's random fields are, as absolute offsets in the output. */
interface PlacedProbe {
  length: number;
  randomAt: number;
  sessionIdAt: number;
  keyShareAt: number;
  /** GREASE slots in jarm.py's draw order: cipher list, first extension, key_share, supported_versions. */
  greaseAt: number[];
}

function probeLength(t: ProbeTemplate, name: Uint8Array): number {
  return HEAD_AT + t.head.length + 2 + (t.greaseExtension ? 4 : 0) + 9 + name.length + t.tail.length;
}

/**
 * Writes the template with `name` into `out` at `at` (which must have room for
 * {@link probeLength}): a TLS record (RFC 5246 §6.2.1) holding one ClientHello (RFC 5246
 * §7.4.1.2, RFC 8446 §4.1.2). Random fields and GREASE values are left zero.
 */
function placeProbe(t: ProbeTemplate, name: Uint8Array, out: Uint8Array, at: number): PlacedProbe {
  const length = probeLength(t, name);
  const extensionsLength = (t.greaseExtension ? 4 : 0) + 9 + name.length + t.tail.length;
  const helloLength = t.head.length + 2 + extensionsLength;
  // The lengths as the byte-by-byte writer put them: u16s, so masked (a server name is bounded
  // far below the point where that matters: see buildJarmProbe).
  const u16 = (offset: number, v: number): void => {
    out[offset] = (v >> 8) & 0xff;
    out[offset + 1] = v & 0xff;
  };
  out[at] = 22; // handshake
  u16(at + 1, t.recordVersion);
  u16(at + 3, helloLength + 4);
  out[at + 5] = 1; // client_hello, u24 length
  out[at + 6] = 0;
  u16(at + 7, helloLength);
  const headAt = at + HEAD_AT;
  out.set(t.head, headAt);
  let p = headAt + t.head.length;
  u16(p, extensionsLength);
  p += 2;
  const greaseAt: number[] = [];
  if (t.greaseSuiteAt >= 0) greaseAt.push(headAt + t.greaseSuiteAt);
  // An empty GREASE extension first (RFC 8701 §3.1).
  if (t.greaseExtension) {
    greaseAt.push(p);
    out[p + 2] = 0;
    out[p + 3] = 0;
    p += 4;
  }
  // server_name (RFC 6066 §3): type 0, extension length, list length, host_name type 0, name length, name.
  u16(p, 0x0000);
  u16(p + 2, name.length + 5);
  u16(p + 4, name.length + 3);
  out[p + 6] = 0;
  u16(p + 7, name.length);
  out.set(name, p + 9);
  p += 9 + name.length;
  out.set(t.tail, p);
  for (const g of t.greaseTailAt) greaseAt.push(p + g);
  return {
    length,
    randomAt: headAt + HEAD_RANDOM_AT,
    sessionIdAt: headAt + HEAD_SESSION_ID_AT,
    keyShareAt: p + t.keyShareAt,
    greaseAt,
  };
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

// ---------------------------------------------------------------------------------------------
// Reply parsing

/** jarm.py reads one `recv(1484)`: nothing past this many bytes can influence a probe's result. */
export const JARM_READ_LIMIT = 1484;
/** A probe that got no usable ServerHello. */
export const JARM_EMPTY_PROBE = '|||';
/** The pre-hash string of a scan where no probe got a usable ServerHello. */
export const JARM_EMPTY_RAW = Array.from({ length: 10 }, () => JARM_EMPTY_PROBE).join(',');
export const JARM_ZERO_HASH = '0'.repeat(62);

/**
 * Whether `bytes` (what the server sent so far) already decides the probe's result, so the reader
 * can stop: the first byte is not a handshake record (alert or garbage), the first handshake
 * message is not a ServerHello, the whole first record has arrived, or the read limit is reached.
 * jarm.py instead parses whatever its single recv() returned; on a network that delivers the first
 * record in one piece (every loopback or LAN case) that is the same input.
 */
export function jarmReplyDecided(bytes: Uint8Array): boolean {
  if (bytes.length >= JARM_READ_LIMIT) return true;
  if (bytes.length === 0) return false;
  if (bytes[0] !== 22) return true;
  if (bytes.length < 6) return false;
  if (bytes[5] !== 2) return true;
  const recordEnd = 5 + (((bytes[3] ?? 0) << 8) | (bytes[4] ?? 0));
  return bytes.length >= recordEnd;
}

/** Python's IndexError: caught by the extension reader (→ "|") and by the reply reader (→ "|||"). */
class PyIndexError extends Error {}
/** Any other Python exception (ValueError, AttributeError, UnicodeDecodeError): only "|||" catches it. */
class PyOtherError extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

/**
 * Reads the reply to one probe into jarm.py's per-probe string `cipher|version|alpn|extensions`
 * (e.g. `c02f|0303|h2|ff01-0000-0010-0017`), or `|||` when there is nothing to read. `null` stands
 * for "no reply at all" (connection refused or reset). Never throws.
 *
 * This mirrors jarm.py's `read_packet` and `extract_extension_info` offset for offset, with Python's
 * semantics: an index past the end raises IndexError, a slice past the end is silently short. The
 * QUIRKs it replicates (all deliberate, so hashes match jarm.py's):
 *
 * 1. No record-layer parsing: byte 0 = 21 (alert) gives `|||`; byte 0 = 22 and byte 5 = 2 (first
 *    handshake message type ServerHello) is parsed at fixed offsets assuming a 5-byte record header
 *    and a 4-byte handshake header; anything else (garbage, another handshake type) is `|||`.
 * 2. HelloRetryRequest (RFC 8446 §4.1.3) is a ServerHello with a special random, and jarm.py does
 *    not look at the random: an HRR is read like any ServerHello (its cipher, 0303 and its
 *    extension types, typically `002b-0033`), it is NOT `|||`.
 * 3. The version field is the ServerHello's legacy_version (bytes 9–10), so TLS 1.3 shows as 0303;
 *    the chosen TLS 1.3 version is visible only through the `002b` extension in the list.
 * 4. Short data: a reply shorter than 44 bytes (session-id length missing) is `|||`; a reply that
 *    stops inside the cipher or version field yields a shortened hex field (1 byte → 2 digits,
 *    none → empty) because Python slices do not raise.
 * 5. Extensions, read at fixed offsets after the session id:
 *    - byte (sid+47), the high byte of the extensions length, missing → `cipher|version||`;
 *    - that byte = 11 (heuristic: a Certificate message follows a ServerHello without extensions)
 *      → `cipher|version||`;
 *    - bytes (sid+50..52) = 0e ac 0b, or absolute bytes 82..84 = 0f f0 0b → `cipher|version||`
 *      (heuristics for ServerHelloDone/CertificateVerify lookalikes, absolute offset included);
 *    - sid+42 >= the record length (no room for extensions) → `cipher|version||`;
 *    - the extensions length is read from 2 bytes, or from 1 if only 1 is there; 0 present → `|||`
 *      (Python's int('') raises ValueError, which only the outer handler catches);
 *    - the walk stops at (start + length − 1), one byte early; each extension's 2-byte type is
 *      taken even if cut short; a missing length field → `|||`; a cut-short value is kept short;
 * 6. ALPN: the first extension of type 0x0010; its value minus 3 bytes (list length and the first
 *    name's length byte), decoded as strict UTF-8 — so a second name would appear with its length
 *    byte. An ALPN extension with an empty value → `|||` (jarm.py stores "" and calls .decode() on
 *    a str: AttributeError); invalid UTF-8 → `|||` (UnicodeDecodeError).
 * 7. Extension types are listed in the order sent, hex, joined with "-"; duplicates are kept.
 */
export function parseJarmServerHello(bytes: Uint8Array | null): string {
  if (bytes === null) return JARM_EMPTY_PROBE;
  const data = bytes.subarray(0, JARM_READ_LIMIT);
  try {
    return readServerHello(data);
  } catch {
    // read_packet's catch-all: IndexError, ValueError, AttributeError, UnicodeDecodeError …
    return JARM_EMPTY_PROBE;
  }
}

function byteAt(data: Uint8Array, i: number): number {
  const b = data[i];
  if (b === undefined) throw new PyIndexError(`index ${i}`);
  return b;
}

/** Python's int(codecs.encode(slice, 'hex'), 16): big-endian value; an empty slice raises. */
function intOfSlice(slice: Uint8Array): number {
  if (slice.length === 0) throw new PyOtherError("int('', 16)");
  let v = 0;
  for (const b of slice) v = v * 256 + b;
  return v;
}

function readServerHello(data: Uint8Array): string {
  const first = byteAt(data, 0);
  if (first === 21) return JARM_EMPTY_PROBE;
  if (first !== 22 || byteAt(data, 5) !== 2) return JARM_EMPTY_PROBE;
  const recordLength = intOrZero(data.subarray(3, 5));
  const sid = byteAt(data, 43);
  const cipher = hex(data.subarray(sid + 44, sid + 46));
  const version = hex(data.subarray(9, 11));
  return `${cipher}|${version}|${readExtensions(data, sid, recordLength)}`;
}

/** Python's int.from_bytes(slice, 'big'): 0 for an empty slice. */
function intOrZero(slice: Uint8Array): number {
  return slice.length === 0 ? 0 : intOfSlice(slice);
}

function readExtensions(data: Uint8Array, sid: number, recordLength: number): string {
  const eq = (from: number, expected: readonly number[]): boolean => {
    const s = data.subarray(from, from + expected.length);
    return s.length === expected.length && expected.every((b, i) => s[i] === b);
  };
  try {
    if (byteAt(data, sid + 47) === 11) return '|';
    if (eq(sid + 50, [0x0e, 0xac, 0x0b]) || eq(82, [0x0f, 0xf0, 0x0b])) return '|';
    if (sid + 42 >= recordLength) return '|';
    let count = sid + 49;
    const length = intOfSlice(data.subarray(sid + 47, sid + 49));
    const maximum = length + (count - 1);
    const types: Uint8Array[] = [];
    const values: (Uint8Array | 'empty')[] = [];
    while (count < maximum) {
      types.push(data.subarray(count, count + 2));
      const extLength = intOfSlice(data.subarray(count + 2, count + 4));
      if (extLength === 0) {
        count += 4;
        values.push('empty');
      } else {
        values.push(data.subarray(count + 4, count + 4 + extLength));
        count += extLength + 4;
      }
    }
    let alpn = '';
    const at = types.findIndex((t) => t.length === 2 && t[0] === 0x00 && t[1] === 0x10);
    if (at >= 0) {
      const value = values[at];
      // jarm.py keeps "" (a str) for an empty extension; str has no .decode(): AttributeError.
      if (value === undefined || value === 'empty') throw new PyOtherError('str.decode');
      try {
        alpn = utf8.decode(value.subarray(3));
      } catch {
        throw new PyOtherError('UnicodeDecodeError');
      }
    }
    return `${alpn}|${types.map(hex).join('-')}`;
  } catch (err) {
    if (err instanceof PyIndexError) return '|';
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// The fuzzy hash

/**
 * The 62-character JARM: for each of the ten probes, 2 hex digits for the chosen cipher suite (its
 * position in jarm.py's table) and 1 character for the version (a–f for the last digit 0–5 of the
 * legacy_version hex, "0" when empty) — 30 characters — then the first 32 hex digits of the SHA-256
 * of all ALPN and extension fields concatenated (UTF-8). All ten probes empty → 62 zeros.
 *
 * Where jarm.py itself would crash (a raw string that does not split into `a|b|c|d` parts, or a
 * version field whose 4th character is not a digit 0–5: only possible for replies cut inside the
 * version or non-TLS version bytes) there is no reference value; this function then treats a
 * missing part as empty and such a version as "0" rather than failing the whole scan.
 */
export function jarmHash(raw: string): string {
  if (raw === JARM_EMPTY_RAW) return JARM_ZERO_HASH;
  let fuzzy = '';
  let alpnsAndExtensions = '';
  for (const handshake of raw.split(',')) {
    const [cipher = '', version = '', alpn = '', exts = ''] = handshake.split('|');
    fuzzy += cipherCode(cipher) + versionCode(version);
    alpnsAndExtensions += alpn + exts;
  }
  return fuzzy + createHash('sha256').update(alpnsAndExtensions, 'utf8').digest('hex').slice(0, 32);
}

function cipherCode(cipher: string): string {
  if (cipher === '') return '00';
  let index = HASH_CIPHER_ORDER.findIndex((c) => c.toString(16).padStart(4, '0') === cipher);
  if (index < 0) index = HASH_CIPHER_ORDER.length;
  return (index + 1).toString(16).padStart(2, '0');
}

function versionCode(version: string): string {
  if (version === '') return '0';
  const digit = version.slice(3, 4);
  return /^[0-5]$/.test(digit) ? ('abcdef'[Number(digit)] ?? '0') : '0';
}
