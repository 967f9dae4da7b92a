import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  encodeDigitallySigned,
  logIdOf,
  parseDigitallySigned,
  publicKeyFromSpki,
  SignatureError,
  verifyDigitallySigned,
} from './signature.js';
import type { SignatureErrorCode } from './errors.js';
import { treeHeadSignatureInput, verifySth } from './sth.js';
import type { SignedTreeHead } from './types.js';

const CT = new URL('../../test/vectors/ct/', import.meta.url);
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');

interface SigTest {
  cert_der_hex: string;
  sct_timestamp: number;
  log_key_id_hex: string;
  keys: Record<'ec256' | 'ec256_other' | 'rsa2048', string>;
  sct_signatures: Record<string, string>;
  sth: {
    version: number;
    timestamp: number;
    tree_size: number;
    sha256_root_hash_hex: string;
    tree_head_signature_hex: string;
  };
  expectations: {
    what: 'SCT' | 'STH';
    signature?: string;
    key: string;
    mutate?: string;
    want_valid: boolean;
  }[];
}
const sigtest = JSON.parse(readFileSync(new URL('ctgo/signatures/sigtest.json', CT), 'utf8')) as SigTest;

function spkiOfPem(pem: string): Uint8Array {
  return new Uint8Array(createPublicKey(pem).export({ type: 'spki', format: 'der' }));
}
const keyOf = (name: string): ReturnType<typeof publicKeyFromSpki> =>
  publicKeyFromSpki(spkiOfPem(sigtest.keys[name as keyof SigTest['keys']]));

function codeOf(fn: () => unknown): SignatureErrorCode | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof SignatureError) return err.code;
    throw err;
  }
}

/**
 * RFC 6962 §3.2 signed data of an x509 SCT: sct_version, signature_type certificate_timestamp (0),
 * timestamp, entry_type x509_entry (0), ASN.1Cert, empty CtExtensions. Built here only to drive
 * the Go vectors; the SCT module is not part of this file's scope.
 */
function sctInput(cert: Uint8Array, timestamp: number, version = 0): Uint8Array {
  const out = Buffer.alloc(2 + 8 + 2 + 3 + cert.length + 2);
  out[0] = version;
  out[1] = 0;
  out.writeBigUInt64BE(BigInt(timestamp), 2);
  out.writeUInt16BE(0, 10);
  out.writeUIntBE(cert.length, 12, 3);
  out.set(cert, 15);
  out.writeUInt16BE(0, 15 + cert.length);
  return out;
}

const cert = unhex(sigtest.cert_der_hex);
const sigtestSth: SignedTreeHead = {
  treeSize: sigtest.sth.tree_size,
  timestamp: sigtest.sth.timestamp,
  rootHash: unhex(sigtest.sth.sha256_root_hash_hex),
  signature: parseDigitallySigned(unhex(sigtest.sth.tree_head_signature_hex)),
};
const flip = (u: Uint8Array, i: number): Uint8Array => u.map((b, j) => (j === i ? b ^ 0x01 : b));

describe('ctgo/signatures/sigtest.json expectations', () => {
  const plain = sigtest.expectations.filter((e) => e.mutate === undefined);

  it.each(plain.map((e) => [`${e.what} ${e.signature ?? 'sth'} with ${e.key}`, e] as const))(
    '%s',
    (_n, e) => {
      const key = keyOf(e.key);
      const code =
        e.what === 'SCT'
          ? codeOf(() =>
              verifyDigitallySigned(
                key,
                sctInput(cert, sigtest.sct_timestamp),
                parseDigitallySigned(unhex(sigtest.sct_signatures[e.signature ?? ''] ?? '')),
              ),
            )
          : codeOf(() => verifySth(sigtestSth, key));
      if (e.want_valid) expect(code).toBe('ok');
      else expect(code).not.toBe('ok');
    },
  );

  it.each<[string, string, string, SignatureErrorCode]>([
    ['rsa signature, EC key', 'rsa', 'ec256', 'SIG_KEY_MISMATCH'],
    ['ec signature, other EC key', 'ec', 'ec256_other', 'SIG_INVALID'],
    ['sha256 + dsa (0402)', 'unsupported_signature_algorithm', 'ec256', 'SIG_UNSUPPORTED_ALGORITHM'],
    ['sha224 + ecdsa (0303)', 'unsupported_hash_algorithm', 'ec256', 'SIG_UNSUPPORTED_ALGORITHM'],
  ])('%s fails with %s', (_n, sig, key, code) => {
    const ds = parseDigitallySigned(unhex(sigtest.sct_signatures[sig] ?? ''));
    expect(codeOf(() => verifyDigitallySigned(keyOf(key), sctInput(cert, sigtest.sct_timestamp), ds))).toBe(
      code,
    );
  });

  it('STH with the RSA key fails as a key mismatch', () => {
    expect(codeOf(() => verifySth(sigtestSth, keyOf('rsa2048')))).toBe('SIG_KEY_MISMATCH');
  });

  it('log_key_id_hex is SHA-256 of the ec256 SPKI', () => {
    expect(hex(logIdOf(spkiOfPem(sigtest.keys.ec256)))).toBe(sigtest.log_key_id_hex);
  });

  it('ec256_other is the Google Pilot key', () => {
    expect(Buffer.from(logIdOf(spkiOfPem(sigtest.keys.ec256_other))).toString('base64')).toBe(
      'pLkJkLQYWBSHuxOizGdwCjw1mAT5G9+443fNDsgN3BA=',
    );
  });

  const ec = parseDigitallySigned(unhex(sigtest.sct_signatures.ec ?? ''));
  it.each<[string, Uint8Array, Uint8Array]>([
    ['cert byte 0', sctInput(flip(cert, 0), sigtest.sct_timestamp), ec.signature],
    ['cert last byte', sctInput(flip(cert, cert.length - 1), sigtest.sct_timestamp), ec.signature],
    ['timestamp + 1', sctInput(cert, sigtest.sct_timestamp + 1), ec.signature],
    ['version 1', sctInput(cert, sigtest.sct_timestamp, 1), ec.signature],
    ['signature byte 10', sctInput(cert, sigtest.sct_timestamp), flip(ec.signature, 10)],
    [
      'signature last byte',
      sctInput(cert, sigtest.sct_timestamp),
      flip(ec.signature, ec.signature.length - 1),
    ],
    ['signature truncated', sctInput(cert, sigtest.sct_timestamp), ec.signature.subarray(0, 40)],
  ])('SCT mutation rejected: %s', (_n, data, signature) => {
    expect(codeOf(() => verifyDigitallySigned(keyOf('ec256'), data, { ...ec, signature }))).toBe(
      'SIG_INVALID',
    );
  });

  const s = sigtestSth;
  it.each<[string, () => void]>([
    ['root hash', () => verifySth({ ...s, rootHash: flip(s.rootHash, 31) }, keyOf('ec256'))],
    ['timestamp', () => verifySth({ ...s, timestamp: s.timestamp - 1 }, keyOf('ec256'))],
    ['tree size + 1', () => verifySth({ ...s, treeSize: s.treeSize + 1 }, keyOf('ec256'))],
    [
      'version',
      () => {
        const input = treeHeadSignatureInput(s);
        input[0] = 1;
        verifyDigitallySigned(keyOf('ec256'), input, s.signature);
      },
    ],
    [
      'signature',
      () =>
        verifySth(
          { ...s, signature: { ...s.signature, signature: flip(s.signature.signature, 20) } },
          keyOf('ec256'),
        ),
    ],
  ])('STH mutation rejected: %s', (_n, fn) => {
    expect(codeOf(fn)).toBe('SIG_INVALID');
  });
});

describe('parseDigitallySigned (RFC 5246 §4.7, strict)', () => {
  it.each<[string, string, SignatureErrorCode | 'ok']>([
    ['sigtest STH signature', sigtest.sth.tree_head_signature_hex, 'ok'],
    ['empty signature', '04030000', 'ok'],
    ['"good" (error_responses "bad tls data")', '676f6f64', 'SIG_MALFORMED'],
    ['trailing byte', '0403000100ff', 'SIG_MALFORMED'],
    ['truncated length', '040300', 'SIG_MALFORMED'],
    ['nothing', '', 'SIG_MALFORMED'],
  ])('%s', (_n, input, code) => {
    expect(codeOf(() => parseDigitallySigned(unhex(input)))).toBe(code);
  });

  it('property: encode/parse round-trip', () => {
    fc.assert(
      fc.property(fc.nat(255), fc.nat(255), fc.uint8Array({ maxLength: 600 }), (h, a, sig) => {
        const ds = parseDigitallySigned(
          encodeDigitallySigned({ hashAlgorithm: h, signatureAlgorithm: a, signature: sig }),
        );
        expect([ds.hashAlgorithm, ds.signatureAlgorithm, hex(ds.signature)]).toEqual([h, a, hex(sig)]);
      }),
    );
  });

  it('property: arbitrary bytes fail only with SIG_MALFORMED', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (input) => {
        expect(['ok', 'SIG_MALFORMED']).toContain(codeOf(() => parseDigitallySigned(input)));
      }),
    );
  });
});

describe('publicKeyFromSpki and logIdOf', () => {
  const list = JSON.parse(readFileSync(new URL('ctgo/testdata/loglist3.json', CT), 'utf8')) as {
    operators: { logs: { description: string; key: string; log_id: string }[] }[];
  };
  const logs = list.operators.flatMap((o) => o.logs);

  it.each(logs.map((l) => [l.description, l] as const))('%s: log_id = b64(SHA-256(key))', (_n, l) => {
    expect(Buffer.from(logIdOf(Buffer.from(l.key, 'base64'))).toString('base64')).toBe(l.log_id);
  });

  it.each(logs.map((l) => [l.description, l] as const))('%s: key import', (name, l) => {
    const code = codeOf(() => publicKeyFromSpki(Buffer.from(l.key, 'base64')));
    expect(code).toBe(name === "Google 'Racketeer' log" ? 'SIG_BAD_KEY' : 'ok');
  });

  it.each<[string, () => Uint8Array, SignatureErrorCode | 'ok']>([
    ['P-256', () => gen('ec', { namedCurve: 'P-256' }), 'ok'],
    ['RSA 2048', () => gen('rsa', { modulusLength: 2048 }), 'ok'],
    ['P-384', () => gen('ec', { namedCurve: 'P-384' }), 'SIG_UNSUPPORTED_KEY'],
    ['RSA 1024', () => gen('rsa', { modulusLength: 1024 }), 'SIG_UNSUPPORTED_KEY'],
    ['Ed25519', () => gen('ed25519', {}), 'SIG_UNSUPPORTED_KEY'],
    ['empty', () => new Uint8Array(0), 'SIG_BAD_KEY'],
    ['garbage', () => new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]), 'SIG_BAD_KEY'],
  ])('%s → %s', (_n, make, code) => {
    expect(codeOf(() => publicKeyFromSpki(make()))).toBe(code);
  });

  it('verifies RSA PKCS#1 v1.5 and ECDSA signatures it did not produce itself', () => {
    for (const [type, opts, alg] of [
      ['rsa', { modulusLength: 2048 }, 1],
      ['ec', { namedCurve: 'P-256' }, 3],
    ] as const) {
      const { publicKey, privateKey } = generateKeyPairSync(type as 'rsa', opts as { modulusLength: number });
      const data = new TextEncoder().encode('tree head');
      const signature = sign('sha256', data, privateKey);
      const key = publicKeyFromSpki(publicKey.export({ type: 'spki', format: 'der' }));
      const ds = { hashAlgorithm: 4, signatureAlgorithm: alg, signature };
      expect(codeOf(() => verifyDigitallySigned(key, data, ds))).toBe('ok');
      expect(codeOf(() => verifyDigitallySigned(key, data.subarray(1), ds))).toBe('SIG_INVALID');
    }
  });
});

function gen(type: 'ec' | 'rsa' | 'ed25519', options: object): Uint8Array {
  const { publicKey } = generateKeyPairSync(type as 'ec', options as { namedCurve: string });
  return new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
}
