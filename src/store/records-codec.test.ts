import { describe, expect, it } from 'vitest';
import { issuanceRow } from './codec.js';
import { outboxRow, receivedRow } from './iodef-codec.js';
import { authorizationRow, baselineRow, cursorRow } from './records-codec.js';

/** The coded error `fn` throws, or null when it returns. */
function codeOf(fn: () => unknown): unknown {
  try {
    fn();
    return null;
  } catch (err) {
    return (err as { code?: unknown }).code;
  }
}

const HASH = 'ab'.repeat(32);

// The rows both engines write, encoded once (issue 18: the engines had drifted on U+0000).
describe('rows both engines write', () => {
  it('cursorRow: text cleaned of U+0000, the tree as JSON text, its size checked', () => {
    const init = {
      logId: 'L',
      url: 'https://log\0/',
      kind: 'rfc6962' as const,
      description: 'd\0',
      position: 0,
    };
    expect(cursorRow({ ...init, tree: null })).toEqual({
      ...init,
      url: 'https://log\uFFFD/',
      description: 'd\uFFFD',
      tree: null,
    });
    expect(cursorRow({ ...init, tree: { size: 0, hashes: [] } }).tree).toBe('{"size":0,"hashes":[]}');
    expect(codeOf(() => cursorRow({ ...init, tree: { size: 1, hashes: [] } }))).toBe(
      'STORE_INVALID_ARGUMENT',
    );
  });

  it('authorizationRow: the hash lower-cased and checked, the note cleaned', () => {
    expect(authorizationRow(HASH.toUpperCase(), 'n\0')).toEqual({ hash: HASH, note: 'n\uFFFD' });
    expect(authorizationRow(HASH, null)).toEqual({ hash: HASH, note: null });
    expect(codeOf(() => authorizationRow('abc', null))).toBe('STORE_INVALID_ARGUMENT');
  });

  it('baselineRow: the learned data as one JSON document, the port, target and time checked', () => {
    const b = {
      target: 't',
      port: 443,
      jarms: ['j'],
      lastHops: [['h']],
      hopCounts: [2],
      learnedAt: '2026-12-07T11:00:00+01:00',
    };
    expect(baselineRow(b)).toEqual({
      target: 't',
      port: 443,
      baseline: '{"jarms":["j"],"lastHops":[["h"]],"hopCounts":[2]}',
      learnedAt: '2026-12-07T10:00:00.000Z',
    });
    expect(codeOf(() => baselineRow({ ...b, port: 0 }))).toBe('STORE_INVALID_ARGUMENT');
    expect(codeOf(() => baselineRow({ ...b, learnedAt: 'x' }))).toBe('STORE_INVALID_ARGUMENT');
    expect(codeOf(() => baselineRow({ ...b, target: 't\0' }))).toBe('STORE_INVALID_ARGUMENT');
  });

  it('issuanceRow: a logged and an imported certificate give the same row', () => {
    const facts = {
      tbsSha256: HASH,
      dnsNames: ['a\0.example'],
      ipAddresses: [],
      issuer: 'CN=I',
      serial: '01',
      notBefore: 'nb',
      notAfter: 'na',
      spkiSha256: HASH,
      keyType: 'ec',
    };
    const imported = { ...facts, certSha256: null, sourceId: '7' };
    expect(issuanceRow(imported)).toEqual(issuanceRow(facts));
    expect(issuanceRow(facts).dnsNames).toBe('["a\uFFFD.example"]');
  });

  it('outboxRow: names as JSON text, reason and document cleaned, the input checked', () => {
    const r = {
      dedupKey: 'k',
      recipient: 'mailto:a@example.com',
      channel: 'mailto' as const,
      registeredDomain: 'example.com',
      names: ['example.com'],
      reason: 'r\0',
      incidentId: 'i',
      document: '<x>\0</x>',
      createdAt: '2026-01-01T00:00:00.000Z',
    };
    expect(outboxRow(r)).toEqual({
      ...r,
      names: '["example.com"]',
      reason: 'r\uFFFD',
      document: '<x>\uFFFD</x>',
    });
    expect(codeOf(() => outboxRow({ ...r, document: '' }))).toBe('STORE_INVALID_ARGUMENT');
  });

  it('receivedRow: the byte quota counts the document as received, the stored text is cleaned', () => {
    const r = {
      fingerprint: HASH,
      senderKey: 'sk\0',
      documentSha256: HASH,
      incidentKey: null,
      sender: 's\0',
      channel: 'file' as const,
      receivedAt: '2026-01-01T00:00:00.000Z',
      schemaValid: true,
      summary: { a: 'b\0' },
      document: 'é\0',
    };
    const row = receivedRow(r, undefined);
    expect(row).toMatchObject({
      sender: 's\uFFFD',
      senderKey: 'sk\uFFFD',
      schemaValid: 1,
      document: 'é\uFFFD',
    });
    expect(row.summary).toBe('{"a":"b\uFFFD"}');
    expect(row.bytes).toBe(3);
    expect(codeOf(() => receivedRow({ ...r, fingerprint: 'x' }, undefined))).toBe('STORE_INVALID_ARGUMENT');
  });
});
