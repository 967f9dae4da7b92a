/**
 * The lab's verdicts as tables (CAA refusal, iodef, internal check, the JSON line): each rule on
 * outputs recorded from a real `certvigil lab` run (trimmed to the fields the rules read) and on
 * the near misses that must NOT fire — a detector that fires on anything would make the lab a
 * show, not a test. The per-port verdicts: detectors-ports.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  DETECTORS,
  allAsExpected,
  decideCaaRefusal,
  decideInternalCheck,
  decideIodef,
  lastHopNotRun,
  lineOf,
  notRun,
  result,
} from './detectors.js';
import type { RefusalFacts } from './detectors.js';
import type { CommandRun } from './run-certvigil.js';

function run(code: number | null, stdout = '', stderr = '', args: string[] = ['x']): CommandRun {
  return { args, code, stdout, stderr, display: `certvigil ${args.join(' ')}`, ms: 1 };
}
const json = (...objects: unknown[]): string => objects.map((o) => `${JSON.stringify(o)}\n`).join('');

// ---------------------------------------------------------------------------------------------
// Recorded (trimmed) outputs of one `certvigil lab` run.

const ATTACKER_SPKI = '43ea49522cd161a0d120c53c279ba02519901310aafab3b8c0ef23bd8d3a50f9';
const VICTIM_SPKI = 'cbdbd595db13fbed42dc168cce26354926d091d14d4563d6e1106edbcfb917c1';
const ACCT2 = 'https://acme.ca.lab/acme/acct/2';

const CAA_DENY = run(
  1,
  'DENY  jabber.lab: CAA at jabber.lab authorises ca.lab only for ACME account(s) https://acme.ca.lab/acme/acct/1; the request came from https://acme.ca.lab/acme/acct/2 (RFC 8657 §3). [account-uri-mismatch; DNSSEC: insecure]\n',
);
const REFUSED: RefusalFacts = {
  refused: true,
  stage: 'caa',
  reason:
    'CAA forbids issuance for jabber.lab: CAA at jabber.lab authorises ca.lab only for ACME account(s) https://acme.ca.lab/acme/acct/1; the request came from https://acme.ca.lab/acme/acct/2 (RFC 8657 §3).',
  validationSucceeded: true,
  accountUri: ACCT2,
};

const IODEF_SEND = run(
  0,
  json(
    {
      kind: 'enqueue',
      recipient: 'https://iodef.jabber.lab:43565/',
      channel: 'https',
      names: ['jabber.lab'],
      outcome: 'enqueued',
    },
    { kind: 'delivery', id: 1, recipient: 'https://iodef.jabber.lab:43565/', status: 'sent', error: null },
  ),
);
const reportAbout = (names: string[], line: string): Record<string, unknown> => ({
  id: 1,
  channel: 'https',
  summary: { format: 'iodef-2.0', names, reason: 'account-uri-mismatch' },
  line,
});
const IODEF_LIST = run(
  0,
  json(
    reportAbout(
      ['jabber.lab'],
      "HIGH    2026-12-07 16:22Z  certvigil lab CA refused jabber.lab (CAA at jabber.lab: account-uri-mismatch; http-01 validation had SUCCEEDED — someone controls this name's traffic)",
    ),
  ),
);

const alertOn = (spki: string): Record<string, unknown> => ({
  type: 'issuance',
  severity: 'critical',
  summary:
    'CRITICAL unknown certificate for jabber.lab (+1 more) from "CN=certvigil lab CA,O=certvigil lab": managed name not in inventory; new key; off cadence',
  known: false,
  issuance: { spkiSha256: spki },
});
const MONITOR = run(0, json(alertOn(ATTACKER_SPKI)));
const unknownIssuance = (spki: string, codes: string[]): Record<string, unknown> => ({
  tbsSha256: '9ac52214c58f50831626b40df74f170fa4cc02254acf6dd0a2d626069fab6f45',
  dnsNames: ['jabber.lab', 'www.jabber.lab'],
  known: false,
  reasons: codes.map((code) => ({ code, severity: 'warning', message: code })),
  serial: '01e7dc40fb14b9c442b9c0a8216cd076',
  spkiSha256: spki,
});
const THREE_REASONS = ['not-in-inventory', 'new-key', 'off-cadence'];
const UNKNOWN = run(0, json(unknownIssuance(ATTACKER_SPKI, THREE_REASONS)));

// ---------------------------------------------------------------------------------------------

describe('caa-accounturi-refusal', () => {
  it('fires: refused at the CAA stage after validation succeeded, and caa check says denied', () => {
    const r = decideCaaRefusal(REFUSED, CAA_DENY);
    expect(r).toMatchObject({ detector: 'caa-accounturi-refusal', fired: true, expected: true });
    expect(r.detail).toContain(ACCT2);
    expect(r.detail).toContain('caa check with that account: denied');
    expect(r.detail).not.toContain('.;');
    expect(r.commands).toEqual([CAA_DENY.display]);
  });

  it.each<[string, Partial<RefusalFacts>, CommandRun]>([
    ['the CA issued', { refused: false, stage: null }, CAA_DENY],
    ['refused at validation, not CAA', { stage: 'validation' }, CAA_DENY],
    ['refused at the CAA stage before validation succeeded', { validationSucceeded: false }, CAA_DENY],
    ['caa check allowed (exit 0)', {}, run(0, 'ALLOW jabber.lab\n')],
    ['caa check lookup error (exit 2)', {}, run(2, '', 'certvigil: lookup failed: SERVFAIL\n')],
    ['caa check killed', {}, run(null)],
  ])('does not fire when %s', (_label, facts, check) => {
    const r = decideCaaRefusal({ ...REFUSED, ...facts }, check);
    expect(r.fired).toBe(false);
    expect(r.expected).toBe(true);
  });

  it('names the failing command in the detail', () => {
    expect(decideCaaRefusal(REFUSED, run(2, '', 'certvigil: lookup failed: SERVFAIL\n')).detail).toContain(
      'exited 2: certvigil: lookup failed: SERVFAIL',
    );
    expect(decideCaaRefusal(REFUSED, run(null)).detail).toContain('was killed (time-out)');
    expect(decideCaaRefusal({ ...REFUSED, refused: false }, CAA_DENY).detail).toContain('did NOT refuse');
  });
});

describe('iodef-report-received', () => {
  it('fires on a stored report about the domain', () => {
    const r = decideIodef('jabber.lab', IODEF_SEND, IODEF_LIST);
    expect(r).toMatchObject({ fired: true, expected: true });
    expect(r.detail).toContain('1 report(s) about jabber.lab');
    expect(r.commands).toEqual([IODEF_SEND.display, IODEF_LIST.display]);
  });

  it('matches the name without case or the root dot (RFC 4343)', () => {
    const list = run(0, json(reportAbout(['JABBER.lab.'], 'HIGH refused')));
    expect(decideIodef('jabber.lab', IODEF_SEND, list).fired).toBe(true);
  });

  it.each<[string, CommandRun]>([
    ['no report (empty stdout)', run(0, '')],
    ['a report about another name', run(0, json(reportAbout(['example.lab'], 'HIGH refused example.lab')))],
    [
      'a report about a name that merely contains it',
      run(
        0,
        json(reportAbout(['xjabber.lab', 'jabber.lab.evil'], 'HIGH refused xjabber.lab, jabber.lab.evil')),
      ),
    ],
    [
      'a report whose line mentions it but names another',
      run(0, json(reportAbout(['evil.lab'], 'refused jabber.lab'))),
    ],
    ['iodef list failed', run(2, json(reportAbout(['jabber.lab'], 'x')), 'certvigil: cannot open state\n')],
    ['iodef list killed', run(null)],
    ['garbage stdout', run(0, 'not json\n{"summary": {"names": ["jabber.lab"]\n[1,2]\n')],
  ])('does not fire on %s', (_label, list) => {
    const r = decideIodef('jabber.lab', IODEF_SEND, list);
    expect(r.fired).toBe(false);
    expect(r.detail).toMatch(/^no report about jabber\.lab reached the receiver/);
  });

  it('cites a failed send', () => {
    const r = decideIodef('jabber.lab', run(1, '', 'certvigil: delivery failed: ECONNREFUSED\n'), run(0));
    expect(r.detail).toContain('iodef send exited 1: certvigil: delivery failed: ECONNREFUSED');
  });
});

describe('ct-internal-check', () => {
  it('fires with the reason codes of the recorded run', () => {
    const r = decideInternalCheck(ATTACKER_SPKI, MONITOR, UNKNOWN);
    expect(r.fired).toBe(true);
    expect(r.detail).toContain('not-in-inventory, new-key, off-cadence');
    expect(r.detail).toContain('serial 01e7dc40fb14b9c442b9c0a8216cd076');
  });

  it.each<[string, CommandRun, CommandRun]>([
    ['the monitor failed', run(1, '', 'certvigil: log unreachable\n'), UNKNOWN],
    ['the monitor was killed', run(null), UNKNOWN],
    ['certs list failed', MONITOR, run(2, json(unknownIssuance(ATTACKER_SPKI, THREE_REASONS)))],
    ['nothing unknown (empty stdout)', MONITOR, run(0, '')],
    ['only another key is unknown', MONITOR, run(0, json(unknownIssuance(VICTIM_SPKI, THREE_REASONS)))],
    [
      'the attacker key listed as known',
      MONITOR,
      run(0, json({ ...unknownIssuance(ATTACKER_SPKI, THREE_REASONS), known: true })),
    ],
    ['flagged without any reason', MONITOR, run(0, json(unknownIssuance(ATTACKER_SPKI, [])))],
    ['garbage stdout', MONITOR, run(0, 'UNKNOWN 9d79b34d jabber.lab not-in-inventory\n{oops\n')],
    [
      'the monitor sent no alert (recorded as unknown, but nobody told)',
      run(0, ''),
      run(0, json(unknownIssuance(ATTACKER_SPKI, THREE_REASONS))),
    ],
    [
      'the monitor alerted on another key only',
      run(0, json(alertOn(VICTIM_SPKI))),
      run(0, json(unknownIssuance(ATTACKER_SPKI, THREE_REASONS))),
    ],
    [
      'the victim’s own certificate is flagged too (a false alarm is no detection)',
      MONITOR,
      run(0, json(unknownIssuance(ATTACKER_SPKI, THREE_REASONS), unknownIssuance(VICTIM_SPKI, ['new-key']))),
    ],
  ])('does not fire when %s', (_label, monitor, unknown) => {
    expect(decideInternalCheck(ATTACKER_SPKI, monitor, unknown).fired).toBe(false);
  });

  it('does not fire for an empty attacker key (no certificate was issued)', () => {
    expect(
      decideInternalCheck('', MONITOR, run(0, json({ known: false, reasons: [{ code: 'new-key' }] }))).fired,
    ).toBe(false);
  });
});

describe('lines, not-run and the overall verdict', () => {
  it('lineOf has exactly the four CONTRACT keys, in order, with their types', () => {
    const line = lineOf(decideCaaRefusal(REFUSED, CAA_DENY));
    expect(Object.keys(line)).toEqual(['detector', 'fired', 'expected', 'detail']);
    expect(typeof line.detector).toBe('string');
    expect(typeof line.fired).toBe('boolean');
    expect(typeof line.expected).toBe('boolean');
    expect(typeof line.detail).toBe('string');
  });

  it('lastHopNotRun is not expected and says why', () => {
    expect(lineOf(lastHopNotRun('not running as root'))).toEqual({
      detector: 'last-hop-change',
      fired: false,
      expected: false,
      detail: 'not run: not running as root',
    });
  });

  it('notRun is expected by default', () => {
    expect(notRun('jarm-change', 'step detect failed')).toMatchObject({ fired: false, expected: true });
    expect(notRun('last-hop-change', 'x', false).expected).toBe(false);
  });

  it('details are one sanitized line, bounded', () => {
    const r = result('jarm-change', true, true, `a\nb\u001b[31m\t c ${'x'.repeat(2000)}`);
    for (const c of ['\n', '\t', '\u001b']) expect(r.detail).not.toContain(c);
    expect(r.detail.startsWith('a b')).toBe(true);
    expect(r.detail.length).toBeLessThanOrEqual(601);
  });

  it('DETECTORS is the CONTRACT list in the reported order', () => {
    expect(DETECTORS).toEqual([
      'caa-accounturi-refusal',
      'iodef-report-received',
      'ct-internal-check',
      'external-check-pin',
      'external-check-other-ports-ok',
      'jarm-change',
      'last-hop-change',
    ]);
  });

  it.each<[string, [boolean, boolean][], boolean]>([
    [
      'all fired as expected',
      [
        [true, true],
        [true, true],
      ],
      true,
    ],
    [
      'a detector not expected and not fired (last hop unprivileged)',
      [
        [true, true],
        [false, false],
      ],
      true,
    ],
    [
      'a detector that did not fire',
      [
        [true, true],
        [false, true],
      ],
      false,
    ],
    ['a detector that fired unexpectedly', [[true, false]], false],
    ['no detector at all', [], true],
  ])('allAsExpected: %s', (_label, pairs, want) => {
    const results = pairs.map(([fired, expected]) => result('jarm-change', fired, expected, 'd'));
    expect(allAsExpected(results)).toBe(want);
  });
});
