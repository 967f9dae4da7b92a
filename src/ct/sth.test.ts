import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRawEntry } from './entry.js';
import { leafHash, rootFromLeafHashes } from './merkle.js';
import { logIdOf, publicKeyFromSpki, SignatureError } from './signature.js';
import {
  CtResponseError,
  parseConsistencyProofJson,
  parseEntryAndProofJson,
  parseGetEntriesJson,
  parseGetRootsJson,
  parseProofByHashJson,
  parseSthJson,
  treeHeadSignatureInput,
  verifySth,
} from './sth.js';
import type { CtResponseErrorCode } from './errors.js';

const CT = new URL('../../test/vectors/ct/', import.meta.url);
const text = (p: string): string => readFileSync(new URL(p, CT), 'utf8');
const json = (p: string): unknown => JSON.parse(text(p));
const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');
const spki = (pem: string): Uint8Array =>
  new Uint8Array(createPublicKey(pem).export({ type: 'spki', format: 'der' }));
const sigtest = json('ctgo/signatures/sigtest.json') as { keys: Record<string, string> };
const pilot = publicKeyFromSpki(spki(sigtest.keys.ec256_other ?? ''));

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof CtResponseError || err instanceof SignatureError) return err.code;
    if (err instanceof Error && 'code' in err) return String(err.code);
    throw err;
  }
}

describe('get-sth', () => {
  it('ValidSTHResponse parses and verifies with the Google Pilot key (ec256_other)', () => {
    const sth = parseSthJson(json('ctgo/client/ValidSTHResponse.json'));
    expect(sth.treeSize).toBe(3721782);
    expect(sth.timestamp).toBe(1396609800587);
    expect(b64(sth.rootHash)).toBe('SxKOxksguvHPyUaKYKXoZHzXl91Q257+JQ0AUMlFfeo=');
    expect([sth.signature.hashAlgorithm, sth.signature.signatureAlgorithm]).toEqual([4, 3]);
    expect(() => verifySth(sth, pilot)).not.toThrow();
    expect(codeOf(() => verifySth({ ...sth, treeSize: sth.treeSize + 1 }, pilot))).toBe('SIG_INVALID');
  });

  it('sunlight rfc6962-sth.json (tabs and all) verifies with its key', () => {
    const der = spki(text('sunlight/extracted/rfc6962-sth.pub.pem'));
    expect(b64(logIdOf(der))).toMatch(/^wRZK4Kdy/);
    const sth = parseSthJson(json('sunlight/extracted/rfc6962-sth.json'));
    expect(sth.treeSize).toBe(90785920);
    expect(() => verifySth(sth, publicKeyFromSpki(der))).not.toThrow();
  });

  it('FourEntrySTH parses but is rejected: anonymous signature, non-RFC 6962 root', () => {
    const sth = parseSthJson(json('ctgo/scanner/FourEntrySTH.json'));
    expect(sth.signature.hashAlgorithm).toBe(0);
    expect(sth.signature.signatureAlgorithm).toBe(0);
    expect(Buffer.from(sth.signature.signature).toString('latin1')).toBe('signature');
    expect(codeOf(() => verifySth(sth, pilot))).toBe('SIG_UNSUPPORTED_ALGORITHM');

    const entries = parseGetEntriesJson(json('ctgo/scanner/FourEntries.json'), 0);
    const root = rootFromLeafHashes(entries.map((e) => leafHash(e.leafInput)));
    expect(b64(root)).toBe('A26tmgcaUJpkFXFpkzCS8bJ29cQBEgExKAYFL8hiJ5E=');
    expect(b64(root)).not.toBe(b64(sth.rootHash));
  });

  it('treeHeadSignatureInput is the 50-byte RFC 6962 §3.5 TreeHeadSignature', () => {
    const input = treeHeadSignatureInput({
      treeSize: 300,
      timestamp: 1767139200000,
      rootHash: new Uint8Array(32).fill(0xab),
    });
    expect(Buffer.from(input).toString('hex')).toBe(
      '0001' + '0000019b71b44c00' + '000000000000012c' + 'ab'.repeat(32),
    );
  });

  const good = {
    tree_size: 1,
    timestamp: 2,
    sha256_root_hash: 'tncuLXiPAo711IOxjaYTwLmwbSyyE8hEcRhaOXvFb3g=',
    tree_head_signature: 'BAMAAA==',
  };
  it.each<[string, unknown, CtResponseErrorCode | 'ok']>([
    ['well-formed', good, 'ok'],
    ['array', [good], 'CT_RESPONSE_SHAPE'],
    ['null', null, 'CT_RESPONSE_SHAPE'],
    ['missing tree_size', { ...good, tree_size: undefined }, 'CT_RESPONSE_SHAPE'],
    ['string tree_size', { ...good, tree_size: '1' }, 'CT_RESPONSE_SHAPE'],
    ['negative tree_size', { ...good, tree_size: -1 }, 'CT_RESPONSE_NUMBER'],
    ['fractional timestamp', { ...good, timestamp: 1.5 }, 'CT_RESPONSE_NUMBER'],
    ['timestamp beyond 2^53', { ...good, timestamp: 2 ** 64 }, 'CT_RESPONSE_NUMBER'],
    // issue 12: sizes a log could send to bend arithmetic downstream.
    ['tree_size 2^53 (rounded by JSON.parse)', { ...good, tree_size: 2 ** 53 }, 'CT_RESPONSE_NUMBER'],
    [
      'tree_size 1e400 (Infinity)',
      JSON.parse(JSON.stringify(good).replace('"tree_size":1', '"tree_size":1e400')),
      'CT_RESPONSE_NUMBER',
    ],
    ['tree_size -0.5', { ...good, tree_size: -0.5 }, 'CT_RESPONSE_NUMBER'],
    ['root of 31 bytes', { ...good, sha256_root_hash: b64(new Uint8Array(31)) }, 'CT_RESPONSE_HASH_LENGTH'],
    ['root not a string', { ...good, sha256_root_hash: 5 }, 'CT_RESPONSE_SHAPE'],
    ['unpadded signature', { ...good, tree_head_signature: 'BAMAAA' }, 'CT_RESPONSE_BASE64'],
    ['signature with trailing byte', { ...good, tree_head_signature: 'BAMAAAA=' }, 'CT_RESPONSE_SIGNATURE'],
  ])('%s → %s', (_n, value, code) => {
    expect(codeOf(() => parseSthJson(value))).toBe(code);
  });

  it('property: any JSON value fails only with CtResponseError', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.jsonValue(), fc.record({ tree_size: fc.jsonValue(), timestamp: fc.jsonValue() })),
        (v) => {
          try {
            parseSthJson(v);
          } catch (err) {
            expect(err).toBeInstanceOf(CtResponseError);
          }
        },
      ),
    );
  });
});

describe('proofs, entries and roots', () => {
  it('GetSTHConsistencyResp: the \\/ escape decodes to the exact proof', () => {
    const proof = parseConsistencyProofJson(json('ctgo/client/GetSTHConsistencyResp.json'));
    expect(proof.map(b64)).toEqual([
      'IqlrapPQKtmCY1jCr8+lpCtscRyjjZAA7nyadtFPRFQ=',
      'ytf6K2GnSRZ3Au+YkivCb7N1DygfKyZmE4aEs9OXl/8=',
    ]);
  });

  it('ProofByHashResp: leaf_index 3 and a 3-node audit path', () => {
    const p = parseProofByHashJson(json('ctgo/client/ProofByHashResp.json'));
    expect(p.leafIndex).toBe(3);
    expect(p.auditPath).toHaveLength(3);
  });

  it('GetEntryAndProofResp: leaf, opaque extra_data "Extra\\n" and a 3-node path', () => {
    const p = parseEntryAndProofJson(json('ctgo/client/GetEntryAndProofResp.json'));
    expect(Buffer.from(p.extraData).toString('latin1')).toBe('Extra\n');
    expect(p.auditPath.map(b64)).toEqual(
      parseProofByHashJson(json('ctgo/client/ProofByHashResp.json')).auditPath.map(b64),
    );
    expect(p.leafInput.length).toBeGreaterThan(100);
  });

  it('GetRootsResp: one DER certificate', () => {
    const roots = parseGetRootsJson(json('ctgo/client/GetRootsResp.json'));
    expect(roots).toHaveLength(1);
    expect(roots[0]?.[0]).toBe(0x30);
  });

  it('GetEntriesResp: two entries numbered from start', () => {
    const entries = parseGetEntriesJson(json('ctgo/client/GetEntriesResp.json'), 1000);
    expect(entries.map((e) => e.index)).toEqual([1000, 1001]);
    expect(entries.every((e) => e.leafInput.length > 0 && e.extraData.length > 0)).toBe(true);
  });

  it.each<[string, () => unknown, CtResponseErrorCode]>([
    [
      'consistency node of 31 bytes',
      () => parseConsistencyProofJson({ consistency: [b64(new Uint8Array(31))] }),
      'CT_RESPONSE_HASH_LENGTH',
    ],
    ['consistency not an array', () => parseConsistencyProofJson({ consistency: 'x' }), 'CT_RESPONSE_SHAPE'],
    ['entries missing', () => parseGetEntriesJson({}, 0), 'CT_RESPONSE_SHAPE'],
    ['entry not an object', () => parseGetEntriesJson({ entries: ['x'] }, 0), 'CT_RESPONSE_SHAPE'],
    [
      'extra_data missing',
      () => parseGetEntriesJson({ entries: [{ leaf_input: '' }] }, 0),
      'CT_RESPONSE_SHAPE',
    ],
    ['empty root certificate', () => parseGetRootsJson({ certificates: [''] }), 'CT_RESPONSE_SHAPE'],
    [
      'negative leaf_index',
      () => parseProofByHashJson({ leaf_index: -1, audit_path: [] }),
      'CT_RESPONSE_NUMBER',
    ],
  ])('%s → %s', (_n, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });
});

interface ErrorRow {
  go_test: string;
  endpoint: string;
  desc: string;
  rsp: string | null;
}

/** What this module (plus `ct/entry` for get-entries leaves) makes of a 200 body. */
function parseBody(row: ErrorRow): string {
  let value: unknown;
  try {
    value = JSON.parse(row.rsp ?? '');
  } catch {
    return 'INVALID_JSON'; // the HTTP client's JSON.parse rejects it before any parser here
  }
  return codeOf(() => {
    switch (row.endpoint) {
      case '/ct/v1/get-sth':
        return parseSthJson(value);
      case '/ct/v1/get-sth-consistency':
        return parseConsistencyProofJson(value);
      case '/ct/v1/get-proof-by-hash':
        return parseProofByHashJson(value);
      case '/ct/v1/get-roots':
        return parseGetRootsJson(value);
      case '/ct/v1/get-entry-and-proof':
        return parseEntryAndProofJson(value);
      case '/ct/v1/get-entries': {
        const entries = parseGetEntriesJson(value, 0);
        // TestGetEntriesErrors decodes leaves; TestGetRawEntriesErrors does not.
        if (row.go_test === 'TestGetEntriesErrors')
          for (const e of entries) parseRawEntry(e.index, e.leafInput, e.extraData);
        return entries;
      }
      default:
        throw new Error(`unknown endpoint ${row.endpoint}`);
    }
  });
}

describe('ctgo/client/error_responses.json: every 200 body is refused', () => {
  const rows = (json('ctgo/client/error_responses.json') as { cases: ErrorRow[] }).cases;
  const expected: Record<string, string> = {
    'TestGetSTHErrors/root not base64': 'CT_RESPONSE_BASE64',
    // Its root, "Z29vZA==", is valid base64 of 4 bytes, and the root is checked before the signature.
    'TestGetSTHErrors/sig not base64': 'CT_RESPONSE_HASH_LENGTH',
    'TestGetSTHErrors/invalid hash len': 'CT_RESPONSE_HASH_LENGTH',
    'TestGetSTHErrors/bad tls data': 'CT_RESPONSE_SIGNATURE',
    'TestGetSTHErrors/trailing junk': 'CT_RESPONSE_SIGNATURE',
    // "bbbb" decodes to 6d b6 db: MerkleTreeLeaf version 0x6d.
    'TestGetEntriesErrors/bad json': 'ENTRY_UNSUPPORTED_LEAF',
    'TestGetEntriesErrors/extra_data not base64': 'CT_RESPONSE_BASE64',
    'TestGetRawEntriesErrors/extra_data not base64': 'CT_RESPONSE_BASE64',
    'TestGetSTHConsistencyErrors/not base64': 'CT_RESPONSE_BASE64',
    'TestGetProofByHashErrors/path not base64': 'CT_RESPONSE_BASE64',
    'TestGetAcceptedRootsErrors/not base64': 'CT_RESPONSE_BASE64',
  };

  it('has the 41 rows the README lists', () => expect(rows).toHaveLength(41));

  // rsp null: the arguments themselves are invalid; that is the HTTP client's check, not a parse.
  it.each(rows.filter((r) => r.rsp !== null).map((r) => [`${r.go_test}/${r.desc}`, r] as const))(
    '%s',
    (name, row) => {
      const got = parseBody(row);
      expect(got).not.toBe('ok');
      if (expected[name] !== undefined) expect(got).toBe(expected[name]);
    },
  );

  it('"trailing junk" fails on the bytes after the DigitallySigned, not on base64', () => {
    const row = rows.find((r) => r.desc === 'trailing junk');
    try {
      parseSthJson(JSON.parse(row?.rsp ?? ''));
      expect.unreachable();
    } catch (err) {
      const cause = (err as Error).cause as Error;
      expect((cause as SignatureError).code).toBe('SIG_MALFORMED');
      expect((cause.cause as { code: string }).code).toBe('TLS_TRAILING_DATA');
    }
  });
});
