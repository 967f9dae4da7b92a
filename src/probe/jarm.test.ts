/**
 * JARM's pure half against the reference: the ten probes byte for byte against captures of jarm.py
 * (test/vectors/jarm/jarm-probes.json, random fields fixed), the reply parser on the cases where
 * jarm.py's offset arithmetic decides (alerts, HelloRetryRequest, truncation, garbage), and the
 * fuzzy hash against the raw → jarm pairs of test/vectors/jarm/jarm.json.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GREASE_VALUES,
  JARM_EMPTY_RAW,
  JARM_PROBES,
  JARM_ZERO_HASH,
  buildJarmProbe,
  buildJarmProbes,
  jarmHash,
  jarmReplyDecided,
  parseJarmServerHello,
  reorder,
} from './jarm.js';
import type { JarmRandomness } from './jarm.js';
import { referenceJarmProbe } from '../../test/fixtures/jarm/probe-reference.js';

interface ProbeVector {
  probe: number;
  options: string[];
  len: number;
  hex: string;
}
interface JarmVector {
  name: string;
  jarm: string;
  raw: string;
}

const vectorDir = new URL('../../test/vectors/jarm/', import.meta.url);
const probeVectors = JSON.parse(
  readFileSync(new URL('jarm-probes.json', vectorDir), 'utf8'),
) as ProbeVector[];
const jarmVectors = (
  JSON.parse(readFileSync(new URL('jarm.json', vectorDir), 'utf8')) as { vectors: JarmVector[] }
).vectors;

/** The captures' fixed randomness: random, session id and key share all zero, GREASE 0x0a0a. */
const FIXED = {
  random: new Uint8Array(32),
  sessionId: new Uint8Array(32),
  keyShare: new Uint8Array(32),
  grease: [0x0a0a],
};

describe('JARM probes', () => {
  it('has the ten probes of jarm.py with the captures’ options', () => {
    expect(probeVectors).toHaveLength(10);
    for (const v of probeVectors) {
      const spec = JARM_PROBES[v.probe - 1];
      expect(spec).toBeDefined();
      if (!spec) continue;
      expect([
        spec.version,
        spec.ciphers,
        spec.cipherOrder,
        spec.grease ? 'GREASE' : 'NO_GREASE',
        spec.rareAlpn ? 'RARE_APLN' : 'APLN',
        spec.supportedVersions,
        spec.extensionOrder,
      ]).toEqual(v.options);
    }
  });

  it.each(probeVectors.map((v) => [v.probe, v] as const))('probe %i is byte-for-byte the capture', (_, v) => {
    const spec = JARM_PROBES[v.probe - 1];
    if (!spec) throw new Error('no such probe');
    const bytes = buildJarmProbe(spec, 'example.com', FIXED);
    expect(bytes.length).toBe(v.len);
    expect(Buffer.from(bytes).toString('hex')).toBe(v.hex);
  });

  it('draws fresh random fields and GREASE from RFC 8701 by default', () => {
    const spec = JARM_PROBES[9];
    if (!spec) throw new Error('no probe 10');
    const a = buildJarmProbe(spec, 'example.com');
    const b = buildJarmProbe(spec, 'example.com');
    expect(a.length).toBe(b.length);
    expect(Buffer.from(a.subarray(11, 43)).equals(Buffer.from(b.subarray(11, 43)))).toBe(false);
    const firstSuite = ((a[78] ?? 0) << 8) | (a[79] ?? 0);
    expect(GREASE_VALUES).toContain(firstSuite);
  });

  it('puts the server name in as given, IP literals included (as jarm.py does)', () => {
    const spec = JARM_PROBES[0];
    if (!spec) throw new Error('no probe 1');
    const hex = Buffer.from(buildJarmProbe(spec, '::1', FIXED)).toString('hex');
    expect(hex).toContain(`000000080006000003${Buffer.from('::1').toString('hex')}`);
  });

  it('rejects random fields of the wrong size', () => {
    const spec = JARM_PROBES[0];
    if (!spec) throw new Error('no probe 1');
    expect(() => buildJarmProbe(spec, 'x', { ...FIXED, random: new Uint8Array(31) })).toThrow(/32 bytes/);
  });

  it('builds from templates the same bytes as the byte-by-byte builder, for any name and randomness', () => {
    const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: JARM_PROBES.length - 1 }),
        fc.oneof(fc.domain(), fc.string({ maxLength: 300 }), fc.constantFrom('::1', '127.0.0.1')),
        bytes32,
        bytes32,
        bytes32,
        fc.array(fc.integer({ min: 0, max: 0x1ffff }), { maxLength: 6 }),
        (i, name, random, sessionId, keyShare, grease) => {
          const spec = JARM_PROBES[i];
          if (!spec) throw new Error('no such probe');
          const r: JarmRandomness = { random, sessionId, keyShare, grease };
          expect(Buffer.from(buildJarmProbe(spec, name, r)).toString('hex')).toBe(
            Buffer.from(referenceJarmProbe(spec, name, r)).toString('hex'),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('builds the ten probes of a scan from one random draw, each as the byte-by-byte builder would', () => {
    let calls = 0;
    const fill = (b: Uint8Array): Uint8Array => {
      calls++;
      for (let i = 0; i < b.length; i++) b[i] = (i * 7 + 3) & 0xff;
      return b;
    };
    const probes = buildJarmProbes('example.com', fill);
    expect(calls).toBe(1);
    expect(probes).toHaveLength(10);
    probes.forEach((bytes, i) => {
      const spec = JARM_PROBES[i];
      if (!spec) throw new Error('no such probe');
      // Per probe 100 random bytes: random, session id, key share, then 4 GREASE choices (low nibble).
      const r = new Uint8Array(100).map((_, k) => ((i * 100 + k) * 7 + 3) & 0xff);
      const randomness: JarmRandomness = {
        random: r.subarray(0, 32),
        sessionId: r.subarray(32, 64),
        keyShare: r.subarray(64, 96),
        grease: [...r.subarray(96, 100)].map((b) => GREASE_VALUES[b & 0x0f] ?? 0),
      };
      expect(Buffer.from(bytes).toString('hex')).toBe(
        Buffer.from(referenceJarmProbe(spec, 'example.com', randomness)).toString('hex'),
      );
    });
    // Fresh randomness by default: two scans never share a random field.
    const [a, b] = [buildJarmProbes('example.com')[0], buildJarmProbes('example.com')[0]];
    expect(Buffer.from(a?.subarray(11, 43) ?? []).equals(Buffer.from(b?.subarray(11, 43) ?? []))).toBe(false);
  });

  it('reorders lists like cipher_mung', () => {
    const odd = [1, 2, 3, 4, 5];
    const even = [1, 2, 3, 4, 5, 6];
    expect(reorder(odd, 'REVERSE')).toEqual([5, 4, 3, 2, 1]);
    expect(reorder(odd, 'BOTTOM_HALF')).toEqual([4, 5]);
    expect(reorder(even, 'BOTTOM_HALF')).toEqual([4, 5, 6]);
    expect(reorder(odd, 'TOP_HALF')).toEqual([3, 2, 1]);
    expect(reorder(even, 'TOP_HALF')).toEqual([3, 2, 1]);
    expect(reorder(odd, 'MIDDLE_OUT')).toEqual([3, 4, 2, 5, 1]);
    expect(reorder(even, 'MIDDLE_OUT')).toEqual([4, 3, 5, 2, 6, 1]);
  });
});

// ---------------------------------------------------------------------------------------------

interface HelloOptions {
  cipher?: number;
  version?: number;
  sessionId?: number[];
  random?: number[];
  /** Extensions as [type, value bytes]; `null` leaves the extensions block out entirely. */
  extensions?: [number, number[]][] | null;
}

/** A ServerHello record (RFC 5246 §7.4.1.3 / RFC 8446 §4.1.3). */
function serverHello(o: HelloOptions = {}): Buffer {
  const sid = o.sessionId ?? [];
  const body: number[] = [(o.version ?? 0x0303) >> 8, (o.version ?? 0x0303) & 0xff];
  body.push(...(o.random ?? new Array<number>(32).fill(7)), sid.length, ...sid);
  body.push((o.cipher ?? 0xc02f) >> 8, (o.cipher ?? 0xc02f) & 0xff, 0);
  if (o.extensions !== null) {
    const ext: number[] = [];
    for (const [type, value] of o.extensions ?? [])
      ext.push(type >> 8, type & 0xff, value.length >> 8, value.length & 0xff, ...value);
    body.push(ext.length >> 8, ext.length & 0xff, ...ext);
  }
  const hs = [2, 0, body.length >> 8, body.length & 0xff, ...body];
  return Buffer.from([22, 3, 3, hs.length >> 8, hs.length & 0xff, ...hs]);
}

const alpnValue = (name: string): number[] => [0, name.length + 1, name.length, ...Buffer.from(name)];

/** RFC 8446 §4.1.3: SHA-256("HelloRetryRequest"). */
const HRR_RANDOM = [
  ...Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex'),
];

describe('parseJarmServerHello (jarm.py read_packet / extract_extension_info)', () => {
  const cases: [string, Uint8Array | null, string][] = [
    ['no reply (connection refused/reset)', null, '|||'],
    ['closed without data', new Uint8Array(0), '|||'],
    ['fatal alert handshake_failure', Buffer.from('15030300020228', 'hex'), '|||'],
    ['alert record with a handshake-looking tail', Buffer.from('1503030002020216030300', 'hex'), '|||'],
    ['plain text (HTTP 400)', Buffer.from('HTTP/1.0 400 Bad\r\n\r\n'), '|||'],
    [
      'handshake record, but not a ServerHello (Certificate)',
      Buffer.from('160303000a0b0000060000030000', 'hex'),
      '|||',
    ],
    ['handshake record cut before the message type', Buffer.from('1603030040', 'hex'), '|||'],
    ['ServerHello cut before the session-id length', serverHello().subarray(0, 43), '|||'],
    [
      'TLS 1.2 ServerHello with ALPN',
      serverHello({
        extensions: [
          [0xff01, [0]],
          [0x0000, []],
          [0x0010, alpnValue('h2')],
          [0x0017, []],
        ],
      }),
      'c02f|0303|h2|ff01-0000-0010-0017',
    ],
    [
      'TLS 1.3 ServerHello: legacy_version 0303, 1.3 only in the extension list',
      serverHello({
        cipher: 0x1302,
        sessionId: new Array<number>(32).fill(1),
        extensions: [
          [0x002b, [3, 4]],
          [0x0033, [0, 0x1d, 0, 32, ...new Array<number>(32).fill(9)]],
        ],
      }),
      '1302|0303||002b-0033',
    ],
    [
      'QUIRK: HelloRetryRequest is read like a ServerHello (random not checked)',
      serverHello({
        cipher: 0x1301,
        random: HRR_RANDOM,
        sessionId: new Array<number>(32).fill(1),
        extensions: [
          [0x002b, [3, 4]],
          [0x0033, [0, 0x17]],
        ],
      }),
      '1301|0303||002b-0033',
    ],
    ['ServerHello without extensions, alone', serverHello({ extensions: null }), 'c02f|0303||'],
    [
      'QUIRK: no extensions, Certificate in the same record (byte 11 heuristic)',
      (() => {
        const sh = serverHello({ extensions: null });
        const withCert = Buffer.concat([sh, Buffer.from('0b000003000000', 'hex')]);
        withCert.writeUInt16BE(withCert.length - 5, 3);
        return withCert;
      })(),
      'c02f|0303||',
    ],
    ['QUIRK: cut inside the cipher suite: one hex byte', serverHello().subarray(0, 45), 'c0|0303||'],
    ['QUIRK: cut right after the session id: empty cipher', serverHello().subarray(0, 44), '|0303||'],
    [
      'QUIRK: cut inside the extensions length: 1 byte read as the length',
      serverHello({ extensions: [[0xff01, [0]]] }).subarray(0, 48),
      'c02f|0303||',
    ],
    [
      'QUIRK: cut inside an extension value: the short value is kept',
      serverHello({ extensions: [[0x0010, alpnValue('http/1.1')]] }).subarray(0, 61),
      'c02f|0303|http/|0010',
    ],
    [
      'QUIRK: cut inside an extension length field: whole probe empty (int("") raises)',
      serverHello({
        extensions: [
          [0xff01, [0]],
          [0x0017, []],
        ],
      }).subarray(0, 54),
      '|||',
    ],
    [
      'QUIRK: empty ALPN extension: whole probe empty (str.decode raises)',
      serverHello({ extensions: [[0x0010, []]] }),
      '|||',
    ],
    [
      'QUIRK: ALPN that is not UTF-8: whole probe empty',
      serverHello({ extensions: [[0x0010, [0, 3, 2, 0xff, 0xfe]]] }),
      '|||',
    ],
    [
      'QUIRK: two ALPN names: the second comes with its length byte',
      serverHello({ extensions: [[0x0010, [0, 6, 2, 0x68, 0x32, 2, 0x68, 0x71]]] }),
      'c02f|0303|h2\u0002hq|0010',
    ],
    [
      'duplicate extension types are all listed, the first ALPN wins',
      serverHello({
        extensions: [
          [0x0010, alpnValue('h2')],
          [0x0010, alpnValue('hq')],
        ],
      }),
      'c02f|0303|h2|0010-0010',
    ],
    [
      'record length too short for extensions (sid+42 >= length)',
      (() => {
        const b = serverHello({ extensions: [[0xff01, [0]]] });
        b.writeUInt16BE(42, 3);
        return b;
      })(),
      'c02f|0303||',
    ],
  ];

  it.each(cases)('%s', (_, bytes, expected) => {
    expect(parseJarmServerHello(bytes)).toBe(expected);
  });

  it('reads nothing past 1484 bytes (jarm.py recv(1484))', () => {
    const big = serverHello({
      extensions: [
        [0xff01, new Array<number>(1500).fill(0)],
        [0x0017, []],
      ],
    });
    // The second extension header lies past byte 1484: its length field is missing → int('') → |||.
    expect(parseJarmServerHello(big)).toBe('|||');
  });

  it('never throws, on any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1600 }), (bytes) => {
        expect(typeof parseJarmServerHello(bytes)).toBe('string');
      }),
      { numRuns: 3000 },
    );
  });

  it('never throws on ServerHello-shaped bytes with arbitrary tails', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 120 }), fc.uint8Array({ maxLength: 300 }), (cut, tail) => {
        const head = serverHello({ extensions: [[0x0010, alpnValue('h2')]] }).subarray(0, cut);
        const out = parseJarmServerHello(Buffer.concat([head, tail]));
        expect(out.split('|').length).toBeGreaterThanOrEqual(3);
      }),
      { numRuns: 2000 },
    );
  });

  it('knows when a reply is decided', () => {
    expect(jarmReplyDecided(new Uint8Array(0))).toBe(false);
    expect(jarmReplyDecided(Buffer.from('15', 'hex'))).toBe(true);
    expect(jarmReplyDecided(Buffer.from('16030300', 'hex'))).toBe(false);
    const sh = serverHello({ extensions: [[0xff01, [0]]] });
    expect(jarmReplyDecided(sh.subarray(0, sh.length - 1))).toBe(false);
    expect(jarmReplyDecided(sh)).toBe(true);
  });
});

describe('jarmHash', () => {
  it.each(jarmVectors.map((v) => [v.name, v] as const))('%s: raw → jarm as jarm.py', (_, v) => {
    expect(jarmHash(v.raw)).toBe(v.jarm);
  });

  it('is 62 zeros only for ten empty probes', () => {
    expect(jarmHash(JARM_EMPTY_RAW)).toBe(JARM_ZERO_HASH);
    // Ten empty probes plus anything else is hashed normally (the ALPN/extension part is sha256("")).
    expect(jarmHash(`${JARM_EMPTY_RAW},|||`)).toBe(`${'000'.repeat(11)}e3b0c44298fc1c149afbf4c8996fb924`);
  });

  it('codes ciphers by their place in the table, unknown ones as 0x46, versions a–f', () => {
    const raw = ['1305|0303||', 'abcd|0301||', '0004|0300||', ...new Array<string>(7).fill('|||')].join(',');
    expect(jarmHash(raw).slice(0, 30)).toBe(`45d46b01a${'000'.repeat(7)}`);
  });
});
