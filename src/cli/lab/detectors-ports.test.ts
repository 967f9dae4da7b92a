/**
 * The lab's per-port verdicts as tables (external check with --pin, the untouched port, JARM and
 * last hops per port): outputs recorded from a real `certvigil lab` run, trimmed to the fields the
 * rules read, and the near misses that must NOT fire. The other verdicts: detectors.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { decideOtherPortsOk, decidePerPortChange, decidePin } from './detectors.js';
import type { CommandRun } from './run-certvigil.js';

function run(code: number | null, stdout = '', stderr = '', args: string[] = ['x']): CommandRun {
  return { args, code, stdout, stderr, display: `certvigil ${args.join(' ')}`, ms: 1 };
}
const json = (...objects: unknown[]): string => objects.map((o) => `${JSON.stringify(o)}\n`).join('');

const ATTACKER_SPKI = '43ea49522cd161a0d120c53c279ba02519901310aafab3b8c0ef23bd8d3a50f9';

const finding = (id: string, severity: string, message = id): Record<string, string> => ({
  id,
  severity,
  message,
  address: '127.0.0.1',
});
function endpoint(
  code: number,
  status: string,
  summary: string,
  findings: Record<string, string>[],
): CommandRun {
  return run(
    code,
    json({ status, summary, findings, addresses: [{ address: '127.0.0.1', status, findings }] }),
  );
}
const PIN_CRITICAL = (port: number): CommandRun =>
  endpoint(
    2,
    'CRITICAL',
    `jabber.lab:${port}: leaf key sha256 ${ATTACKER_SPKI} matches none of 1 pin(s); not a certificate we obtained: 3 other certificate(s) for these names are in the inventory`,
    [
      finding('chain-trusted', 'ok'),
      finding('pin-mismatch', 'critical'),
      finding('inventory-mismatch', 'critical'),
    ],
  );
const PIN_OK = (port: number): CommandRun =>
  endpoint(
    0,
    'OK',
    `jabber.lab:${port}: certificate for jabber.lab from CN=certvigil lab CA,O=certvigil test, 84 days left, 1 valid SCTs`,
    [finding('chain-trusted', 'ok'), finding('pin-match', 'ok'), finding('inventory-match', 'ok')],
  );

const [HTTPS, XMPP, XMPPS] = [41451, 35673, 41817] as const;
const mitmFinding = (
  id: string,
  severity: string,
  port: number,
  host = '127.0.0.1',
): Record<string, string> => ({
  id,
  severity,
  message: `port ${port} ${id}`,
  address: `${host}:${port}`,
});
function mitm(code: number, findings: Record<string, string>[]): CommandRun {
  return run(
    code,
    json({ status: code === 2 ? 'CRITICAL' : 'OK', summary: 's', findings, target: '127.0.0.1' }),
  );
}
const LEARN = run(
  0,
  json(
    { target: '127.0.0.1', port: HTTPS, jarms: ['28d2'], lastHops: [] },
    { target: '127.0.0.1', port: XMPP, jarms: ['28d2'], lastHops: [] },
  ),
);
const JARM_TWO_PORTS = mitm(2, [
  mitmFinding('jarm-consistent', 'ok', HTTPS),
  mitmFinding('jarm-changed', 'critical', XMPP),
  mitmFinding('jarm-changed', 'critical', XMPPS),
]);
const PATH_TWO_PORTS = mitm(2, [
  mitmFinding('path-consistent', 'ok', 443, '10.77.3.2'),
  mitmFinding('path-changed', 'critical', 5222, '10.77.3.2'),
  mitmFinding('path-changed', 'critical', 5223, '10.77.3.2'),
]);

describe('external-check-pin', () => {
  const both = (a: CommandRun, b: CommandRun): { label: string; run: CommandRun }[] => [
    { label: `port ${XMPP}`, run: a },
    { label: `port ${XMPPS}`, run: b },
  ];

  it('fires when both intercepted ports are CRITICAL with pin-mismatch', () => {
    const r = decidePin(both(PIN_CRITICAL(XMPP), PIN_CRITICAL(XMPPS)));
    expect(r.fired).toBe(true);
    expect(r.detail).toContain(`port ${XMPP}: CRITICAL, pin mismatch`);
    expect(r.detail).toContain(`port ${XMPPS}: CRITICAL, pin mismatch`);
    expect(r.commands).toHaveLength(2);
  });

  it('finds pin-mismatch in the per-address findings alone', () => {
    const perAddress = run(
      2,
      json({ status: 'CRITICAL', addresses: [{ findings: [finding('pin-mismatch', 'critical')] }] }),
    );
    expect(decidePin(both(perAddress, perAddress)).fired).toBe(true);
  });

  it.each<[string, CommandRun, CommandRun]>([
    ['the pin is OK on one intercepted port', PIN_CRITICAL(XMPP), PIN_OK(XMPPS)],
    ['the pin is OK on both', PIN_OK(XMPP), PIN_OK(XMPPS)],
    [
      'CRITICAL for another reason (no pin-mismatch)',
      PIN_CRITICAL(XMPP),
      endpoint(2, 'CRITICAL', 'jabber.lab: expired', [finding('validity', 'critical')]),
    ],
    ['pin-mismatch but exit 1', PIN_CRITICAL(XMPP), run(1, PIN_CRITICAL(XMPPS).stdout)],
    ['one check killed', PIN_CRITICAL(XMPP), run(null)],
    ['one check printed garbage', PIN_CRITICAL(XMPP), run(2, 'CERTVIGIL CRITICAL - pin-mismatch\n')],
    ['one check printed nothing', PIN_CRITICAL(XMPP), run(2, '', 'certvigil: connection refused\n')],
  ])('does not fire when %s', (_label, a, b) => {
    expect(decidePin(both(a, b)).fired).toBe(false);
  });

  it('does not fire on no port at all', () => {
    expect(decidePin([]).fired).toBe(false);
  });

  it('says why a port failed', () => {
    const r = decidePin(both(PIN_CRITICAL(XMPP), run(3, '', 'CERTVIGIL UNKNOWN - no route\n')));
    expect(r.detail).toContain(`port ${XMPPS}: exited 3 (no result): CERTVIGIL UNKNOWN - no route`);
  });
});

describe('external-check-other-ports-ok', () => {
  const https = (r: CommandRun): { label: string; run: CommandRun }[] => [{ label: `port ${HTTPS}`, run: r }];

  it('fires when the untouched port stays OK', () => {
    const r = decideOtherPortsOk(https(PIN_OK(HTTPS)));
    expect(r.fired).toBe(true);
    expect(r.detail).toMatch(
      new RegExp(`^port ${HTTPS}: OK — jabber\\.lab:${HTTPS}: certificate for jabber\\.lab`),
    );
  });

  it.each<[string, CommandRun]>([
    [
      '443 WARNING',
      endpoint(1, 'WARNING', 'jabber.lab: expires in 5 days', [finding('validity', 'warning')]),
    ],
    ['443 CRITICAL (intercepted too)', PIN_CRITICAL(HTTPS)],
    ['exit 0 but status not OK', run(0, json({ status: 'WARNING' }))],
    ['status OK but exit 2', run(2, PIN_OK(HTTPS).stdout)],
    ['the check was killed', run(null)],
    ['garbage stdout', run(0, 'OK\n')],
    ['empty stdout', run(0, '')],
  ])('does not fire on %s', (_label, r) => {
    expect(decideOtherPortsOk(https(r)).fired).toBe(false);
  });

  it('does not fire on no port at all', () => {
    expect(decideOtherPortsOk([]).fired).toBe(false);
  });
});

describe('jarm-change and last-hop-change (per port)', () => {
  it('jarm-change fires on exactly the intercepted ports, naming them', () => {
    const r = decidePerPortChange('jarm-change', 'jarm-changed', [XMPPS, XMPP], JARM_TWO_PORTS, LEARN);
    expect(r).toMatchObject({ detector: 'jarm-change', fired: true, expected: true });
    expect(r.detail).toMatch(new RegExp(`^CRITICAL on port\\(s\\) ${XMPP}, ${XMPPS} only: `));
    expect(r.commands).toEqual([LEARN.display, JARM_TWO_PORTS.display]);
  });

  it('last-hop-change fires on the recorded namespace run (5222, 5223)', () => {
    const r = decidePerPortChange('last-hop-change', 'path-changed', [5222, 5223], PATH_TWO_PORTS, LEARN);
    expect(r.fired).toBe(true);
    expect(r.detail).toMatch(/^CRITICAL on port\(s\) 5222, 5223 only/);
  });

  it('reads IPv6 addresses ([::1]:port)', () => {
    const v6 = mitm(2, [
      mitmFinding('jarm-changed', 'critical', XMPP, '[::1]'),
      mitmFinding('jarm-changed', 'critical', XMPPS, '[::1]'),
    ]);
    expect(decidePerPortChange('jarm-change', 'jarm-changed', [XMPP, XMPPS], v6, LEARN).fired).toBe(true);
  });

  it.each<[string, CommandRun, CommandRun]>([
    [
      'a change on every port including 443 (a server change, not an interception)',
      mitm(2, [
        mitmFinding('jarm-changed', 'critical', HTTPS),
        mitmFinding('jarm-changed', 'critical', XMPP),
        mitmFinding('jarm-changed', 'critical', XMPPS),
      ]),
      LEARN,
    ],
    [
      'a change on one intercepted port only',
      mitm(2, [mitmFinding('jarm-changed', 'critical', XMPP)]),
      LEARN,
    ],
    [
      'the change is only a warning',
      mitm(1, [mitmFinding('jarm-changed', 'warning', XMPP), mitmFinding('jarm-changed', 'warning', XMPPS)]),
      LEARN,
    ],
    ['the other finding id (path-changed)', PATH_TWO_PORTS, LEARN],
    ['exit 0 though the findings say critical', run(0, JARM_TWO_PORTS.stdout), LEARN],
    ['nothing changed', mitm(0, [mitmFinding('jarm-consistent', 'ok', XMPP)]), LEARN],
    ['check mitm killed', run(null), LEARN],
    ['garbage stdout', run(2, 'CERTVIGIL CRITICAL - jarm-changed\n'), LEARN],
    ['empty stdout', run(2, ''), LEARN],
    ['mitm learn failed', JARM_TWO_PORTS, run(3, '', 'CERTVIGIL UNKNOWN - cannot connect\n')],
    ['mitm learn killed', JARM_TWO_PORTS, run(null)],
  ])('does not fire on %s', (_label, check, learn) => {
    expect(decidePerPortChange('jarm-change', 'jarm-changed', [XMPP, XMPPS], check, learn).fired).toBe(false);
  });

  it('a failed learn is named in the detail', () => {
    const r = decidePerPortChange(
      'jarm-change',
      'jarm-changed',
      [XMPP, XMPPS],
      JARM_TWO_PORTS,
      run(3, '', 'CERTVIGIL UNKNOWN - cannot connect\n'),
    );
    expect(r.detail).toBe('mitm learn exited 3: CERTVIGIL UNKNOWN - cannot connect');
  });

  it('a miss names the ports seen and expected', () => {
    const r = decidePerPortChange(
      'jarm-change',
      'jarm-changed',
      [XMPP, XMPPS],
      mitm(2, [mitmFinding('jarm-changed', 'critical', XMPP)]),
      LEARN,
    );
    expect(r.detail).toContain(`jarm-changed on port(s) [${XMPP}], expected [${XMPP}, ${XMPPS}]`);
  });
});
