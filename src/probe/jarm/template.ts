/**
 * @module probe/jarm/template
 * The layout of one JARM probe: a TLS record (RFC 5246 §6.2.1) holding one ClientHello (RFC 5246
 * §7.4.1.2; TLS 1.3 probes as in RFC 8446 §4.1.2), its extensions in jarm.py's fixed order, compiled
 * once per probe spec, then placed around a server name with the random fields left zero
 * (`client-hello.ts` fills them).
 *
 * Why templates: a scan sends ten probes per target, and building each ClientHello byte by byte
 * (≈ 250 pushes, four intermediate arrays) showed up in `node --cpu-prof` of many-target scans; the
 * only parts that change between probes of a spec are the random fields, the GREASE values and the
 * server name, so the rest is built once per process and copied. The bytes must equal jarm.py's
 * (test/vectors/jarm/jarm-probes.json): every length and order here is jarm.py's, not a choice.
 */
import type { JarmProbeSpec } from './probes.js';
import { ALPN_ALL, ALPN_RARE, CIPHERS_ALL, CIPHERS_NO_TLS13, reorder } from './probes.js';

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

/** A probe's bytes apart from the server name and the random fields (see the module comment). */
export interface ProbeTemplate {
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

export function templateFor(spec: JarmProbeSpec): ProbeTemplate {
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
export interface PlacedProbe {
  length: number;
  randomAt: number;
  sessionIdAt: number;
  keyShareAt: number;
  /** GREASE slots in jarm.py's draw order: cipher list, first extension, key_share, supported_versions. */
  greaseAt: number[];
}

export function probeLength(t: ProbeTemplate, name: Uint8Array): number {
  return HEAD_AT + t.head.length + 2 + (t.greaseExtension ? 4 : 0) + 9 + name.length + t.tail.length;
}

/**
 * Writes the template with `name` into `out` at `at` (which must have room for
 * {@link probeLength}): a TLS record (RFC 5246 §6.2.1) holding one ClientHello (RFC 5246
 * §7.4.1.2, RFC 8446 §4.1.2). Random fields and GREASE values are left zero.
 */
export function placeProbe(t: ProbeTemplate, name: Uint8Array, out: Uint8Array, at: number): PlacedProbe {
  const length = probeLength(t, name);
  const extensionsLength = (t.greaseExtension ? 4 : 0) + 9 + name.length + t.tail.length;
  const helloLength = t.head.length + 2 + extensionsLength;
  // The lengths as the byte-by-byte writer put them: u16s, so masked (a server name is bounded
  // far below the point where that matters: see serverNameBytes in client-hello.ts).
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
