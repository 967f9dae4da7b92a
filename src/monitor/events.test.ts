/**
 * The monitor's events: what hook scripts need is in them (chain for CERT_FILENAME; leaf hash,
 * raw entry and parse error for a malformed entry), keys deduplicate the right things, and the
 * outbox gives back events, checked rather than cast.
 */
import { describe, expect, it } from 'vitest';
import { leafHash } from '../ct/merkle.js';
import type { IssuanceInput } from '../store/types.js';
import {
  eventOfAlert,
  issuanceAlert,
  logListStaleAlert,
  malformedAlert,
  misbehaviourAlert,
} from './events.js';

const issuance: IssuanceInput = {
  tbsSha256: 'ab'.repeat(32),
  certSha256: 'cd'.repeat(32),
  type: 'x509',
  dnsNames: ['www.example.test'],
  ipAddresses: [],
  issuer: 'CN=Test CA',
  serial: '01',
  notBefore: '2026-01-01T00:00:00Z',
  notAfter: '2026-04-01T00:00:00Z',
  spkiSha256: 'ef'.repeat(32),
  keyType: 'ECDSA P-256',
  logId: 'bG9n',
  index: 42,
  timestamp: 1_700_000_000_000,
};
const log = { logId: 'bG9n', url: 'https://log.example/' };

describe('issuanceAlert', () => {
  it('carries the certificate and, when the entry has one, its chain', () => {
    const a = issuanceAlert({
      issuance,
      severity: 'critical',
      reasons: [],
      watchItems: ['.example.test'],
      logUrl: log.url,
      der: new Uint8Array([1, 2]),
      chain: [new Uint8Array([3]), new Uint8Array([4])],
    });
    expect(a.key).toBe(`issuance:${issuance.tbsSha256}`);
    expect(a.payload).toMatchObject({
      type: 'issuance',
      issuance: { certificateDerBase64: 'AQI=', chainDerBase64: ['Aw==', 'BA=='], entries: [{ index: 42 }] },
    });
  });

  it('leaves the chain out when the entry has none (static-ct-api entries)', () => {
    const a = issuanceAlert({
      issuance,
      severity: 'info',
      reasons: [],
      watchItems: [],
      logUrl: log.url,
      chain: [],
    });
    expect(a.payload.type === 'issuance' && 'chainDerBase64' in a.payload.issuance).toBe(false);
  });
});

describe('malformedAlert', () => {
  it('carries LEAF_HASH, the raw entry and PARSE_ERROR', () => {
    const leafInput = new Uint8Array([0, 0, 1]);
    const a = malformedAlert(log, { index: 7, error: 'bad DER', leafInput, extraData: new Uint8Array([9]) });
    expect(a.key).toBe('malformed:bG9n:7');
    expect(a.payload).toEqual({
      type: 'malformed',
      severity: 'info',
      log: log.url,
      index: 7,
      error: 'bad DER',
      parseError: 'bad DER',
      leafHash: Buffer.from(leafHash(leafInput)).toString('base64'),
      entry: { leafInput: 'AAAB', extraData: 'CQ==' },
    });
  });
});

describe('misbehaviourAlert keys are the evidence', () => {
  const head = { treeSize: 10, timestamp: 1, rootHash: 'cm9vdA==', treeHeadSignature: 'c2ln' };
  it.each([
    ['the same evidence', [head], 'x', true],
    ['another signed root', [{ ...head, rootHash: 'b3RoZXI=' }], 'x', false],
    ['another computed root', [head], 'y', false],
  ] as const)('%s', (_what, heads, computed, same) => {
    const a = misbehaviourAlert(log, 'root-mismatch', 'm', [head], 'x');
    const b = misbehaviourAlert(log, 'root-mismatch', 'another message', [...heads], computed);
    expect(a.key === b.key).toBe(same);
  });
});

describe('eventOfAlert', () => {
  it('gives back what was enqueued', () => {
    const a = malformedAlert(log, { index: 1, error: 'x' });
    expect(eventOfAlert(JSON.parse(JSON.stringify(a)) as { key: string; payload: unknown })).toEqual(
      a.payload,
    );
  });
  it.each([
    ['not an object', 'text'],
    ['an unknown type', { type: 'mystery', severity: 'info' }],
    ['an issuance without its data', { type: 'issuance', severity: 'info' }],
  ])('refuses %s (MONITOR_INTERNAL)', (_what, payload) => {
    expect(() => eventOfAlert({ key: 'k', payload })).toThrow(
      expect.objectContaining({ code: 'MONITOR_INTERNAL' }),
    );
  });
});

describe('logListStaleAlert', () => {
  it('one warning per list and day, naming the list, the last good copy and the error, sanitised', () => {
    const now = Date.parse('2026-12-07T10:00:00Z');
    const list = {
      source: 'https://list.test/x.json',
      fetchedAt: '2026-12-05T09:00:00.000Z',
      lastError: 'HTTP 503\u001b[2J',
    };
    const a = logListStaleAlert(list, now);
    expect(a.kind).toBe('health');
    expect(a.key).toMatch(/^health:loglist:[0-9a-f]{16}:2026-12-07$/);
    expect(logListStaleAlert(list, now + 3_600_000).key).toBe(a.key);
    expect(a.payload).toMatchObject({ type: 'log-health', severity: 'warning', log: list.source });
    const message = (a.payload as { message: string }).message;
    expect(message).toContain('2026-12-05T09:00:00.000Z');
    expect(message).toContain('HTTP 503\\x1B[2J');
    expect(eventOfAlert(a)).toEqual(a.payload);
  });
});
