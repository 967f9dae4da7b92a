/**
 * The pure revocation decisions over real bytes: OCSP responses made by `openssl ocsp` (to requests
 * built by `buildOcspRequest`, so openssl also proves the request is well-formed) and CRLs made by
 * `openssl ca -gencrl`, plus hostile ones (garbage, truncation, a flipped signature, a response
 * about another certificate, an unauthorised or rogue signer, a stale or replayed response).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSafeText } from '../../sanitize.js';
import { buildOcspRequest, parseRevocationCert } from './asn1.js';
import type { RevocationCert } from './asn1.js';
import { MAX_AGE_WITHOUT_NEXT_UPDATE_MS, evaluateCrl, evaluateOcsp, revocationFindings } from './decide.js';
import type { RevocationFacts, Verdict } from './decide.js';
import { OpensslPki } from './openssl.fixture.js';

let pki: OpensslPki;
let ca: RevocationCert;
let leaf: RevocationCert;
let revoked: RevocationCert;
const HOUR = 3_600_000;
const NONCE = new Uint8Array(32).fill(7);

beforeAll(() => {
  pki = new OpensslPki();
  ca = parseRevocationCert(pki.der('ca/ca'));
  leaf = parseRevocationCert(pki.der('ca/leaf'));
  revoked = parseRevocationCert(pki.der('ca/revoked'));
}, 60_000);
afterAll(() => pki.close());

const now = (): Date => new Date();
const flipLast = (b: Uint8Array): Uint8Array => {
  const c = new Uint8Array(b);
  c[c.length - 1] = (c[c.length - 1] ?? 0) ^ 0x01;
  return c;
};

describe('parseRevocationCert', () => {
  it('reads the AIA OCSP URL, RFC 7633 must-staple and id-kp-OCSPSigning from openssl certificates', () => {
    expect(leaf.ocspUrls).toEqual(['http://127.0.0.1:1/']);
    expect(leaf.mustStaple).toBe(true);
    expect(revoked.mustStaple).toBe(false);
    expect(parseRevocationCert(pki.der('ca/responder')).ocspSigning).toBe(true);
    expect(parseRevocationCert(pki.der('ca/noeku')).ocspSigning).toBe(false);
    expect(ca.selfIssued).toBe(true);
  });

  it.each([
    ['empty', new Uint8Array()],
    ['garbage', new Uint8Array([1, 2, 3, 4, 5])],
    ['a SEQUENCE of nothing', new Uint8Array([0x30, 0x00])],
  ])('refuses %s with REVOCATION_MALFORMED', (_n, der) => {
    expect(() => parseRevocationCert(der)).toThrow(expect.objectContaining({ code: 'REVOCATION_MALFORMED' }));
  });
});

describe('evaluateOcsp', () => {
  type Row = [
    string,
    () => { der: Uint8Array; cert: RevocationCert; at?: Date; nonce?: Uint8Array | null },
    Verdict['kind'],
    RegExp?,
  ];
  const rows: Row[] = [
    [
      'good, signed by the CA itself',
      () => ({ der: pki.respond(buildOcspRequest(leaf, ca, null)), cert: leaf }),
      'good',
    ],
    [
      'revoked, signed by the CA itself',
      () => ({ der: pki.respond(buildOcspRequest(revoked, ca, null)), cert: revoked }),
      'revoked',
    ],
    [
      'good, signed by a delegated responder of the CA (RFC 6960 §4.2.2.2)',
      () => ({
        der: pki.respond(buildOcspRequest(leaf, ca, null), {
          cert: 'ca/responder.pem',
          key: 'ca/responder.key',
        }),
        cert: leaf,
      }),
      'good',
    ],
    [
      'signed by a delegated responder that has the CA’s own name',
      () => ({
        der: pki.respond(buildOcspRequest(leaf, ca, null), {
          cert: 'ca/samename.pem',
          key: 'ca/samename.key',
        }),
        cert: leaf,
      }),
      'good',
    ],
    [
      'ResponderID byKey (-resp_key_id)',
      () => ({
        der: pki.respond(buildOcspRequest(leaf, ca, null), undefined, ['-ndays', '1', '-resp_key_id']),
        cert: leaf,
      }),
      'good',
    ],
    [
      'our nonce echoed (RFC 8954)',
      () => ({ der: pki.respond(buildOcspRequest(leaf, ca, NONCE)), cert: leaf, nonce: NONCE }),
      'good',
    ],
    [
      'a nonce that is not ours (replay)',
      () => ({
        der: pki.respond(buildOcspRequest(leaf, ca, NONCE)),
        cert: leaf,
        nonce: new Uint8Array(32).fill(9),
      }),
      'invalid',
      /nonce/,
    ],
    [
      'a response about another certificate (wrong CertID)',
      () => ({ der: pki.respond(buildOcspRequest(revoked, ca, null)), cert: leaf }),
      'invalid',
      /CertID/,
    ],
    [
      'signed by a CA-issued certificate without id-kp-OCSPSigning',
      () => ({
        der: pki.respond(buildOcspRequest(leaf, ca, null), { cert: 'ca/noeku.pem', key: 'ca/noeku.key' }),
        cert: leaf,
      }),
      'invalid',
      /OCSPSigning/,
    ],
    [
      'signed by a responder of another CA (rogue)',
      () => ({
        der: pki.respond(buildOcspRequest(leaf, ca, null), {
          cert: 'rogue/rogueresponder.pem',
          key: 'rogue/rogueresponder.key',
        }),
        cert: leaf,
      }),
      'invalid',
      /not issued by/,
    ],
    [
      'signed by the rogue CA without including its certificate',
      () => ({
        der: pki.respond(buildOcspRequest(leaf, ca, null), { cert: 'rogue/ca.pem', key: 'rogue/ca.key' }, [
          '-ndays',
          '1',
          '-resp_no_certs',
        ]),
        cert: leaf,
      }),
      'invalid',
      /neither the issuer/,
    ],
    [
      'a flipped signature bit',
      () => ({
        der: flipLast(
          pki.respond(buildOcspRequest(leaf, ca, null), undefined, ['-ndays', '1', '-resp_no_certs']),
        ),
        cert: leaf,
      }),
      'invalid',
      /signature/,
    ],
    [
      'nextUpdate has passed (stale)',
      () => ({
        der: pki.respond(buildOcspRequest(leaf, ca, null)),
        cert: leaf,
        at: new Date(Date.now() + 25 * HOUR),
      }),
      'stale',
      /nextUpdate/,
    ],
    [
      'thisUpdate in the future',
      () => ({
        der: pki.respond(buildOcspRequest(leaf, ca, null)),
        cert: leaf,
        at: new Date(Date.now() - HOUR),
      }),
      'stale',
      /future/,
    ],
    [
      'no nextUpdate and thisUpdate older than the maximum age',
      () => ({
        der: pki.respond(buildOcspRequest(leaf, ca, null), undefined, []),
        cert: leaf,
        at: new Date(Date.now() + MAX_AGE_WITHOUT_NEXT_UPDATE_MS + HOUR),
      }),
      'stale',
      /no nextUpdate/,
    ],
    [
      'no nextUpdate, fresh',
      () => ({ der: pki.respond(buildOcspRequest(leaf, ca, null), undefined, []), cert: leaf }),
      'good',
    ],
    [
      'garbage bytes',
      () => ({ der: new Uint8Array([0xde, 0xad, 0xbe, 0xef]), cert: leaf }),
      'invalid',
      /not DER/,
    ],
    ['empty body', () => ({ der: new Uint8Array(), cert: leaf }), 'invalid'],
    [
      'truncated response',
      () => ({ der: pki.respond(buildOcspRequest(leaf, ca, null)).subarray(0, 60), cert: leaf }),
      'invalid',
    ],
    [
      'trailing bytes after the response',
      () => ({ der: new Uint8Array([...pki.respond(buildOcspRequest(leaf, ca, null)), 0]), cert: leaf }),
      'invalid',
      /after it/,
    ],
    // RFC 6960 §4.2.1: OCSPResponse { responseStatus tryLater(3) } has no signed data: no answer.
    [
      'tryLater',
      () => ({ der: new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x03]), cert: leaf }),
      'error',
      /tryLater/,
    ],
    [
      'unauthorized',
      () => ({ der: new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x06]), cert: leaf }),
      'error',
      /unauthorized/,
    ],
  ];

  it.each(rows)('%s → %s', (_name, make, kind, detail) => {
    const { der, cert, at, nonce } = make();
    const v = evaluateOcsp(der, { cert, issuer: ca, now: at ?? now(), nonce: nonce ?? null });
    expect(v.kind, JSON.stringify(v)).toBe(kind);
    if (detail) expect('detail' in v ? v.detail : '').toMatch(detail);
  });

  it('a revoked answer carries the revocation time and the reason', () => {
    const v = evaluateOcsp(pki.respond(buildOcspRequest(revoked, ca, null)), {
      cert: revoked,
      issuer: ca,
      now: now(),
    });
    expect(v).toMatchObject({ kind: 'revoked', reason: 'keyCompromise' });
  });
});

describe('evaluateCrl', () => {
  it.each<[string, () => { der: Uint8Array; cert: RevocationCert; at?: Date }, Verdict['kind'], RegExp?]>([
    ['the leaf is not listed', () => ({ der: pki.crl(), cert: leaf }), 'good'],
    ['the revoked leaf is listed', () => ({ der: pki.crl(), cert: revoked }), 'revoked'],
    ['a CRL of another CA', () => ({ der: pki.crl('rogue'), cert: leaf }), 'invalid', /not issued by/],
    ['a flipped signature bit', () => ({ der: flipLast(pki.crl()), cert: leaf }), 'invalid', /signature/],
    [
      'nextUpdate has passed',
      () => ({ der: pki.crl('ca', 1), cert: leaf, at: new Date(Date.now() + 2 * HOUR) }),
      'stale',
    ],
    ['garbage', () => ({ der: new Uint8Array([0x30, 0x82, 0xff]), cert: leaf }), 'invalid'],
  ])('%s → %s', (_n, make, kind, detail) => {
    const { der, cert, at } = make();
    const v = evaluateCrl(der, { cert, issuer: ca, now: at ?? now() });
    expect(v.kind, JSON.stringify(v)).toBe(kind);
    if (detail) expect('detail' in v ? v.detail : '').toMatch(detail);
  });

  it('a revoked entry carries the reason code of the CRL entry', () => {
    expect(evaluateCrl(pki.crl(), { cert: revoked, issuer: ca, now: now() })).toMatchObject({
      kind: 'revoked',
      reason: 'keyCompromise',
    });
  });
});

describe('revocationFindings', () => {
  const t = new Date('2026-01-01T00:00:00Z');
  const good: Verdict = { kind: 'good', thisUpdate: t, nextUpdate: null };
  const rev: Verdict = {
    kind: 'revoked',
    revokedAt: t,
    reason: 'keyCompromise',
    thisUpdate: t,
    nextUpdate: null,
  };
  const down: Verdict = { kind: 'error', detail: 'connect ECONNREFUSED' };
  const base: RevocationFacts = {
    label: 'CN=x (serial 01)',
    role: 'leaf',
    mustStaple: false,
    staple: null,
    ocsp: [],
    crl: [],
    notes: [],
  };
  const U = 'http://ocsp.test/';

  it.each<[string, Partial<RevocationFacts>, 'ok' | 'warning' | 'critical', [string, string][]]>([
    ['OCSP good', { ocsp: [{ url: U, verdict: good }] }, 'warning', [['ocsp-good', 'info']]],
    ['OCSP revoked', { ocsp: [{ url: U, verdict: rev }] }, 'warning', [['revoked', 'critical']]],
    [
      'valid staple, good',
      { staple: good },
      'warning',
      [
        ['ocsp-stapled', 'info'],
        ['ocsp-good', 'info'],
      ],
    ],
    [
      'valid staple, revoked',
      { staple: rev },
      'warning',
      [
        ['ocsp-stapled', 'info'],
        ['revoked', 'critical'],
      ],
    ],
    [
      'must-staple without a staple, OCSP good',
      { mustStaple: true, ocsp: [{ url: U, verdict: good }] },
      'warning',
      [
        ['must-staple-missing', 'critical'],
        ['ocsp-good', 'info'],
      ],
    ],
    [
      'must-staple with a valid staple',
      { mustStaple: true, staple: good },
      'warning',
      [
        ['ocsp-stapled', 'info'],
        ['ocsp-good', 'info'],
      ],
    ],
    [
      'an invalid staple is critical, the responder still asked',
      { staple: { kind: 'invalid', detail: 'bad signature' }, ocsp: [{ url: U, verdict: good }] },
      'warning',
      [
        ['ocsp-invalid', 'critical'],
        ['ocsp-good', 'info'],
      ],
    ],
    [
      'an unsigned tryLater staple is critical',
      { staple: { kind: 'error', detail: 'tryLater' }, ocsp: [{ url: U, verdict: good }] },
      'warning',
      [
        ['ocsp-invalid', 'critical'],
        ['ocsp-good', 'info'],
      ],
    ],
    [
      'a stale staple: warning',
      { staple: { kind: 'stale', detail: 'old' }, ocsp: [{ url: U, verdict: good }] },
      'warning',
      [
        ['ocsp-stale', 'warning'],
        ['ocsp-good', 'info'],
      ],
    ],
    [
      'a stale staple on a must-staple certificate: critical',
      { mustStaple: true, staple: { kind: 'stale', detail: 'old' }, ocsp: [{ url: U, verdict: good }] },
      'warning',
      [
        ['ocsp-stale', 'critical'],
        ['ocsp-good', 'info'],
      ],
    ],
    [
      'OCSP down, CRL good',
      { ocsp: [{ url: U, verdict: down }], crl: [{ url: 'http://crl.test/c', verdict: good }] },
      'warning',
      [['crl-good', 'info']],
    ],
    [
      'OCSP down, CRL revoked',
      { ocsp: [{ url: U, verdict: down }], crl: [{ url: 'http://crl.test/c', verdict: rev }] },
      'warning',
      [['revoked', 'critical']],
    ],
    [
      'fetched OCSP invalid, no CRL',
      { ocsp: [{ url: U, verdict: { kind: 'invalid', detail: 'x' } }] },
      'warning',
      [
        ['ocsp-invalid', 'warning'],
        ['revocation-unknown', 'warning'],
      ],
    ],
    [
      'everything down: the configured severity',
      { ocsp: [{ url: U, verdict: down }] },
      'critical',
      [['revocation-unknown', 'critical']],
    ],
    [
      'everything down, unreachable ok: INFO',
      { ocsp: [{ url: U, verdict: down }] },
      'ok',
      [['revocation-unknown', 'info']],
    ],
    [
      'nothing to ask (no OCSP URL, no CRL DP): INFO',
      { notes: ['no OCSP'], noSources: true },
      'critical',
      [['revocation-unknown', 'info']],
    ],
    [
      'CRL stale',
      { crl: [{ url: 'http://crl.test/c', verdict: { kind: 'stale', detail: 'old' } }] },
      'warning',
      [
        ['crl-stale', 'warning'],
        ['revocation-unknown', 'warning'],
      ],
    ],
  ])('%s', (_n, facts, unreachable, expected) => {
    const out = revocationFindings({ ...base, ...facts }, '192.0.2.1', unreachable);
    expect(out.map((f) => [f.id, f.severity])).toEqual(expected);
    expect(out.every((f) => f.address === '192.0.2.1')).toBe(true);
  });

  it('a revoked finding names the certificate, the time and the reason', () => {
    const [f] = revocationFindings({ ...base, ocsp: [{ url: U, verdict: rev }] }, 'a', 'warning');
    expect(f?.message).toBe(
      'certificate CN=x (serial 01) is REVOKED since 2026-01-01T00:00:00Z, reason keyCompromise (OCSP http://ocsp.test/)',
    );
  });

  it('a URL from a certificate is sanitised before it reaches the output', () => {
    const [f] = revocationFindings(
      { ...base, ocsp: [{ url: 'http://x/\u001b[31mred\u0007', verdict: good }] },
      'a',
      'warning',
    );
    expect(isSafeText(f?.message ?? '')).toBe(true);
    expect(f?.message).not.toContain('\u001b');
  });
});
