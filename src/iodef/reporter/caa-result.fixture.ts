/**
 * Test fixture: a CAA result as the engine (caa/decide.ts) returns it for a refused name, with the
 * relevant record set given as `[tag, value]` pairs.
 */
import type { CaaRecordView, CaaResult } from '../../caa/types.js';

export function caaRecord(tag: string, value: string, flags = 0): CaaRecordView {
  return { flags, tag, value, critical: (flags & 128) !== 0, text: `${flags} ${tag} "${value}"` };
}

export function denial(
  name: string,
  records: [string, string][],
  overrides: Partial<CaaResult> = {},
): CaaResult {
  const lookupName = name.replace(/^\*\./, '').toLowerCase();
  return {
    name,
    lookupName,
    wildcard: name.startsWith('*.'),
    decision: 'deny',
    reason: 'issuer-not-authorized',
    explanation: `No issue property authorises ca.example for ${name}.`,
    foundAt: lookupName,
    aliasTarget: null,
    records: ([['issue', 'letsencrypt.org'], ...records] as [string, string][]).map(([t, v]) =>
      caaRecord(t, v),
    ),
    authorizedBy: [],
    dnssec: 'insecure',
    ttl: 300,
    reusableForSeconds: 28_800,
    lookups: [],
    request: { issuerDomains: ['ca.example'], accountUri: null, validationMethod: 'http-01' },
    ...overrides,
  };
}
