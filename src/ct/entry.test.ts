import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EntryError,
  leafIndexExtension,
  parseCtExtensions,
  parseExtraData,
  parseMerkleTreeLeaf,
  parseRawEntry,
} from './entry.js';
import type { EntryErrorCode } from './errors.js';
import { parseEntryAndProofJson, parseGetEntriesJson } from './sth.js';

const CT = new URL('../../test/vectors/ct/', import.meta.url);
const json = (p: string): unknown => JSON.parse(readFileSync(new URL(p, CT), 'utf8'));
const hex = (u: Uint8Array): string => Buffer.from(u).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s/g, ''), 'hex'));

function codeOf(fn: () => unknown): EntryErrorCode | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof EntryError) return err.code;
    throw err;
  }
}

const getEntries = parseGetEntriesJson(json('ctgo/client/GetEntriesResp.json'), 0);
const fourEntries = parseGetEntriesJson(json('ctgo/scanner/FourEntries.json'), 0);

describe('ctgo/client/GetEntriesResp.json', () => {
  const [pre, x509] = getEntries.map((e) => parseRawEntry(e.index, e.leafInput, e.extraData));

  it('entry 0 is a precert_entry with its PrecertChainEntry fully consumed', () => {
    expect(pre?.leaf.entryType).toBe('precert');
    expect(pre?.leaf.timestamp).toBe(1422867427528);
    expect(pre?.leaf.extensions).toHaveLength(0);
    // RawLogEntry for RFC 6962 precerts: the pre_certificate apart, the chain holds the 3 issuers.
    expect(pre?.chain).toHaveLength(3);
    const extra = parseExtraData('precert', getEntries[0]?.extraData ?? new Uint8Array());
    expect(extra.chain).toHaveLength(3);
    expect(hex(extra.preCertificate ?? new Uint8Array())).toBe(hex(pre?.preCertificate ?? new Uint8Array(1)));
  });

  it('entry 0: issuer_key_hash = SHA-256(SPKI(chain[0]))', () => {
    const issuer = new X509Certificate(pre?.chain[0] ?? new Uint8Array());
    const spki = issuer.publicKey.export({ type: 'spki', format: 'der' });
    expect(hex(pre?.leaf.issuerKeyHash ?? new Uint8Array())).toBe(
      createHash('sha256').update(spki).digest('hex'),
    );
    expect(pre?.leaf.tbsCertificate?.[0]).toBe(0x30);
  });

  it('entry 1 is an x509_entry with a 2-certificate chain', () => {
    expect(x509?.leaf.entryType).toBe('x509');
    expect(x509?.leaf.timestamp).toBe(1415843953342);
    expect(x509?.chain).toHaveLength(2);
    expect(x509?.leaf.certificate?.[0]).toBe(0x30);
  });

  it('parses without copying: fields are views into leaf_input', () => {
    expect(pre?.leaf.tbsCertificate?.buffer).toBe(getEntries[0]?.leafInput.buffer);
    expect(x509?.leaf.certificate?.buffer).toBe(getEntries[1]?.leafInput.buffer);
  });
});

describe('ctgo/scanner/FourEntries.json', () => {
  it('four x509 entries with the documented timestamps', () => {
    const parsed = fourEntries.map((e) => parseRawEntry(e.index, e.leafInput, e.extraData));
    expect(parsed.map((p) => p.leaf.entryType)).toEqual(['x509', 'x509', 'x509', 'x509']);
    expect(parsed.map((p) => p.leaf.timestamp)).toEqual([
      1364258252899, 1364288407155, 1364288407155, 1364288407156,
    ]);
    expect(parsed.map((p) => p.index)).toEqual([0, 1, 2, 3]);
  });
});

describe('ctgo/client/GetEntryAndProofResp.json', () => {
  const r = parseEntryAndProofJson(json('ctgo/client/GetEntryAndProofResp.json'));

  it('its leaf_input is an x509_entry (timestamp 1519407928245)', () => {
    const leaf = parseMerkleTreeLeaf(r.leafInput);
    expect([leaf.entryType, leaf.timestamp]).toEqual(['x509', 1519407928245]);
  });

  it('its extra_data "Extra\\n" is not a chain', () => {
    expect(codeOf(() => parseExtraData('x509', r.extraData))).toBe('ENTRY_MALFORMED_EXTRA_DATA');
    expect(codeOf(() => parseRawEntry(0, r.leafInput, r.extraData))).toBe('ENTRY_MALFORMED_EXTRA_DATA');
  });
});

// A small hand-built x509 leaf: v1, timestamped_entry, ts 1, x509_entry, 2-byte "cert", no extensions.
const LEAF = '0000 0000000000000001 0000 000002 3000 0000';
const PRECERT = '0000 0000000000000001 0001' + ' 11'.repeat(32) + ' 000002 3000 0003 000000';

describe('MerkleTreeLeaf strictness', () => {
  it.each<[string, string, EntryErrorCode | 'ok']>([
    ['minimal x509 leaf', LEAF, 'ok'],
    ['precert leaf with an extension list', PRECERT, 'ok'],
    ['version 1', '0100 0000000000000001 0000 000002 3000 0000', 'ENTRY_UNSUPPORTED_LEAF'],
    ['leaf_type 1', '0001 0000000000000001 0000 000002 3000 0000', 'ENTRY_UNSUPPORTED_LEAF'],
    ['entry_type 2', '0000 0000000000000001 0002 000002 3000 0000', 'ENTRY_UNSUPPORTED_LEAF'],
    ['empty certificate (ASN.1Cert<1..>)', '0000 0000000000000001 0000 000000 0000', 'ENTRY_MALFORMED_LEAF'],
    ['certificate longer than input', '0000 0000000000000001 0000 000009 3000 0000', 'ENTRY_MALFORMED_LEAF'],
    ['missing extensions', '0000 0000000000000001 0000 000002 3000', 'ENTRY_MALFORMED_LEAF'],
    ['trailing byte', LEAF + '00', 'ENTRY_MALFORMED_LEAF'],
    ['timestamp beyond 2^53', '0000 ffffffffffffffff 0000 000002 3000 0000', 'ENTRY_MALFORMED_LEAF'],
    ['precert with short issuer_key_hash', '0000 0000000000000001 0001 1111', 'ENTRY_MALFORMED_LEAF'],
    ['empty', '', 'ENTRY_MALFORMED_LEAF'],
  ])('%s → %s', (_n, input, code) => {
    expect(codeOf(() => parseMerkleTreeLeaf(unhex(input)))).toBe(code);
  });

  it('reports the entry index it was given', () => {
    try {
      parseMerkleTreeLeaf(unhex('00'), 42);
      expect.unreachable();
    } catch (err) {
      expect((err as EntryError).index).toBe(42);
      expect((err as EntryError).message).toMatch(/^entry 42: /);
    }
  });
});

describe('extra_data', () => {
  it.each<[string, 'x509' | 'precert', string, EntryErrorCode | number]>([
    ['empty x509 chain', 'x509', '000000', 0],
    ['x509 chain of two', 'x509', '00000a 000001aa 000003bbbbbb', 2],
    ['x509: nothing at all', 'x509', '', 'ENTRY_MALFORMED_EXTRA_DATA'],
    ['x509: element overruns the chain', 'x509', '000004 000009aa', 'ENTRY_MALFORMED_EXTRA_DATA'],
    ['x509: empty certificate in chain', 'x509', '000003 000000', 'ENTRY_MALFORMED_EXTRA_DATA'],
    ['x509: trailing byte', 'x509', '000000 00', 'ENTRY_MALFORMED_EXTRA_DATA'],
    ['precert with empty chain', 'precert', '000001aa 000000', 0],
    ['precert without chain', 'precert', '000001aa', 'ENTRY_MALFORMED_EXTRA_DATA'],
  ])('%s', (_n, type, input, want) => {
    let got: EntryErrorCode | number;
    try {
      got = parseExtraData(type, unhex(input)).chain.length;
    } catch (err) {
      if (!(err instanceof EntryError)) throw err;
      got = err.code;
    }
    expect(got).toBe(want);
  });
});

describe('CtExtensions (static-ct-api)', () => {
  it.each<[string, string, number | undefined | EntryErrorCode]>([
    ['empty (every RFC 6962 log)', '', undefined],
    ['leaf_index 0', '00 0005 0000000000', 0],
    ['leaf_index 2^32 + 1', '00 0005 0100000001', 2 ** 32 + 1],
    ['another extension only', '07 0001 ff', undefined],
    ['another extension, then leaf_index', '07 0000 00 0005 00000003ff', 1023],
    ['leaf_index of 4 bytes', '00 0004 00000000', 'ENTRY_MALFORMED_EXTENSIONS'],
    ['duplicate leaf_index', '00 0005 0000000000 00 0005 0000000001', 'ENTRY_MALFORMED_EXTENSIONS'],
    ['truncated', '00 0005 00', 'ENTRY_MALFORMED_EXTENSIONS'],
  ])('%s', (_n, input, want) => {
    let got: number | undefined | EntryErrorCode;
    try {
      got = leafIndexExtension(unhex(input));
    } catch (err) {
      if (!(err instanceof EntryError)) throw err;
      got = err.code;
    }
    expect(got).toBe(want);
  });

  it('lists extensions in order with their data', () => {
    expect(
      parseCtExtensions(unhex('07 0001 ff 00 0005 0000000001')).map((e) => [e.type, hex(e.data)]),
    ).toEqual([
      [7, 'ff'],
      [0, '0000000001'],
    ]);
  });
});

describe('property: malformed entries end in EntryError, never another exception', () => {
  const real = [...getEntries, ...fourEntries];
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }),
    }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 4 }) }),
    fc.record({
      kind: fc.constant('set' as const),
      at: fc.nat(),
      value: fc.constantFrom(0, 1, 2, 0x7f, 0x80, 0xff),
    }),
  );
  type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

  function apply(input: Uint8Array, m: Mutation): Uint8Array {
    const at = input.length === 0 ? 0 : m.at % input.length;
    switch (m.kind) {
      case 'flip':
        return input.map((b, i) => (i === at ? b ^ (1 << m.bit) : b));
      case 'truncate':
        return input.slice(0, at);
      case 'insert':
        return new Uint8Array([...input.subarray(0, at), ...m.bytes, ...input.subarray(at)]);
      case 'delete':
        return new Uint8Array([...input.subarray(0, at), ...input.subarray(at + m.n)]);
      case 'set':
        return input.map((b, i) => (i === at ? m.value : b));
    }
  }

  // Mutations near the start hit the headers and length prefixes, where parsers break.
  const headerBiased = (m: Mutation): Mutation => ({ ...m, at: m.at % 64 });

  it.each(real.map((e, i) => [i, e] as const))('real entry %i', (_i, e) => {
    fc.assert(
      fc.property(
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        fc.boolean(),
        (ms, biased, onLeaf) => {
          let leaf = e.leafInput;
          let extra = e.extraData;
          for (const m of ms) {
            const mm = biased ? headerBiased(m) : m;
            if (onLeaf) leaf = apply(leaf, mm);
            else extra = apply(extra, mm);
          }
          try {
            const parsed = parseRawEntry(e.index, leaf, extra);
            expect(parsed.leafInput).toBe(leaf);
          } catch (err) {
            expect(err).toBeInstanceOf(EntryError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), (leaf, extra) => {
        try {
          parseRawEntry(0, leaf, extra);
        } catch (err) {
          expect(err).toBeInstanceOf(EntryError);
        }
        try {
          leafIndexExtension(extra);
        } catch (err) {
          expect(err).toBeInstanceOf(EntryError);
        }
      }),
    );
  });
});
