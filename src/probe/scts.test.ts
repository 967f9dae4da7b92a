import { describe, expect, it } from 'vitest';
import { sctList, TestCa, TestLog } from '../../test/fixtures/ct-log/index.js';
import type { LogInfo } from '../ct/index.js';
import { collectScts, sctLeafIndex } from './scts.js';

function logInfo(log: TestLog, operator: string): LogInfo {
  return {
    kind: log.staticCtApi ? 'static-ct-api' : 'rfc6962',
    description: log.name,
    operator,
    logId: log.logId.toString('base64'),
    key: new Uint8Array(log.spki),
    url: 'http://127.0.0.1:1/',
    mmdSeconds: 86400,
    state: 'usable',
  };
}

describe('sctLeafIndex (static-ct-api CtExtensions)', () => {
  it.each([
    [[0, 0, 5, 0, 0, 0, 1, 2], 258],
    [[0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0xff], 2 ** 40 - 1],
    [[7, 0, 1, 9, 0, 0, 5, 0, 0, 0, 0, 3], 3], // an unknown extension first
  ])('%j → %d', (bytes, value) => {
    expect(sctLeafIndex(Uint8Array.from(bytes))).toBe(value);
  });
  it.each([[[]], [[0, 0, 4, 0, 0, 0, 1]], [[0, 0, 5, 0, 0]], [[1, 0]]])('none or malformed: %j', (bytes) => {
    expect(sctLeafIndex(Uint8Array.from(bytes))).toBeNull();
  });
});

describe('collectScts', () => {
  it('verifies each delivery against the right entry, and reports malformed lists without throwing', async () => {
    const ca = await TestCa.create();
    const log = new TestLog({ name: 'L', staticCtApi: true });
    const pending = ca.issuePrecertificate({ dnsNames: ['a.example.test'] });
    const { sct } = log.addPrecertEntry(
      pending.precert.der,
      pending.issuerKeyHash,
      pending.tbsWithoutPoison,
      [ca.certificate],
    );
    const final = pending.finalize(sctList([sct]));
    const x509 = log.addCertificate(final);
    const logs = [logInfo(log, 'Op')];

    const all = collectScts({
      leaf: final.der,
      issuer: ca.certificate,
      ocspResponse: null,
      tlsExtensionSctList: sctList([x509.sct]),
      logs,
    });
    expect(all.errors).toEqual([]);
    expect(all.scts.map((s) => [s.source, s.status, s.leafIndex])).toEqual([
      ['embedded', 'valid', 0],
      ['tls-extension', 'valid', 1],
    ]);
    expect(all.scts[0]?.logName).toBe('L');

    // The embedded SCT cannot be checked without the issuer (its entry holds the issuer key hash).
    const noIssuer = collectScts({
      leaf: final.der,
      issuer: null,
      ocspResponse: null,
      tlsExtensionSctList: null,
      logs,
    });
    expect(noIssuer.scts.map((s) => s.status)).toEqual(['invalid']);
    expect(noIssuer.scts[0]?.error).toMatch(/issuing certificate was not presented/);

    // An SCT for the precertificate delivered as if for the final certificate does not verify.
    const swapped = collectScts({
      leaf: final.der,
      issuer: ca.certificate,
      ocspResponse: null,
      tlsExtensionSctList: sctList([sct]),
      logs,
    });
    expect(swapped.scts.map((s) => s.status)).toEqual(['valid', 'invalid']);

    const unknown = collectScts({
      leaf: final.der,
      issuer: ca.certificate,
      ocspResponse: null,
      tlsExtensionSctList: null,
      logs: [],
    });
    expect(unknown.scts.map((s) => s.status)).toEqual(['unknown-log']);

    const garbage = collectScts({
      leaf: final.der,
      issuer: ca.certificate,
      ocspResponse: Uint8Array.from([1, 2, 3]),
      tlsExtensionSctList: Uint8Array.from([0, 9, 1]),
      logs,
    });
    expect(garbage.errors.map((e) => e.source)).toEqual(['ocsp', 'tls-extension']);
    expect(garbage.scts.map((s) => s.source)).toEqual(['embedded']);
  });
});
