import { describe, expect, it } from 'vitest';
import { formatPluginOutput } from '../../probe/index.js';
import { internalVerdict } from './check-internal.js';
import type { InternalAnswer } from './check-internal.js';

const NOW = new Date('2026-06-03T00:00:00.000Z');
const DAY = 86_400;
const base: InternalAnswer = {
  host: 'web1',
  pushedAt: '2026-06-02T12:00:00.000Z',
  managedNames: ['example.test', 'www.example.test'],
  unknown: [],
  unknownCount: 0,
  checked: 4,
};
const attacker = {
  tbsSha256: 'ab'.repeat(32),
  dnsNames: ['www.example.test'],
  issuer: 'CN=Test CA <script>',
  notAfter: '2026-09-01T00:00:00Z',
  reasons: [
    { code: 'managed-name-not-in-inventory', message: '…' },
    { code: 'new-key', message: '…' },
  ],
  knownElsewhere: null,
};

describe('internalVerdict', () => {
  it.each([
    ['all pushed, fresh', base, 'OK', /no unknown certificate for 2 names of web1 \(4 checked\)/],
    [
      'stale inventory',
      { ...base, pushedAt: '2026-05-30T00:00:00.000Z' },
      'WARNING',
      /inventory of web1 is 4d old/,
    ],
    ['truncated scan', { ...base, truncated: true }, 'WARNING', /cut short/],
    [
      'an unknown certificate (stale too: CRITICAL wins)',
      { ...base, pushedAt: '2026-05-01T00:00:00.000Z', unknown: [attacker], unknownCount: 1 },
      'CRITICAL',
      /1 certificate for web1's names not obtained by web1: www\.example\.test from CN=Test CA <script> \(tbs abababababababab; managed-name-not-in-inventory, new-key\)/,
    ],
  ] as [string, InternalAnswer, string, RegExp][])('%s → %s', (_, answer, status, summary) => {
    const v = internalVerdict(answer, NOW, 2 * DAY);
    expect(v.status).toBe(status);
    expect(v.summary).toMatch(summary);
  });

  it('perfdata unknown=N checked=N age=Ns, and one long-output line per certificate', () => {
    const v = internalVerdict(
      { ...base, unknown: [attacker, { ...attacker, knownElsewhere: 'host:web2' }], unknownCount: 7 },
      NOW,
      2 * DAY,
    );
    const out = formatPluginOutput(v.status, v.summary, v.findings, v.perfdata);
    expect(out.split('\n')[0]).toMatch(
      /^CERTVIGIL CRITICAL - 7 certificates .*\| unknown=7;;0;0 checked=4;;;0 age=43200s;172800;;0$/,
    );
    expect(out).toMatch(
      /\[CRITICAL\] unknown-certificate: www\.example\.test from .*: managed-name-not-in-inventory, new-key\n/,
    );
    expect(out).toMatch(/; known to the monitor as host:web2\n/);
  });
});
