/**
 * What the alerts say: the summary line, the 3 a.m. headline, the full body, the JSON form.
 * Assertions name the substrings that matter instead of snapshotting whole texts.
 */
import { describe, expect, it } from 'vitest';
import {
  CERT_DER_BASE64,
  CERT_PEM,
  CERT_SHA256,
  ISSUER,
  TBS_SHA256,
  issuanceEvent,
  malformedEvent,
  otherEvents,
} from './events.fixture.js';
import {
  advice,
  eventId,
  eventJson,
  formatText,
  oneLine,
  pemFromDerBase64,
  safeStringify,
  summaryLine,
} from './format.js';
import type { MonitorEvent } from './types.js';

describe('summaryLine', () => {
  it('says how bad, what, for which name, from whom and why', () => {
    const event = issuanceEvent();
    event.issuance.dnsNames = ['www.example.com'];
    expect(summaryLine(event)).toBe(
      `CRITICAL unknown certificate for www.example.com from "CN=R11,O=Let's Encrypt,C=US": not in inventory; new key`,
    );
  });

  it('counts the other names instead of listing them', () => {
    expect(summaryLine(issuanceEvent())).toContain('for www.example.com (+1 more) from');
  });

  it('falls back to IP addresses, then the watch item', () => {
    const event = issuanceEvent();
    event.issuance.dnsNames = [];
    event.issuance.ipAddresses = ['192.0.2.1'];
    expect(summaryLine(event)).toContain('for 192.0.2.1 from');
    event.issuance.ipAddresses = [];
    expect(summaryLine(event)).toContain('for .example.com from');
  });

  it('says "in inventory" for a known certificate', () => {
    const event = { ...issuanceEvent(), known: true, reasons: [], severity: 'info' as const };
    expect(summaryLine(event)).toBe(
      `INFO known certificate for www.example.com (+1 more) from "${ISSUER}": in inventory`,
    );
  });

  it.each<[MonitorEvent, string]>([
    [
      malformedEvent(),
      'WARNING unparseable entry 42 in https://ct.example/2026h2/: x509: truncated TBSCertificate',
    ],
    [
      otherEvents[0] as MonitorEvent,
      'CRITICAL CT log misbehaving: https://ct.example/2026h2/: two signed tree heads',
    ],
    [
      otherEvents[1] as MonitorEvent,
      'WARNING CT log problem: https://ct.example/2026h2/: unreachable for 6 h',
    ],
    [otherEvents[2] as MonitorEvent, 'INFO test notification: hello from certvigil alerts test'],
  ])('summarises a %s event', (event, expected) => {
    expect(summaryLine(event)).toContain(expected);
  });

  it('keeps crafted names on one line (no header or line forgery)', () => {
    const event = issuanceEvent();
    event.issuance.dnsNames = ['evil.example\r\nBcc: victim@example.com'];
    event.issuance.issuer = 'CN=x\u2028y';
    const line = summaryLine(event);
    expect(line).not.toMatch(/[\r\n\u2028]/);
    expect(line).toContain('evil.example\\x0D\\x0ABcc: victim@example.com');
    expect(line).toContain('CN=x\\u2028y');
    expect(formatText(event)).toContain('evil.example\\x0D\\x0ABcc');
  });

  it('truncates to 300 characters', () => {
    const event = issuanceEvent();
    event.reasons = Array.from({ length: 50 }, (_, i) => ({
      code: `reason-${i}`,
      severity: 'warning',
      message: 'm',
    }));
    const line = summaryLine(event);
    expect(line).toHaveLength(300);
    expect(line.endsWith('…')).toBe(true);
  });
});

describe('formatText', () => {
  it('starts with severity, what, name and what to do', () => {
    const first = formatText(issuanceEvent()).split('\n')[0];
    expect(first).toMatch(/^CRITICAL: unknown certificate for www\.example\.com \(\+1 more\)\. If nobody/);
    expect(first).toContain('revoke it via the CA (serial 03e8)');
    expect(first).toContain('check DNS and hosting for interception');
  });

  it('lists every reason with its message and every field', () => {
    const text = formatText(issuanceEvent());
    for (const expected of [
      `Summary: ${summaryLine(issuanceEvent())}`,
      'Reasons (2):',
      '- [warning] not-in-inventory: no certificate in the inventory or authorisations matches it',
      '- [critical] new-key: a public key never seen before for these names (ecdsa-p256)',
      'Known:          no',
      'Watch items:    .example.com\n                  www.example.com',
      'DNS names:      www.example.com\n                  example.com',
      'IP addresses:   (none)',
      'Subject:        CN=www.example.com',
      `Issuer:         ${ISSUER}`,
      'Serial:         03e8',
      'Not before:     2026-11-24T04:04:12Z',
      'Not after:      2027-02-22T04:04:12Z',
      'Key type:       ecdsa-p256',
      `TBS SHA-256:    ${TBS_SHA256}`,
      `Cert SHA-256:   ${CERT_SHA256}`,
      'https://ct.example/2026h2/ entry 6464843 (precert, logged 2026-11-24T04:04:12.000Z)',
      'https://other.example/log/ entry 17 (x509, logged',
      `https://crt.sh/?sha256=${CERT_SHA256}`,
    ]) {
      expect(text).toContain(expected);
    }
    expect(text.endsWith('\n')).toBe(true);
  });

  it('mentions a CAA violation in the advice', () => {
    const event = issuanceEvent();
    event.reasons.push({ code: 'caa-disallowed', severity: 'critical', message: 'CAA says no' });
    expect(advice(event)).toContain('against your CAA policy');
  });

  it('tells the reader a known certificate needs nothing', () => {
    const event = { ...issuanceEvent(), known: true, reasons: [], severity: 'info' as const };
    expect(formatText(event)).toMatch(/^INFO: known certificate for .*No action needed/);
  });

  it.each<[MonitorEvent, string[]]>([
    [
      malformedEvent(),
      [
        'WARNING: unparseable entry 42',
        'Index:          42',
        'Error:          x509: truncated',
        'Leaf hash:',
      ],
    ],
    [
      otherEvents[0] as MonitorEvent,
      [
        'CRITICAL: CT log https://ct.example/2026h2/ is misbehaving',
        'Keep the evidence',
        '"sha256_root_hash": "BBBB"',
      ],
    ],
    [
      otherEvents[1] as MonitorEvent,
      ['WARNING: CT log https://ct.example/2026h2/ has a problem', 'Message:        unreachable for 6 h'],
    ],
    [
      otherEvents[2] as MonitorEvent,
      ['INFO: test notification. No action needed', 'Message:        hello from certvigil'],
    ],
  ])('formats a %s event', (event, expected) => {
    const text = formatText(event);
    for (const e of expected) expect(text).toContain(e);
  });
});

describe('eventJson', () => {
  it('is the event plus summary and advice, type and severity first', () => {
    const event = issuanceEvent();
    const json = eventJson(event);
    expect(Object.keys(json).slice(0, 4)).toEqual(['type', 'severity', 'summary', 'advice']);
    expect(json).toMatchObject(event);
    expect(json.summary).toBe(summaryLine(event));
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('keeps an object that appears twice (only a cycle is cut)', () => {
    const shared = ['a'];
    expect(JSON.parse(safeStringify({ x: shared, y: { z: shared } }))).toEqual({ x: ['a'], y: { z: ['a'] } });
  });

  it('never throws on odd evidence', () => {
    const evidence: Record<string, unknown> = { size: 10n };
    evidence.self = evidence;
    const event: MonitorEvent = {
      type: 'log-misbehaviour',
      severity: 'critical',
      log: 'l',
      message: 'm',
      evidence,
    };
    const parsed = JSON.parse(safeStringify(eventJson(event))) as { evidence: unknown };
    expect(parsed.evidence).toEqual({ size: '10', self: '[circular]' });
    expect(formatText(event)).toContain('"size": "10"');
  });
});

describe('helpers', () => {
  it('gives the same id to the same event, another to another', () => {
    expect(eventId(issuanceEvent())).toBe(eventId(issuanceEvent()));
    expect(eventId(issuanceEvent())).toMatch(/^[0-9a-f]{32}$/);
    expect(eventId(malformedEvent())).not.toBe(eventId(issuanceEvent()));
  });

  it('writes RFC 7468 PEM with 64-character lines', () => {
    expect(pemFromDerBase64(CERT_DER_BASE64)).toBe(CERT_PEM);
    expect(pemFromDerBase64('')).toBeNull();
  });

  it('escapes control characters only', () => {
    expect(oneLine('a\tb\u0000c\u007fd é ✓')).toBe('a\\x09b\\x00c\\x7Fd é ✓');
  });
});
