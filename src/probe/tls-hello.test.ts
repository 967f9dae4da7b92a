/**
 * The raw TLS 1.2 hello (src/probe/tls-hello.ts) without sockets: the server-flight parser on
 * hand-built flights (RFC 5246 §6.2 records, §7.4 messages, RFC 6066 §8 CertificateStatus,
 * RFC 6962 §3.3.1 SCT extension, RFC 8446 §4.1.3 HelloRetryRequest), and fast-check feeding it
 * random, re-fragmented and mutated bytes: it returns or throws `TlsHelloError`, nothing else.
 * The ClientHello's bytes are tested in tls-hello-client.test.ts, the socket loop against real
 * servers in test/tls-fixtures.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HELLO_RETRY_REQUEST_RANDOM,
  ServerFlightParser,
  TlsHelloError,
  parseServerFlight,
} from './tls-hello.js';
import type { ServerHelloFacts } from './tls-hello.js';

// ---------------------------------------------------------------------------------------------
// Builders

const u16 = (n: number): number[] => [(n >> 8) & 0xff, n & 0xff];
const u24 = (n: number): number[] => [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
const bytes = (...parts: (number[] | Uint8Array)[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => [...p]));
const message = (type: number, body: Uint8Array): Uint8Array => bytes([type], u24(body.length), body);
const record = (type: number, fragment: Uint8Array, version = 0x0303): Uint8Array =>
  bytes([type], u16(version), u16(fragment.length), fragment);
const handshakeRecords = (...messages: Uint8Array[]): Uint8Array => record(22, bytes(...messages));
const hexOf = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('hex'));

interface HelloSpec {
  version?: number;
  random?: Uint8Array;
  sessionId?: Uint8Array;
  cipherSuite?: number;
  /** `null` leaves out the extensions block altogether (RFC 5246 §7.4.1.3 allows it). */
  extensions?: [number, Uint8Array][] | null;
}

function serverHello(spec: HelloSpec = {}): Uint8Array {
  const exts = spec.extensions === undefined ? [[18, SCT_LIST] as [number, Uint8Array]] : spec.extensions;
  const extBlock =
    exts === null ? [] : [...u16(0), ...exts.flatMap(([t, d]) => [...u16(t), ...u16(d.length), ...d])];
  if (exts !== null) extBlock.splice(0, 2, ...u16(extBlock.length - 2));
  const sessionId = spec.sessionId ?? new Uint8Array(32).fill(9);
  return message(
    2,
    bytes(
      u16(spec.version ?? 0x0303),
      spec.random ?? new Uint8Array(32).fill(1),
      [sessionId.length],
      sessionId,
      u16(spec.cipherSuite ?? 0xc02b),
      [0],
      extBlock,
    ),
  );
}

const SCT_LIST = bytes(u16(8), u16(6), [0, 1, 2, 3, 4, 5]);
const CERT_A = bytes([0x30, 0x03, 0x02, 0x01, 0x01]);
const CERT_B = bytes([0x30, 0x03, 0x02, 0x01, 0x02]);
const OCSP = bytes([0x30, 0x03, 0x0a, 0x01, 0x00]);

const certificate = (...certs: Uint8Array[]): Uint8Array => {
  const list = bytes(...certs.map((c) => bytes(u24(c.length), c)));
  return message(11, bytes(u24(list.length), list));
};
const certificateStatus = (response: Uint8Array, type = 1): Uint8Array =>
  message(22, bytes([type], u24(response.length), response));
const serverKeyExchange = message(12, new Uint8Array(40).fill(0xee));
const serverHelloDone = message(14, new Uint8Array(0));

/** The messages of a typical TLS 1.2 ECDHE flight with SCT extension and stapled OCSP. */
const FULL_MESSAGES = [
  serverHello(),
  certificate(CERT_A, CERT_B),
  certificateStatus(OCSP),
  serverKeyExchange,
  serverHelloDone,
];
const FULL_HANDSHAKE = bytes(...FULL_MESSAGES);

/** The handshake byte stream cut into records at the given offsets. */
function fragmented(stream: Uint8Array, cuts: number[]): Uint8Array {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < stream.length))].sort((a, b) => a - b);
  const edges = [0, ...points, stream.length];
  const records: Uint8Array[] = [];
  for (let i = 0; i + 1 < edges.length; i++)
    records.push(record(22, stream.subarray(edges[i], edges[i + 1])));
  return Uint8Array.from(Buffer.concat(records));
}

/** Facts with byte arrays as hex, for deep equality. */
function plain(facts: ServerHelloFacts): Record<string, unknown> {
  return {
    ...facts,
    extensions: facts.extensions.map((e) => ({ type: e.type, data: hexOf(e.data) })),
    sctList: hexOf(facts.sctList),
    certificates: facts.certificates.map(hexOf),
    ocspResponse: hexOf(facts.ocspResponse),
  };
}

function expectMalformed(input: Uint8Array, pattern?: RegExp): void {
  let thrown: unknown;
  try {
    parseServerFlight(input);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(TlsHelloError);
  expect((thrown as TlsHelloError).code).toBe('TLS_HELLO_MALFORMED');
  if (pattern !== undefined) expect((thrown as Error).message).toMatch(pattern);
}

const FULL_FACTS = {
  version: 0x0303,
  cipherSuite: 0xc02b,
  extensions: [{ type: 18, data: hexOf(SCT_LIST) }],
  sctList: hexOf(SCT_LIST),
  certificates: [hexOf(CERT_A), hexOf(CERT_B)],
  ocspResponse: hexOf(OCSP),
  alert: null,
  helloRetryRequest: false,
  serverHelloDone: true,
};

describe('parseServerFlight: flights', () => {
  const cases: [string, Uint8Array, boolean, Partial<Record<keyof ServerHelloFacts, unknown>>][] = [
    ['whole flight in one record', handshakeRecords(...FULL_MESSAGES), true, FULL_FACTS],
    ['one record per message', bytes(...FULL_MESSAGES.map((m) => record(22, m))), true, FULL_FACTS],
    ['one byte per record', fragmented(FULL_HANDSHAKE, [...FULL_HANDSHAKE.keys()]), true, FULL_FACTS],
    [
      'ServerHello only (more to come)',
      handshakeRecords(serverHello()),
      false,
      { version: 0x0303, sctList: hexOf(SCT_LIST), serverHelloDone: false },
    ],
    [
      'no extensions block, no status',
      handshakeRecords(serverHello({ extensions: null }), certificate(CERT_A), serverHelloDone),
      true,
      { extensions: [], sctList: null, ocspResponse: null, certificates: [hexOf(CERT_A)] },
    ],
    [
      'empty session id, several extensions',
      handshakeRecords(
        serverHello({
          sessionId: new Uint8Array(0),
          extensions: [
            [0xff01, bytes([0])],
            [23, new Uint8Array(0)],
            [5, new Uint8Array(0)],
            [18, SCT_LIST],
          ],
        }),
        serverHelloDone,
      ),
      true,
      {
        extensions: [0xff01, 23, 5, 18].map((type) => expect.objectContaining({ type })),
        sctList: hexOf(SCT_LIST),
      },
    ],
    [
      'warning alert (unrecognized_name) before the flight is recorded, not final',
      bytes(record(21, bytes([1, 112])), handshakeRecords(...FULL_MESSAGES)),
      true,
      { alert: { level: 1, description: 112 }, serverHelloDone: true },
    ],
    [
      'fatal alert instead of a ServerHello',
      record(21, bytes([2, 40])),
      true,
      { alert: { level: 2, description: 40 }, version: 0 },
    ],
    ['close_notify', record(21, bytes([1, 0])), true, { alert: { level: 1, description: 0 } }],
    [
      'TLS 1.3 ServerHello (supported_versions) hides its SCTs',
      bytes(
        handshakeRecords(
          serverHello({
            extensions: [
              [43, bytes(u16(0x0304))],
              [18, SCT_LIST],
            ],
          }),
        ),
        record(20, bytes([1])),
        record(23, new Uint8Array(30)),
      ),
      true,
      { version: 0x0304, sctList: null, helloRetryRequest: false },
    ],
    [
      'HelloRetryRequest (RFC 8446 §4.1.3)',
      handshakeRecords(
        serverHello({ random: HELLO_RETRY_REQUEST_RANDOM, extensions: [[43, bytes(u16(0x0304))]] }),
      ),
      true,
      { version: 0x0304, helloRetryRequest: true, sctList: null },
    ],
    [
      'abbreviated handshake: ChangeCipherSpec right after ServerHello',
      bytes(handshakeRecords(serverHello()), record(20, bytes([1]))),
      true,
      { sctList: hexOf(SCT_LIST), serverHelloDone: false, certificates: [] },
    ],
    [
      'HelloRequest before the ServerHello is ignored',
      handshakeRecords(message(0, new Uint8Array(0)), ...FULL_MESSAGES),
      true,
      FULL_FACTS,
    ],
    [
      'CertificateStatus of another type is skipped',
      handshakeRecords(serverHello(), certificateStatus(OCSP, 2), serverHelloDone),
      true,
      { ocspResponse: null },
    ],
    [
      'bytes after ServerHelloDone are not read',
      bytes(handshakeRecords(...FULL_MESSAGES), Buffer.from('garbage after the flight')),
      true,
      FULL_FACTS,
    ],
    ['nothing yet', new Uint8Array(0), false, { version: 0 }],
    ['half a record header', bytes([22, 3]), false, { version: 0 }],
  ];
  it.each(cases)('%s', (_name, input, complete, expected) => {
    const result = parseServerFlight(input);
    expect(result.complete).toBe(complete);
    expect(plain(result.facts)).toMatchObject(expected);
  });

  it('every prefix of a flight parses without error, incomplete until the last byte', () => {
    const whole = fragmented(FULL_HANDSHAKE, [7, 50, 51, 90]);
    for (let n = 0; n < whole.length; n++)
      expect(parseServerFlight(whole.subarray(0, n)).complete).toBe(false);
    expect(plain(parseServerFlight(whole).facts)).toEqual(FULL_FACTS);
  });
});

// ---------------------------------------------------------------------------------------------
// parseServerFlight: malformed

describe('parseServerFlight: malformed input is TLS_HELLO_MALFORMED', () => {
  const cases: [string, Uint8Array, RegExp?][] = [
    [
      'an HTTP answer',
      Uint8Array.from(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')),
      /not a TLS server.*HTTP/,
    ],
    ['an SMTP banner', Uint8Array.from(Buffer.from('220 mail.example ESMTP\r\n')), /not a TLS server/],
    ['unknown content type first', record(99, bytes([1, 2])), /not a TLS server: answer starts with 6303/],
    [
      'unknown content type later',
      bytes(handshakeRecords(serverHello()), record(99, bytes([1, 2]))),
      /content type 99/,
    ],
    ['record version major 2', record(22, serverHello(), 0x0203)],
    ['record longer than 2^14+2048', bytes([22, 3, 3], u16(18_433)), /2\^14\+2048/],
    ['empty handshake record (RFC 5246 §6.2.1)', record(22, new Uint8Array(0)), /empty fragment/],
    ['first message is Certificate', handshakeRecords(certificate(CERT_A)), /not ServerHello/],
    ['two ServerHellos', handshakeRecords(serverHello(), serverHello()), /second ServerHello/],
    [
      'duplicate extension',
      handshakeRecords(
        serverHello({
          extensions: [
            [18, SCT_LIST],
            [18, SCT_LIST],
          ],
        }),
      ),
      /twice/,
    ],
    ['server_version 2.0', handshakeRecords(serverHello({ version: 0x0200 }))],
    [
      'session_id of 33 bytes',
      handshakeRecords(serverHello({ sessionId: new Uint8Array(33) })),
      /session_id/,
    ],
    [
      'supported_versions of 4 bytes',
      handshakeRecords(serverHello({ extensions: [[43, bytes(u16(0x0304), u16(0x0303))]] })),
      /supported_versions/,
    ],
    [
      'extension length past the block',
      handshakeRecords(
        message(2, bytes(u16(0x0303), new Uint8Array(32), [0], u16(0xc02b), [0], u16(4), u16(18), u16(9))),
      ),
    ],
    [
      'trailing bytes after the extensions',
      handshakeRecords(
        message(2, bytes(u16(0x0303), new Uint8Array(32), [0], u16(0xc02b), [0], u16(0), [0xaa])),
      ),
      /trailing/,
    ],
    ['ServerHello cut short', handshakeRecords(message(2, bytes(u16(0x0303), new Uint8Array(10))))],
    ['empty ASN.1Cert', handshakeRecords(serverHello(), certificate(new Uint8Array(0))), /empty ASN.1Cert/],
    [
      'certificate_list overrun',
      handshakeRecords(serverHello(), message(11, bytes(u24(10), u24(3), [1, 2, 3]))),
    ],
    [
      'empty ocsp_response',
      handshakeRecords(serverHello(), certificateStatus(new Uint8Array(0))),
      /empty ocsp/,
    ],
    [
      'ServerHelloDone with a body',
      handshakeRecords(serverHello(), message(14, bytes([0]))),
      /ServerHelloDone/,
    ],
    ['alert of 3 bytes', record(21, bytes([2, 40, 0])), /alert record/],
    ['ChangeCipherSpec before the ServerHello', record(20, bytes([1])), /before the ServerHello/],
    ['HelloRequest with a body', handshakeRecords(message(0, bytes([1]))), /HelloRequest/],
  ];
  it.each(cases)('%s', (_name, input, pattern) => expectMalformed(input, pattern));
});

// ---------------------------------------------------------------------------------------------
// Properties

/** parseServerFlight either returns or throws TlsHelloError TLS_HELLO_MALFORMED. */
function onlyTypedErrors(input: Uint8Array): void {
  try {
    parseServerFlight(input);
  } catch (err) {
    if (!(err instanceof TlsHelloError) || err.code !== 'TLS_HELLO_MALFORMED') throw err;
  }
}

describe('parseServerFlight: properties (fast-check)', () => {
  it('random bytes: only typed errors', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (input) => onlyTypedErrors(input)),
      { numRuns: 3_000 },
    );
  });

  it('random bytes behind a plausible record header: only typed errors', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(20, 21, 22, 23),
        fc.uint8Array({ maxLength: 400 }),
        fc.boolean(),
        (type, body, handshakeHeader) => {
          const fragment = handshakeHeader ? bytes([2], u24(body.length), body) : body;
          onlyTypedErrors(record(type, fragment));
          onlyTypedErrors(bytes(handshakeRecords(serverHello()), record(type, fragment)));
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it('any split of the handshake stream into records gives the same facts', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: FULL_HANDSHAKE.length - 1 }), { maxLength: 40 }),
        (cuts) => {
          const result = parseServerFlight(fragmented(FULL_HANDSHAKE, cuts));
          expect(result.complete).toBe(true);
          expect(plain(result.facts)).toEqual(FULL_FACTS);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('mutated flights (flipped, inserted, deleted bytes, truncation): only typed errors', () => {
    const base = fragmented(FULL_HANDSHAKE, [30, 31, 120]);
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({
        kind: fc.constant('insert' as const),
        at: fc.nat(),
        value: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), value: fc.constant(0) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(), value: fc.constant(0) }),
    );
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 6 }), (mutations) => {
        let b = [...base];
        for (const m of mutations) {
          const at = m.at % (b.length + 1);
          if (m.kind === 'set' && at < b.length) b[at] = m.value;
          else if (m.kind === 'insert') b.splice(at, 0, m.value);
          else if (m.kind === 'delete') b.splice(at, 1);
          else if (m.kind === 'truncate') b = b.slice(0, at);
        }
        onlyTypedErrors(Uint8Array.from(b));
      }),
      { numRuns: 5_000 },
    );
  });

  it('ServerHellos with arbitrary extensions: parsed back exactly, SCT list found', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({
            type: fc.integer({ min: 0, max: 0xffff }).filter((t) => t !== 43),
            data: fc.uint8Array({ maxLength: 40 }),
          }),
          { selector: (e) => e.type, maxLength: 12 },
        ),
        (exts) => {
          const { facts } = parseServerFlight(
            handshakeRecords(serverHello({ extensions: exts.map((e) => [e.type, e.data]) }), serverHelloDone),
          );
          expect(facts.extensions.map((e) => [e.type, hexOf(e.data)])).toEqual(
            exts.map((e) => [e.type, hexOf(e.data)]),
          );
          expect(hexOf(facts.sctList)).toBe(hexOf(exts.find((e) => e.type === 18)?.data ?? null));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('ServerFlightParser fed in arbitrary chunks agrees with one parse (facts are copies, not views)', () => {
    const inputs = [
      fragmented(FULL_HANDSHAKE, [3, 60, 61, 62, 150]),
      bytes(record(21, bytes([1, 112])), handshakeRecords(...FULL_MESSAGES)),
      bytes(handshakeRecords(serverHello()), record(99, bytes([1]))),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...inputs),
        fc.uniqueArray(fc.integer({ min: 1, max: 400 }), { maxLength: 30 }),
        (input, cuts) => {
          const outcome = (run: () => ServerHelloFacts): unknown => {
            try {
              return plain(run());
            } catch (err) {
              return (err as TlsHelloError).code;
            }
          };
          const whole = outcome(() => parseServerFlight(input).facts);
          const chunked = outcome(() => {
            const parser = new ServerFlightParser();
            const edges = [0, ...cuts.filter((c) => c < input.length).sort((a, b) => a - b), input.length];
            for (let i = 0; i + 1 < edges.length; i++) parser.push(input.subarray(edges[i], edges[i + 1]));
            return parser.facts;
          });
          expect(chunked).toEqual(whole);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('is linear: a 240 kB flight in one-byte records (1.4 MB), pushed one byte at a time', () => {
    const certs = Array.from({ length: 40 }, (_, i) => new Uint8Array(6_000).fill(i));
    const stream = bytes(serverHello(), certificate(...certs), serverHelloDone);
    const input = fragmented(stream, [...stream.keys()]);
    expect(input.length).toBeGreaterThan(1_400_000);
    const started = performance.now();
    const parser = new ServerFlightParser();
    for (let i = 0; i < input.length && !parser.complete; i++) parser.push(input.subarray(i, i + 1));
    expect(parser.complete).toBe(true);
    expect(parser.facts.certificates.map(hexOf)).toEqual(certs.map(hexOf));
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

// ---------------------------------------------------------------------------------------------
// ClientHello for the protocol-policy probes (tls-policy-probe.ts)
