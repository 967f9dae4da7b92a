import { describe, expect, it } from 'vitest';
import type { InventoryCertificate } from '../inventory/types.js';
import type { EntrySummary } from './entry-summary.js';
import {
  certificateRecord,
  inventoryHistoryItem,
  inventoryRecord,
  issuanceFacts,
  issuanceInput,
} from './issuance.js';

const facts = {
  tbsSha256: 't'.repeat(64),
  dnsNames: ['a.example'],
  issuer: "CN=R11,O=Let's Encrypt,C=US",
  notBefore: '2025-01-01T00:00:00Z',
  notAfter: '2025-04-01T00:00:00Z',
  spkiSha256: 's'.repeat(64),
};
const entry: EntrySummary = {
  ...facts,
  index: 7,
  subjectCommonName: 'a.example',
  certSha256: 'c'.repeat(64),
  type: 'precert',
  ipAddresses: ['192.0.2.1'],
  serial: '03e8',
  keyType: 'ecdsa-p256',
  timestamp: 1_735_689_600_000,
};
const onDisk: InventoryCertificate = {
  ...facts,
  source: 'certbot',
  path: '/etc/letsencrypt/live/a/cert.pem',
  certSha256: 'c'.repeat(64),
  serial: '03e8',
};

describe('monitor/issuance builders', () => {
  it.each([
    ['certificateRecord', () => certificateRecord({ ...entry }), facts],
    [
      'issuanceInput (no index/subjectCommonName of the summary; the log position given)',
      () => issuanceInput(entry, 'LOG', 42),
      {
        ...facts,
        certSha256: entry.certSha256,
        type: 'precert',
        ipAddresses: ['192.0.2.1'],
        serial: '03e8',
        keyType: 'ecdsa-p256',
        timestamp: entry.timestamp,
        logId: 'LOG',
        index: 42,
      },
    ],
    [
      'inventoryRecord (no serial)',
      () => inventoryRecord(onDisk),
      { ...facts, source: 'certbot', path: onDisk.path, certSha256: onDisk.certSha256 },
    ],
    [
      'issuanceFacts of a precert without its hash',
      () => issuanceFacts({ ...issuanceInput(entry, 'LOG', 1), certSha256: null }),
      { ...facts, certSha256s: [], keyType: 'ecdsa-p256' },
    ],
    [
      'inventoryHistoryItem',
      () => inventoryHistoryItem(inventoryRecord(onDisk)),
      { ...facts, certSha256s: [onDisk.certSha256], keyType: '', known: true },
    ],
  ])('%s has exactly the record fields', (_name, build, want) => {
    // toStrictEqual: an extra property (a leaked source field) fails as well as a missing one.
    expect(build()).toStrictEqual(want);
  });
});
