/**
 * The ClientHello that src/probe/tls-hello.ts builds, split back into its fields independently of
 * the builder (RFC 5246 §7.4.1.2, RFC 8446 §4.1.2): versions, suites, extensions (SNI RFC 6066 §3,
 * status_request §8, signed_certificate_timestamp RFC 6962 §3.3.1). The server-flight parser is
 * tested in tls-hello.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { EXTENSION_TYPE, TlsHelloError, buildClientHello, sniHostName } from './tls-hello.js';

const hexOf = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('hex'));

/** Splits our ClientHello record back into its fields (independently of the builder). */
function dissectClientHello(hello: Uint8Array): {
  recordVersion: number;
  messageLength: number;
  clientVersion: number;
  suites: number[];
  extensions: Map<number, Uint8Array>;
} {
  const b = Buffer.from(hello);
  expect(b[0]).toBe(22);
  expect(b.readUInt16BE(3)).toBe(b.length - 5);
  expect(b[5]).toBe(1); // client_hello
  const messageLength = b.readUIntBE(6, 3);
  expect(messageLength).toBe(b.length - 9);
  let p = 9;
  const clientVersion = b.readUInt16BE(p);
  p += 2 + 32;
  p += 1 + (b[p] ?? 0); // session_id
  const suitesLength = b.readUInt16BE(p);
  const suites: number[] = [];
  for (let i = 0; i < suitesLength; i += 2) suites.push(b.readUInt16BE(p + 2 + i));
  p += 2 + suitesLength;
  p += 1 + (b[p] ?? 0); // compression_methods
  const extEnd = p + 2 + b.readUInt16BE(p);
  expect(extEnd).toBe(b.length);
  p += 2;
  const extensions = new Map<number, Uint8Array>();
  while (p < extEnd) {
    const type = b.readUInt16BE(p);
    const length = b.readUInt16BE(p + 2);
    expect(extensions.has(type)).toBe(false);
    extensions.set(type, b.subarray(p + 4, p + 4 + length));
    p += 4 + length;
  }
  expect(p).toBe(extEnd);
  return { recordVersion: b.readUInt16BE(1), messageLength, clientVersion, suites, extensions };
}

describe('buildClientHello', () => {
  it('is a TLS 1.2 ClientHello asking for SCTs and OCSP, with no supported_versions', () => {
    const hello = dissectClientHello(buildClientHello({ serverName: 'www.example.test' }));
    expect(hello.recordVersion).toBe(0x0301);
    expect(hello.clientVersion).toBe(0x0303);
    expect(hello.suites).toEqual(expect.arrayContaining([0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8]));
    const types = [...hello.extensions.keys()];
    expect(types).toEqual(expect.arrayContaining([0, 5, 10, 11, 13, 18, 23, 0xff01]));
    expect(types).not.toContain(EXTENSION_TYPE.supportedVersions);
    expect(hexOf(hello.extensions.get(18) ?? null)).toBe(''); // RFC 6962 §3.3.1: empty
    expect(hexOf(hello.extensions.get(5) ?? null)).toBe('0100000000'); // ocsp, no ids, no extensions
    expect(hexOf(hello.extensions.get(0xff01) ?? null)).toBe('00');
    const sigalgs = Buffer.from(hello.extensions.get(13) ?? []);
    const schemes = Array.from({ length: sigalgs.readUInt16BE(0) / 2 }, (_, i) =>
      sigalgs.readUInt16BE(2 + 2 * i),
    );
    expect(schemes).toEqual(expect.arrayContaining([0x0403, 0x0804, 0x0805, 0x0806, 0x0401, 0x0807]));
    const sni = Buffer.from(hello.extensions.get(0) ?? []);
    expect(sni.readUInt16BE(0)).toBe(sni.length - 2);
    expect(sni[2]).toBe(0); // host_name
    expect(sni.subarray(5).toString('ascii')).toBe('www.example.test');
  });

  it.each([
    ['www.example.test', 'www.example.test'],
    ['www.example.test.', 'www.example.test'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['192.0.2.1', null],
    ['2001:db8::1', null],
    ['[2001:db8::1]', null],
    [null, null],
  ])('SNI for %s is %s (RFC 6066 §3)', (input, expected) => {
    expect(sniHostName(input)).toBe(expected);
    const hello = dissectClientHello(buildClientHello({ serverName: input }));
    expect(hello.extensions.has(0)).toBe(expected !== null);
  });

  it('refuses a name that is not a host name', () => {
    expect(() => sniHostName('a b')).toThrow(TlsHelloError);
    expect(() => sniHostName('x'.repeat(300))).toThrow(
      expect.objectContaining({ code: 'TLS_HELLO_BAD_NAME' }),
    );
  });

  it('is reproducible with a fixed random, and leaves the 256..511-byte range (RFC 7685)', () => {
    const random = new Uint8Array(32).fill(0x42);
    for (let n = 1; n <= 120; n++) {
      const name = `${'a'.repeat(n)}.test`;
      const one = buildClientHello({ serverName: name, random });
      expect(hexOf(one)).toBe(hexOf(buildClientHello({ serverName: name, random })));
      const { messageLength } = dissectClientHello(one);
      expect(messageLength + 4 < 256 || messageLength + 4 >= 512).toBe(true);
    }
  });

  it('can leave out the OCSP and SCT requests', () => {
    const hello = dissectClientHello(
      buildClientHello({ serverName: null, requestOcsp: false, requestScts: false }),
    );
    expect(hello.extensions.has(5)).toBe(false);
    expect(hello.extensions.has(18)).toBe(false);
  });
});

describe('buildClientHello: versions offered', () => {
  it.each([
    // [name, options, client_version, signature_algorithms sent, supported_versions body, key_share]
    ['default: TLS 1.2, no supported_versions', {}, 0x0303, true, null, false],
    [
      'TLS 1.0: no signature_algorithms (RFC 5246 §7.4.1.4.1)',
      { clientVersion: 0x0301 },
      0x0301,
      false,
      null,
      false,
    ],
    ['TLS 1.1', { clientVersion: 0x0302 }, 0x0302, false, null, false],
    [
      'TLS 1.3 via supported_versions, legacy_version 1.2, empty key_share (RFC 8446 §4.2.1, §4.2.8)',
      { clientVersion: 0x0303, supportedVersions: [0x0304] },
      0x0303,
      true,
      '020304',
      true,
    ],
    [
      'supported_versions without TLS 1.3: no key_share',
      { supportedVersions: [0x0303, 0x0302] },
      0x0303,
      true,
      '0403030302',
      false,
    ],
  ] as const)('%s', (_name, options, clientVersion, sigalgs, supportedVersions, keyShare) => {
    const hello = dissectClientHello(
      buildClientHello({
        serverName: 'www.example.test',
        requestOcsp: false,
        requestScts: false,
        ...options,
      }),
    );
    expect(hello.recordVersion).toBe(0x0301);
    expect(hello.clientVersion).toBe(clientVersion);
    expect(hello.extensions.has(EXTENSION_TYPE.signatureAlgorithms)).toBe(sigalgs);
    expect(hexOf(hello.extensions.get(EXTENSION_TYPE.supportedVersions) ?? null)).toBe(supportedVersions);
    expect(hexOf(hello.extensions.get(EXTENSION_TYPE.keyShare) ?? null)).toBe(keyShare ? '0000' : null);
  });

  it('offers exactly the suites asked for, in order', () => {
    const suites = [0x0001, 0x000a, 0xc011];
    expect(dissectClientHello(buildClientHello({ serverName: null, cipherSuites: suites })).suites).toEqual(
      suites,
    );
  });
});
