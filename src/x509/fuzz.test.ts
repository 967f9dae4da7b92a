/**
 * Property tests for the contract the CT hot path relies on: on any input every public function
 * returns or throws an `X509Error` with code `X509_MALFORMED` (`X509_BAD_PEM` for PEM) — never
 * another error, never `X509_INTERNAL`, never a hang — and is deterministic.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as crafted from './crafted.fixture.js';
import { navigliEntries, pemVector, rfc6962Entries } from './ct-vectors.fixture.js';
import {
  X509Error,
  certificateFacts,
  certificateParts,
  embeddedSctList,
  parsePemCertificates,
  subjectPublicKeyInfo,
  summarizeCertificate,
  summarizeTbs,
  tbsFacts,
  tbsWithoutCtExtensions,
} from './index.js';
import type { CertSummary } from './index.js';

/** Runs `f` and reports the outcome; fails the property on anything but a typed malformed error. */
function outcome<T>(
  f: () => T,
  code = 'X509_MALFORMED',
): { ok: true; value: T } | { ok: false; message: string } {
  try {
    return { ok: true, value: f() };
  } catch (err) {
    if (!(err instanceof X509Error)) throw new Error(`untyped error: ${String(err)}`, { cause: err });
    if (err.code !== code) throw new Error(`unexpected code ${err.code}: ${err.message}`, { cause: err });
    return { ok: false, message: err.message };
  }
}

/** Every entry point on one input; returns a comparable record of the outcomes. */
function exerciseAll(bytes: Uint8Array): unknown[] {
  const results: unknown[] = [
    outcome(() => summarizeCertificate(bytes)),
    outcome(() => summarizeTbs(bytes)),
    outcome(() => certificateParts(bytes).tbs.length),
    outcome(() => subjectPublicKeyInfo(bytes).length),
    outcome(() => subjectPublicKeyInfo(bytes, true).length),
    outcome(() => embeddedSctList(bytes)?.length ?? null),
    outcome(() => Buffer.from(tbsWithoutCtExtensions(bytes)).toString('hex')),
  ];
  // The digest-free entry points (the CT monitor's prefilter) decide exactly as the summaries do,
  // with the same error message, and return the same facts without the two digests.
  const withoutDigests = (o: ReturnType<typeof outcome<CertSummary>>): unknown => {
    if (!o.ok) return o;
    const facts: Partial<CertSummary> = { ...o.value };
    delete facts.spkiSha256;
    delete facts.tbsSha256;
    return { ok: true, value: facts };
  };
  expect(outcome(() => certificateFacts(bytes))).toEqual(
    withoutDigests(results[0] as ReturnType<typeof outcome<CertSummary>>),
  );
  expect(outcome(() => tbsFacts(bytes))).toEqual(
    withoutDigests(results[1] as ReturnType<typeof outcome<CertSummary>>),
  );
  // A TBS that summarises must rewrite to one that summarises the same, minus the CT extensions.
  const summary = results[1] as ReturnType<typeof outcome<ReturnType<typeof summarizeTbs>>>;
  if (summary.ok) {
    const again = summarizeTbs(tbsWithoutCtExtensions(bytes));
    expect(again).toEqual({ ...summary.value, isPrecertificate: false, hasEmbeddedScts: false });
  }
  return results;
}

const seeds: Uint8Array[] = [
  ...navigliEntries()
    .slice(0, 8)
    .flatMap((e) => [e.preCertificate, e.tbs]),
  ...Object.values(crafted).map((pem) => parsePemCertificates(pem)[0] as Uint8Array),
  pemVector('ctgo/sct/TestEmbeddedCertPEM.pem')[0] as Uint8Array,
  pemVector('ctgo/sct/TestPreCertPEM.pem')[0] as Uint8Array,
  pemVector('ctgo/sct/CACertPEM.pem')[0] as Uint8Array,
  ...rfc6962Entries('ctgo/client/GetEntriesResp.json').map((e) => e.leafCertOrTbs),
];

type Mutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'length'; at: number; value: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  // Length octets are where DER parsers break: aim at bytes that follow a SEQUENCE/SET/[n] tag.
  fc.record({
    kind: fc.constant('length' as const),
    at: fc.nat(),
    value: fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0xff),
  }),
);

function mutate(input: Uint8Array, mutations: Mutation[]): Uint8Array {
  let b = Uint8Array.from(input);
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    if (m.kind === 'flip') b[at] = m.value;
    else if (m.kind === 'truncate') b = b.slice(0, at);
    else if (m.kind === 'delete') b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.count)]);
    else if (m.kind === 'insert') b = Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)]);
    else {
      // Find the next constructed tag at or after `at` and overwrite its first length octet.
      let p = at;
      while (p < b.length - 1 && ((b[p] as number) & 0x20) === 0) p++;
      if (p < b.length - 1) b[p + 1] = m.value;
    }
  }
  return b;
}

describe('never throws anything but X509Error (property tests)', () => {
  it('arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        exerciseAll(bytes);
      }),
      { numRuns: 3000 },
    );
  });

  it('DER-shaped noise: a SEQUENCE header in front of arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (body) => {
        const n = body.length;
        const header = n < 0x80 ? [0x30, n] : n < 0x100 ? [0x30, 0x81, n] : [0x30, 0x82, n >> 8, n & 0xff];
        exerciseAll(Uint8Array.from([...header, ...body]));
      }),
      { numRuns: 3000 },
    );
  });

  it('random mutations and truncations of real certificates and TBSs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (i, mutations) => {
          const input = mutate(seeds[i] as Uint8Array, mutations);
          const first = exerciseAll(input);
          expect(exerciseAll(input)).toEqual(first); // deterministic (and the issuer cache is transparent)
        },
      ),
      { numRuns: 4000 },
    );
  });

  it('every truncation of one certificate is malformed, with an offset inside the input', () => {
    const der = seeds[0] as Uint8Array;
    for (let len = 0; len < der.length; len++) {
      const r = outcome(() => summarizeCertificate(der.subarray(0, len)));
      expect(r.ok).toBe(false);
    }
    let caught: unknown;
    try {
      summarizeCertificate(der.subarray(0, 100));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(X509Error);
    expect((caught as X509Error).offset).toBeGreaterThanOrEqual(0);
    expect((caught as X509Error).offset).toBeLessThanOrEqual(100);
    expect((caught as X509Error).message).toMatch(/at offset \d+$/);
  });

  it('trailing bytes after a Certificate are malformed', () => {
    const der = seeds[0] as Uint8Array;
    const r = outcome(() => summarizeCertificate(Uint8Array.from([...der, 0])));
    expect(r).toMatchObject({ ok: false, message: expect.stringContaining('extra data after Certificate') });
  });

  it('PEM: arbitrary text around and inside blocks', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc
        .tuple(fc.string({ maxLength: 40 }), fc.base64String({ maxLength: 80 }), fc.string({ maxLength: 40 }))
        .map(([a, b, c]) => `${a}-----BEGIN CERTIFICATE-----\n${b}\n-----END CERTIFICATE-----${c}`),
    );
    fc.assert(
      fc.property(text, (t) => {
        const r = outcome(() => parsePemCertificates(t), 'X509_BAD_PEM');
        if (r.ok) for (const der of r.value) exerciseAll(der);
      }),
      { numRuns: 2000 },
    );
  });
});
