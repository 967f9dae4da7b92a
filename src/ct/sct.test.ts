/**
 * SCT parsing and verification against the certificate-transparency-go matrix
 * (test/vectors/ct/ctgo/sct/cases.json) and a real Let's Encrypt staging certificate whose
 * embedded SCT was issued by the navigli2025h2 static-ct-api log.
 */
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePemCertificates } from '../x509/index.js';
import { parseSct, parseSctList, verifySct } from './sct.js';
import { embeddedScts, leafHashForSct, signedEntryForChain } from './sct-entry.js';

const dir = new URL('../../test/vectors/ct/ctgo/sct/', import.meta.url);
const read = (name: string): Buffer => readFileSync(new URL(name, dir));
const cert = (name: string): Uint8Array => {
  const [der] = parsePemCertificates(read(name).toString('utf8'));
  if (!der) throw new Error(`no certificate in ${name}`);
  return der;
};
interface Row {
  desc: string;
  chain: string[];
  sct: string | null;
  embedded: boolean;
  want_valid?: boolean;
  want_leaf_hash_b64?: string;
}
const cases = JSON.parse(read('cases.json').toString('utf8')) as {
  verify_sct: Row[];
  leaf_hash: Row[];
  leaf_hash_errors: Row[];
};
const logKey = createPublicKey(read('LogPublicKeyPEM.pem'));

/** As ctutil: an embedded SCT must be one of those the certificate carries. */
function sctFor(row: Row): ReturnType<typeof parseSct> {
  if (!row.sct) throw new Error('no SCT');
  const sct = parseSct(read(row.sct));
  if (row.embedded) {
    const leaf = cert(row.chain[0] as string);
    if (!embeddedScts(leaf).some((e) => Buffer.from(e.raw).equals(Buffer.from(sct.raw)))) {
      throw new Error('the SCT is not among those embedded in the certificate');
    }
  }
  return sct;
}

describe('SCT verification (ctgo ctutil matrix)', () => {
  it.each(cases.verify_sct.map((r) => [r.desc, r]))('%s', (_d, row) => {
    const [leaf, issuer] = row.chain.map(cert) as [Uint8Array, Uint8Array];
    const check = (): void =>
      verifySct(parseSct(read(row.sct as string)), logKey, signedEntryForChain(leaf, issuer, row.embedded));
    if (row.want_valid) check();
    else expect(check).toThrow();
  });

  it.each(cases.leaf_hash.map((r) => [r.desc, r]))('leaf hash: %s', (_d, row) => {
    const [leaf, issuer] = row.chain.map(cert) as [Uint8Array, Uint8Array];
    const hash = leafHashForSct(sctFor(row), signedEntryForChain(leaf, issuer, row.embedded));
    expect(Buffer.from(hash).toString('base64')).toBe(row.want_leaf_hash_b64);
  });

  it.each(cases.leaf_hash_errors.map((r) => [r.desc, r]))('leaf hash error: %s', (_d, row) => {
    expect(() => {
      if (row.chain.length < 2) throw new Error('chain too short');
      const [leaf, issuer] = row.chain.map(cert) as [Uint8Array, Uint8Array];
      leafHashForSct(sctFor(row), signedEntryForChain(leaf, issuer, row.embedded));
    }).toThrow();
  });

  it('finds the embedded SCT of TestEmbeddedCertPEM byte-equal to TestPreCertProof', () => {
    const [embedded] = embeddedScts(cert('TestEmbeddedCertPEM.pem'));
    expect(Buffer.from(embedded?.raw ?? []).equals(read('TestPreCertProof.sct'))).toBe(true);
  });
});

describe('SCT parsing is strict', () => {
  const good = read('TestCertProof.sct');
  it('rejects trailing bytes and truncation', () => {
    expect(() => parseSct(Buffer.concat([good, Buffer.from([0])]))).toThrow();
    expect(() => parseSct(good.subarray(0, good.length - 1))).toThrow();
  });
  it('reads an SCT list and rejects an empty one', () => {
    const list = Buffer.alloc(4 + good.length);
    list.writeUInt16BE(good.length + 2, 0);
    list.writeUInt16BE(good.length, 2);
    good.copy(list, 4);
    expect(parseSctList(list)).toHaveLength(1);
    expect(() => parseSctList(Buffer.from([0, 0]))).toThrow();
  });
});

describe('a real embedded SCT from a static-ct-api log', () => {
  it('verifies the navigli2025h2 SCT of a Let’s Encrypt staging certificate', () => {
    const base = new URL('../../test/vectors/ct/', import.meta.url);
    const [leaf] = parsePemCertificates(
      readFileSync(new URL('sunlight/extracted/example-cert-with-scts.pem', base), 'utf8'),
    );
    const [issuer] = parsePemCertificates(readFileSync(new URL('le-staging/e6-cross.pem', base), 'utf8'));
    const key = createPublicKey(readFileSync(new URL('sunlight/extracted/navigli2025h2.pub.pem', base)));
    const logId = Buffer.from('5Pt3SiEkxYZAsYMvUKv63ISjiu1xke62aSI3ksv2KJE=', 'base64');
    const scts = embeddedScts(leaf as Uint8Array);
    expect(scts).toHaveLength(2);
    const sct = scts.find((s) => Buffer.from(s.logId).equals(logId));
    expect(sct?.timestamp).toBe(1753657639844);
    verifySct(
      sct as ReturnType<typeof parseSct>,
      key,
      signedEntryForChain(leaf as Uint8Array, issuer as Uint8Array, true),
    );
  });
});
