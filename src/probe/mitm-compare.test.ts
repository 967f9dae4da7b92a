import { describe, expect, it } from 'vitest';
import { compareMitm, EMPTY_JARM, mergeBaseline } from './mitm-compare.js';
import type { PortBaseline } from './mitm-types.js';

const J1 = '07d14d16d21d21d00042d43d000000aa99ce74e2c6d013c745aa52b5cc042d';
const J2 = '29d29d00029d29d00042d42d000000ad9bf51cc3f5a1e29eecb81d0c7b06eb';
const J3 = '1dd40d40d00040d00042d43d000000ad9bf51cc3f5a1e29eecb81d0c7b06eb';
const now = new Date('2026-11-24T06:00:00Z');

function learned(port: number, jarms: string[], hops: string[][], counts: number[]): PortBaseline {
  return {
    target: 'xmpp.example.test',
    port,
    jarms,
    lastHops: hops,
    hopCounts: counts,
    learnedAt: now.toISOString(),
  };
}
const path = (hops: string[], hopCount: number) => ({ hops, hopCount });

const base = [
  learned(443, [J1], [['10.1.0.1', '10.2.0.2']], [3]),
  learned(5222, [J1], [['10.1.0.1', '10.2.0.2']], [3]),
  learned(5269, [J1], [['10.1.0.1', '10.2.0.2']], [3]),
];
const same = (port: number) => ({ port, jarm: J1, path: path(['10.1.0.1', '10.2.0.2'], 3) });
const crit = (v: ReturnType<typeof compareMitm>) =>
  v.findings.filter((f) => f.severity === 'critical').map((f) => `${f.address} ${f.id}`);

describe('compareMitm', () => {
  it('everything as learned: OK', () => {
    const v = compareMitm('xmpp.example.test', base, [same(443), same(5222), same(5269)]);
    expect(v.status).toBe('OK');
    expect(v.summary).toBe('xmpp.example.test: 3 ports as learned (443, 5222, 5269)');
  });

  it('a new last hop on one port only (jabber.ru): CRITICAL, naming the port and the hop', () => {
    const v = compareMitm('xmpp.example.test', base, [
      same(443),
      { port: 5222, jarm: J1, path: path(['10.4.0.2', '10.2.0.2'], 4) },
      same(5269),
    ]);
    expect(v.status).toBe('CRITICAL');
    expect(crit(v)).toEqual(['xmpp.example.test:5222 path-changed']);
    expect(v.summary).toMatch(
      /port 5222 path changed on this port only.*new hop 10\.4\.0\.2.*4 hops to the target \(learned: 3\)/,
    );
  });

  it('a changed JARM on one port only: CRITICAL', () => {
    const v = compareMitm('xmpp.example.test', base, [same(443), { ...same(5222), jarm: J2 }, same(5269)]);
    expect(crit(v)).toEqual(['xmpp.example.test:5222 jarm-changed']);
    expect(v.summary).toMatch(/JARM 29d29d.* \(learned: 07d14d/);
  });

  it('a silent extra hop (no ICMP) still shows as one more hop', () => {
    const v = compareMitm('xmpp.example.test', base, [
      same(443),
      { port: 5222, jarm: J1, path: path(['10.1.0.1', '10.2.0.2'], 4) },
    ]);
    expect(crit(v)).toEqual(['xmpp.example.test:5222 path-changed']);
  });

  it('the same change on every port is a WARNING (server or route change), not CRITICAL', () => {
    const v = compareMitm('xmpp.example.test', base, [
      { ...same(443), jarm: J2 },
      { ...same(5222), jarm: J2 },
      { ...same(5269), jarm: J2 },
    ]);
    expect(v.status).toBe('WARNING');
    expect(v.findings.filter((f) => f.id === 'jarm-changed')).toHaveLength(3);
    expect(v.summary).toMatch(/relearn/);
  });

  it('tolerates load balancing: any learned JARM or hop is fine', () => {
    const lb = [
      learned(
        443,
        [J1, J3],
        [
          ['10.1.0.1', '10.2.0.2'],
          ['10.1.0.1', '10.2.0.3'],
        ],
        [3],
      ),
    ];
    expect(
      compareMitm('t', lb, [{ port: 443, jarm: J3, path: path(['10.1.0.1', '10.2.0.3'], 3) }]).status,
    ).toBe('OK');
    // Mixing hops of two learned sequences is still only known addresses.
    expect(
      compareMitm('t', lb, [{ port: 443, jarm: J1, path: path(['10.1.0.1', '10.2.0.2'], 3) }]).status,
    ).toBe('OK');
  });

  it('a port that stopped speaking TLS is CRITICAL; a failed traceroute a WARNING; no baseline a WARNING', () => {
    const v = compareMitm('t', base, [
      { port: 443, jarm: EMPTY_JARM, path: null, pathError: 'needs root' },
      { port: 8443, jarm: J1 },
    ]);
    expect(crit(v)).toEqual(['t:443 jarm-unreachable']);
    expect(
      v.findings
        .filter((f) => f.severity === 'warning')
        .map((f) => f.id)
        .sort(),
    ).toEqual(['no-baseline', 'path-unreachable']);
  });

  it('with only one port checked, any change is CRITICAL (nothing to compare it with)', () => {
    const v = compareMitm('t', base, [{ port: 443, jarm: J2 }]);
    expect(v.status).toBe('CRITICAL');
  });
});

describe('compareMitm: "no TLS here" baselines (mitm learn --allow-no-tls) and empty ones (issue 12)', () => {
  const noTls = (port: number) => learned(port, [EMPTY_JARM], [], []);
  const t = 'xmpp.example.test';
  it.each([
    [
      'still no TLS',
      [learned(443, [J1], [], []), noTls(80)],
      [
        { port: 443, jarm: J1 },
        { port: 80, jarm: EMPTY_JARM },
      ],
      'OK',
      [],
    ],
    [
      'still no TLS (probe failed outright)',
      [noTls(80)],
      [{ port: 80, jarm: null, jarmError: 'refused' }],
      'OK',
      [],
    ],
    [
      'TLS appears on the no-TLS port while another port keeps its JARM: CRITICAL',
      [learned(443, [J1], [], []), noTls(80)],
      [
        { port: 443, jarm: J1 },
        { port: 80, jarm: J2 },
      ],
      'CRITICAL',
      ['xmpp.example.test:80 jarm-changed critical'],
    ],
    [
      'TLS appears on the only probed port: CRITICAL (one port is "some ports")',
      [noTls(80)],
      [{ port: 80, jarm: J2 }],
      'CRITICAL',
      ['xmpp.example.test:80 jarm-changed critical'],
    ],
    [
      'TLS appears and every other TLS port changed too: WARNING',
      [learned(443, [J1], [], []), noTls(80)],
      [
        { port: 443, jarm: J3 },
        { port: 80, jarm: J2 },
      ],
      'WARNING',
      ['xmpp.example.test:443 jarm-changed warning', 'xmpp.example.test:80 jarm-changed warning'],
    ],
    [
      'a baseline that holds nothing (stored by an older learn): UNKNOWN, not OK forever',
      [learned(443, [], [], [])],
      [{ port: 443, jarm: J1 }],
      'UNKNOWN',
      ['xmpp.example.test:443 baseline-empty unknown'],
    ],
  ] as const)('%s', (_name, baselines, observed, status, changed) => {
    const v = compareMitm(t, [...baselines], [...observed]);
    expect(v.status).toBe(status);
    expect(
      v.findings.filter((f) => f.severity !== 'ok').map((f) => `${f.address} ${f.id} ${f.severity}`),
    ).toEqual(changed);
  });
  it('says what appeared', () => {
    const v = compareMitm(t, [noTls(80)], [{ port: 80, jarm: J2 }]);
    expect(v.summary).toMatch(
      /port 80 TLS fingerprint changed on this port only.*: TLS now answers, JARM 29d29d.* \(learned: no TLS\)/,
    );
  });
});

describe('mergeBaseline', () => {
  it('accumulates distinct JARMs, hop sequences and hop counts', () => {
    let b = mergeBaseline(null, 't', 443, { jarm: J1, path: path(['a', 'b'], 3) }, now);
    b = mergeBaseline(b, 't', 443, { jarm: J1, path: path(['a', 'b'], 3) }, now);
    b = mergeBaseline(b, 't', 443, { jarm: J2, path: path(['a', 'c'], 4) }, now);
    b = mergeBaseline(b, 't', 443, { jarm: null, path: null }, now);
    expect(b).toEqual({
      target: 't',
      port: 443,
      jarms: [J1, J2],
      lastHops: [
        ['a', 'b'],
        ['a', 'c'],
      ],
      hopCounts: [3, 4],
      learnedAt: now.toISOString(),
    });
  });
});
