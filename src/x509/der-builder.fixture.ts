/**
 * @module x509/der-builder.fixture
 * Test-only DER encoder for synthetic certificates: the edge cases real vectors lack (UTCTime
 * years 50/49, UniversalString, empty extension lists, hand-placed poison). Signatures are dummies;
 * `crypto.X509Certificate` parses such certificates without verifying them, which is all the
 * differential tests need.
 */
import { oid } from './der.js';

type Part = Uint8Array | number[];

function concat(parts: Part[]): Uint8Array {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let p = 0;
  for (const a of arrays) {
    out.set(a, p);
    p += a.length;
  }
  return out;
}

/** One DER element: tag, minimal definite length, the concatenated parts. */
export function tlv(tag: number, ...parts: Part[]): Uint8Array {
  const body = concat(parts);
  const n = body.length;
  const len =
    n < 0x80
      ? [n]
      : n < 0x100
        ? [0x81, n]
        : n < 0x10000
          ? [0x82, n >> 8, n & 0xff]
          : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return concat([[tag], len, body]);
}

export const seq = (...parts: Part[]): Uint8Array => tlv(0x30, ...parts);
export const set = (...parts: Part[]): Uint8Array => tlv(0x31, ...parts);
export const oidTlv = (dotted: string): Uint8Array => tlv(0x06, oid(dotted));
export const utf8 = (s: string): Uint8Array => tlv(0x0c, Buffer.from(s, 'utf8'));
export const printable = (s: string): Uint8Array => tlv(0x13, Buffer.from(s, 'latin1'));
export const ia5 = (s: string): Uint8Array => tlv(0x16, Buffer.from(s, 'latin1'));
export const octets = (...parts: Part[]): Uint8Array => tlv(0x04, ...parts);
export const utcTime = (s: string): Uint8Array => tlv(0x17, Buffer.from(s, 'latin1'));
export const genTime = (s: string): Uint8Array => tlv(0x18, Buffer.from(s, 'latin1'));

/** A Name from [type, value-element] pairs, one RDN each (`rdns` for multi-valued ones). */
export function name(...attrs: [string, Uint8Array][]): Uint8Array {
  return seq(...attrs.map(([type, value]) => set(seq(oidTlv(type), value))));
}

export function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return seq(oidTlv(id), critical ? [0x01, 0x01, 0xff] : [], octets(value));
}

export function sanExtension(...generalNames: Uint8Array[]): Uint8Array {
  return extension('2.5.29.17', false, seq(...generalNames));
}

export const POISON = extension('1.3.6.1.4.1.11129.2.4.3', true, Uint8Array.from([0x05, 0x00]));

export interface TbsOptions {
  /** Omit for v1 (no [0] version). */
  version?: number;
  serial?: Part;
  issuer?: Uint8Array;
  subject?: Uint8Array;
  notBefore?: Uint8Array;
  notAfter?: Uint8Array;
  spki: Uint8Array;
  /** Extension elements; omit for no [3]; [] gives an (invalid) empty SEQUENCE. */
  extensions?: Uint8Array[];
}

const SHA256_RSA = seq(oidTlv('1.2.840.113549.1.1.11'), [0x05, 0x00]);

export function buildTbs(o: TbsOptions): Uint8Array {
  return seq(
    o.version === undefined ? [] : tlv(0xa0, tlv(0x02, [o.version])),
    tlv(0x02, o.serial ?? [0x01]),
    SHA256_RSA,
    o.issuer ?? name(['2.5.4.3', printable('Test CA')]),
    seq(o.notBefore ?? utcTime('250101000000Z'), o.notAfter ?? utcTime('260101000000Z')),
    o.subject ?? name(['2.5.4.3', printable('leaf.example')]),
    o.spki,
    o.extensions === undefined ? [] : tlv(0xa3, seq(...o.extensions)),
  );
}

/** A Certificate around `tbs` with a dummy 32-byte signature. */
export function buildCert(tbs: Uint8Array): Uint8Array {
  return seq(tbs, SHA256_RSA, tlv(0x03, [0x00], new Uint8Array(32).fill(0x5a)));
}
