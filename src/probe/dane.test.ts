import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { TestCa } from '../../test/fixtures/ct-log/index.js';
import { isSafeText } from '../sanitize.js';
import type { IssuedCertificate } from '../../test/fixtures/ct-log/index.js';
import {
  daneChainFindings,
  daneLookupFindings,
  describeTlsa,
  matchTlsa,
  preferredRecords,
  relaxForDane,
  tlsaUnusableReason,
} from './dane.js';
import type { PresentedChain, TlsaLookup, TlsaRecord } from './dane.js';
import type { Finding } from './types.js';

const NAME = 'dane.example.test';
const DAY = 86_400_000;
let ca: TestCa;
let otherCa: TestCa;
let leaf: IssuedCertificate;
let presented: PresentedChain;

beforeAll(async () => {
  ca = await TestCa.create({ organization: 'DANE Test CA' });
  otherCa = await TestCa.create({ organization: 'Other CA' });
  leaf = ca.issue({ dnsNames: [NAME] });
  presented = { chain: [leaf.der, ca.certificate], pkixValid: true, name: NAME };
});

const digest = (alg: 'sha256' | 'sha512', b: Uint8Array): Uint8Array =>
  new Uint8Array(createHash(alg).update(b).digest());

/** The association data a correct record of this shape carries for `cert`. */
function dataFor(cert: Uint8Array, spki: Uint8Array, selector: number, matchingType: number): Uint8Array {
  const content = selector === 0 ? cert : spki;
  if (matchingType === 0) return content;
  return digest(matchingType === 1 ? 'sha256' : 'sha512', content);
}

/** A correct record: EE usages describe the leaf, TA usages the CA (chain[1]). */
function correct(usage: number, selector: number, matchingType: number): TlsaRecord {
  const ee = usage === 1 || usage === 3;
  return {
    usage,
    selector,
    matchingType,
    data: ee
      ? dataFor(leaf.der, leaf.spki, selector, matchingType)
      : dataFor(ca.certificate, ca.spki, selector, matchingType),
  };
}

const flip = (r: TlsaRecord): TlsaRecord => {
  const data = new Uint8Array(r.data);
  data[data.length - 1] = (data[data.length - 1] ?? 0) ^ 0xff;
  return { ...r, data };
};

const ALL = [0, 1, 2, 3].flatMap((usage) =>
  [0, 1].flatMap((selector) => [0, 1, 2].map((matchingType) => ({ usage, selector, matchingType }))),
);

describe('matchTlsa: every usage × selector × matching type (RFC 6698 §2.1)', () => {
  it.each(ALL)(
    '$usage $selector $matchingType: the right data matches',
    ({ usage, selector, matchingType }) => {
      const v = matchTlsa([correct(usage, selector, matchingType)], presented, { smtp: false });
      expect(v.outcome).toBe('match');
      if (v.outcome === 'match') expect(v.match.index).toBe(usage === 1 || usage === 3 ? 0 : 1);
    },
  );

  it.each(ALL)(
    '$usage $selector $matchingType: another certificate or key does not',
    ({ usage, selector, matchingType }) => {
      // A digest with one flipped bit; Full(0) data of another, well-formed certificate or key
      // (a flipped bit in Full data makes a record that does not parse, or — in a CA's signature —
      // one that still names the same trust anchor: see the Full(0) cases below).
      const wrong =
        matchingType === 0
          ? { usage, selector, matchingType, data: dataFor(otherCa.certificate, otherCa.spki, selector, 0) }
          : flip(correct(usage, selector, matchingType));
      const v = matchTlsa([wrong], presented, { smtp: false });
      expect(v.outcome).toBe('mismatch');
    },
  );

  it.each(ALL)(
    '$usage $selector $matchingType: with SMTP (RFC 7672 §3.1.3) PKIX usages are unusable',
    ({ usage, selector, matchingType }) => {
      const v = matchTlsa([correct(usage, selector, matchingType)], presented, { smtp: true });
      expect(v.outcome).toBe(usage <= 1 ? 'no-usable-records' : 'match');
    },
  );
});

describe('tlsaUnusableReason: records a client must ignore (RFC 7671 §4.1)', () => {
  const ok = (): TlsaRecord => correct(3, 1, 1);
  it.each([
    ['usage 4', { usage: 4 }, /unknown certificate usage 4/],
    ['usage 255 (PrivCert)', { usage: 255 }, /unknown certificate usage 255/],
    ['selector 2', { selector: 2 }, /unknown selector 2/],
    ['selector 255', { selector: 255 }, /unknown selector 255/],
    ['matching type 3', { matchingType: 3 }, /unknown matching type 3/],
    ['matching type 255', { matchingType: 255 }, /unknown matching type 255/],
    ['SHA-256 of 0 bytes', { data: new Uint8Array(0) }, /0 bytes, not 32/],
    ['SHA-256 of 31 bytes', { data: new Uint8Array(31) }, /31 bytes, not 32/],
    ['SHA-256 of 33 bytes', { data: new Uint8Array(33) }, /33 bytes, not 32/],
    ['SHA-256 of 64 bytes', { data: new Uint8Array(64) }, /64 bytes, not 32/],
    ['SHA-256 of 65535 bytes', { data: new Uint8Array(65535) }, /65535 bytes, not 32/],
    ['SHA-512 of 32 bytes', { matchingType: 2, data: new Uint8Array(32) }, /32 bytes, not 64/],
    ['SHA-512 of 63 bytes', { matchingType: 2, data: new Uint8Array(63) }, /63 bytes, not 64/],
    ['Full with no data', { matchingType: 0, data: new Uint8Array(0) }, /empty/],
  ] as const)('%s', (_name, change, reason) => {
    const r = { ...ok(), ...change };
    expect(tlsaUnusableReason(r, { smtp: false })).toMatch(reason);
    const v = matchTlsa([r], presented, { smtp: false });
    expect(v.outcome).toBe('no-usable-records');
  });

  it.each([
    ['65535 zero bytes as a certificate', 0, new Uint8Array(65535), /not a DER certificate/],
    ['a truncated SPKI', 1, new Uint8Array(40).fill(0x30), /not a DER SubjectPublicKeyInfo/],
    ['no data at all', 1, new Uint8Array(0), /empty/],
  ] as const)(
    'Full(0) data that is not DER is unusable (as OpenSSL refuses it): %s',
    (_n, selector, data, reason) => {
      const r: TlsaRecord = { usage: 3, selector, matchingType: 0, data };
      expect(tlsaUnusableReason(r, { smtp: false })).toMatch(reason);
    },
  );

  it('Full(0) SPKI with a flipped bit in the EC point is unusable, not a mismatch', () => {
    const spki = new Uint8Array(leaf.spki);
    spki[spki.length - 1] = (spki[spki.length - 1] ?? 0) ^ 0x01;
    expect(
      tlsaUnusableReason({ usage: 3, selector: 1, matchingType: 0, data: spki }, { smtp: false }),
    ).toMatch(/not a DER SubjectPublicKeyInfo/);
  });

  it('an unusable record beside a usable matching one is reported as ignored, not fatal', () => {
    const v = matchTlsa([{ ...correct(3, 1, 1), usage: 9 }, correct(3, 1, 1)], presented, { smtp: false });
    expect(v.outcome).toBe('match');
    expect(v.ignored.map((i) => i.reason)).toEqual(['unknown certificate usage 9']);
  });
});

describe('matchTlsa: the conditions beyond the data (RFC 7671 §5)', () => {
  it('DANE-EE ignores the name and the validity dates (§5.1)', () => {
    const expired = ca.issue({
      dnsNames: ['other.example.test'],
      notBefore: new Date(Date.now() - 400 * DAY),
      notAfter: new Date(Date.now() - 10 * DAY),
    });
    const r: TlsaRecord = { usage: 3, selector: 1, matchingType: 1, data: digest('sha256', expired.spki) };
    const v = matchTlsa([r], { chain: [expired.der], pkixValid: false, name: NAME }, { smtp: false });
    expect(v.outcome).toBe('match');
  });

  it('DANE-TA needs the leaf to carry the name', () => {
    const wrong = ca.issue({ dnsNames: ['other.example.test'] });
    const v = matchTlsa(
      [correct(2, 1, 1)],
      { chain: [wrong.der, ca.certificate], pkixValid: true, name: NAME },
      {
        smtp: false,
      },
    );
    expect(v.outcome).toBe('mismatch');
    if (v.outcome === 'mismatch') expect(v.notes.join()).toMatch(/not valid for dane\.example\.test/);
  });

  it('DANE-TA needs the leaf to be signed by the matching certificate', () => {
    // Claims the CA as issuer but is signed with another key.
    const forged = ca.issue({ dnsNames: [NAME], signingKey: otherCa.privateKey });
    const v = matchTlsa(
      [correct(2, 0, 1)],
      { chain: [forged.der, ca.certificate], pkixValid: false, name: NAME },
      {
        smtp: false,
      },
    );
    expect(v.outcome).toBe('mismatch');
    if (v.outcome === 'mismatch') expect(v.notes.join()).toMatch(/does not chain up/);
  });

  it('DANE-TA is looked for above the leaf only (§5.2: a trust anchor, not the end entity)', () => {
    const r: TlsaRecord = { usage: 2, selector: 1, matchingType: 1, data: digest('sha256', leaf.spki) };
    expect(matchTlsa([r], presented, { smtp: false }).outcome).toBe('mismatch');
  });

  it.each([0, 1])(
    'DANE-TA 2 %i 0 holds the trust anchor itself: it need not be served (§5.2.2)',
    (selector) => {
      const v = matchTlsa(
        [correct(2, selector, 0)],
        { chain: [leaf.der], pkixValid: false, name: NAME },
        {
          smtp: false,
        },
      );
      expect(v.outcome).toBe('match');
      if (v.outcome === 'match') expect(v.match).toMatchObject({ index: -1, signs: 0 });
    },
  );

  it('DANE-TA Full(0) of a CA that did not sign the chain does not match', () => {
    const r: TlsaRecord = { usage: 2, selector: 1, matchingType: 0, data: new Uint8Array(otherCa.spki) };
    expect(matchTlsa([r], { chain: [leaf.der], pkixValid: false, name: NAME }, { smtp: false }).outcome).toBe(
      'mismatch',
    );
  });

  it('DANE-TA digest of a CA the server does not send cannot match (§5.2.2: the TA must be in the chain)', () => {
    expect(
      matchTlsa([correct(2, 1, 1)], { chain: [leaf.der], pkixValid: true, name: NAME }, { smtp: false })
        .outcome,
    ).toBe('mismatch');
  });

  it('PKIX-EE and PKIX-TA also need PKIX validation (RFC 6698 §2.1.1)', () => {
    for (const usage of [0, 1]) {
      const v = matchTlsa([correct(usage, 1, 1)], { ...presented, pkixValid: false }, { smtp: false });
      expect(v.outcome).toBe('mismatch');
      if (v.outcome === 'mismatch') expect(v.notes.join()).toMatch(/needs a PKIX-valid chain/);
    }
  });

  it('a chain whose certificates do not parse never matches a TA record, and does not throw', () => {
    const junk = new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]);
    expect(
      matchTlsa(
        [correct(2, 1, 1), correct(3, 1, 1)],
        { chain: [junk, junk], pkixValid: false, name: NAME },
        {
          smtp: false,
        },
      ).outcome,
    ).toBe('mismatch');
  });
});

describe('preferredRecords: digest algorithm agility (RFC 7671 §9)', () => {
  it('a stale SHA2-512 record is not hidden by a current SHA2-256 one of the same usage and selector', () => {
    const v = matchTlsa([flip(correct(3, 1, 2)), correct(3, 1, 1)], presented, { smtp: false });
    expect(v.outcome).toBe('mismatch');
    expect(v.ignored.map((i) => i.reason).join()).toMatch(/stronger digest/);
  });

  it('Full(0) always counts, and other usage/selector pairs are separate', () => {
    const records = [
      correct(3, 1, 2),
      correct(3, 1, 1),
      correct(3, 1, 0),
      correct(3, 0, 1),
      correct(2, 1, 1),
    ];
    expect(preferredRecords(records).map(describeTlsa)).toEqual(
      [records[0], records[2], records[3], records[4]].map((r) => describeTlsa(r as TlsaRecord)),
    );
  });
});

describe('daneLookupFindings / daneChainFindings', () => {
  const owner = `_443._tcp.${NAME}`;
  it.each([
    [{ kind: 'failed', owner, detail: 'timeout' }, 'dane-lookup-failed', 'unknown'],
    [{ kind: 'servfail', owner, detail: 'EDE 7 Signature Expired' }, 'dane-bogus', 'critical'],
    [{ kind: 'insecure', owner, records: [] }, 'dane-insecure', 'warning'],
    [{ kind: 'secure', owner, records: [] }, 'dane-no-records', 'critical'],
  ] as [TlsaLookup, string, string][])('%o → %s (%s)', (lookup, id, severity) => {
    expect(daneLookupFindings(lookup)).toEqual([expect.objectContaining({ id, severity, address: '*' })]);
  });

  it('insecure records are counted but never matched', () => {
    const [f] = daneLookupFindings({ kind: 'insecure', owner, records: [correct(3, 1, 1)] });
    expect(f?.message).toMatch(/1 TLSA record\(s\).*not DNSSEC-validated/);
  });

  it('a secure non-empty RRset leaves the verdict to the chains', () => {
    expect(daneLookupFindings({ kind: 'secure', owner, records: [correct(3, 1, 1)] })).toEqual([]);
  });

  it('hostile text from the resolver is sanitised', () => {
    const [f] = daneLookupFindings({ kind: 'servfail', owner, detail: 'bad\u001b[31mred\u0007|x' });
    expect(isSafeText(f?.message ?? '')).toBe(true);
    expect(f?.message).not.toContain('\u001b');
  });

  it('match: INFO dane-match naming the record and the certificate', () => {
    const r = daneChainFindings(
      { kind: 'secure', owner, records: [correct(2, 1, 1)] },
      presented,
      { smtp: false },
      '127.0.0.1',
    );
    expect(r.match?.index).toBe(1);
    expect(r.findings).toEqual([
      expect.objectContaining({ id: 'dane-match', severity: 'info', address: '127.0.0.1' }),
    ]);
    expect(r.findings[0]?.message).toMatch(
      /^TLSA 2 1 1 [0-9a-f]{16}… \(DANE-TA SPKI SHA2-256\) at _443\._tcp\.dane\.example\.test matches chain\[1\] .*DANE Test CA/,
    );
  });

  it('mismatch: CRITICAL dane-mismatch with the leaf SPKI hash to publish', () => {
    const r = daneChainFindings(
      { kind: 'secure', owner, records: [flip(correct(3, 1, 1))] },
      presented,
      { smtp: false },
      'a',
    );
    expect(r.match).toBeNull();
    expect(r.findings.map((f) => [f.id, f.severity])).toEqual([['dane-mismatch', 'critical']]);
    expect(r.findings[0]?.message).toContain(createHash('sha256').update(leaf.spki).digest('hex'));
  });

  it('only unusable records: CRITICAL dane-unusable', () => {
    const r = daneChainFindings(
      { kind: 'secure', owner, records: [correct(1, 1, 1)] },
      presented,
      { smtp: true },
      'a',
    );
    expect(r.findings.map((f) => [f.id, f.severity])).toEqual([['dane-unusable', 'critical']]);
    expect(r.findings[0]?.message).toMatch(/RFC 7672 §3\.1\.3/);
  });
});

describe('relaxForDane (RFC 7672 §3.1: for SMTP, DANE replaces PKIX)', () => {
  const pkix = (): Finding[] => [
    { id: 'chain-untrusted', severity: 'critical', message: 'chain not trusted: self-signed', address: 'a' },
    { id: 'name-mismatch', severity: 'critical', message: 'not valid for x', address: 'a' },
    { id: 'expired', severity: 'critical', message: 'expired', address: 'a' },
  ];
  const match = (usage: number) => ({ record: correct(usage, 1, 1), index: usage === 3 ? 0 : 1 });

  it('DANE-EE over SMTP: untrusted chain and name become INFO, expiry stays', () => {
    const f = pkix();
    relaxForDane(f, match(3), { smtp: true });
    expect(f.map((x) => x.severity)).toEqual(['info', 'info', 'critical']);
    expect(f[0]?.message).toMatch(/authenticated by DANE \(DANE-EE, RFC 7671 §5\.1\)/);
  });

  it('DANE-TA over SMTP: the untrusted chain becomes INFO, the name does not', () => {
    const f = pkix();
    relaxForDane(f, match(2), { smtp: true });
    expect(f.map((x) => x.severity)).toEqual(['info', 'critical', 'critical']);
  });

  it('not SMTP (a browser does not do DANE): nothing changes', () => {
    const f = pkix();
    relaxForDane(f, match(3), { smtp: false });
    expect(f.map((x) => x.severity)).toEqual(['critical', 'critical', 'critical']);
  });
});
