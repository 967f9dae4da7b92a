import { describe, expect, it } from 'vitest';
import { isSafeText } from '../sanitize.js';
import { formatPerfDatum, formatPluginOutput, unknownStatusLine } from './plugin-output.js';

describe('monitoring-plugins output', () => {
  it('formats perfdata as label=value[UOM];warn;crit;min, trimming empty tails', () => {
    expect(formatPerfDatum({ label: 'days', value: 62, uom: '', warn: 20, crit: 15, min: 0 })).toBe(
      'days=62;20;15;0',
    );
    expect(formatPerfDatum({ label: 'scts', value: 2, uom: '', min: 0 })).toBe('scts=2;;;0');
    expect(formatPerfDatum({ label: 'handshake', value: 0.012, uom: 's' })).toBe('handshake=0.012s');
    expect(formatPerfDatum({ label: "it's odd", value: 1, uom: '' })).toBe("'it''s odd'=1");
  });

  it('puts one status line first, then the findings, worst first', () => {
    const out = formatPluginOutput(
      'CRITICAL',
      'a | b\nc',
      [
        { id: 'chain-trusted', severity: 'ok', message: 'fine', address: '127.0.0.1' },
        { id: 'pin-mismatch', severity: 'critical', message: 'key x', address: '127.0.0.1' },
        { id: 'certificates-differ', severity: 'warning', message: 'two', address: '*' },
      ],
      [{ label: 'days', value: 3, uom: '', warn: 20, crit: 15, min: 0 }],
    );
    const lines = out.trimEnd().split('\n');
    // The summary may not contain the perfdata separator or a newline of its own.
    expect(lines[0]).toBe('CERTVIGIL CRITICAL - a / b c | days=3;20;15;0');
    expect(lines.slice(1)).toEqual([
      '[CRITICAL] 127.0.0.1: pin-mismatch: key x',
      '[WARNING] certificates-differ: two',
      '[OK] 127.0.0.1: chain-trusted: fine',
    ]);
  });

  it('omits the perfdata separator when there is none', () => {
    expect(formatPluginOutput('UNKNOWN', 'no', [], [])).toBe('CERTVIGIL UNKNOWN - no\n');
  });

  // Issue 12: certificate fields and STARTTLS banners are outside text; they reach Nagios' web UI
  // and operators' terminals through these lines.
  it.each([
    ['ESC sequences', 'CN=\u001b]0;pwned\u0007\u001b[2J', '\\x1B]0;pwned\\x07\\x1B[2J'],
    ['a bidi override', 'issuer \u202Etset.live', '\\u202E'],
    ['CR/LF', '220 mail ready\r\nCERTVIGIL OK - forged', '220 mail ready CERTVIGIL OK - forged'],
    ['U+2028', 'a\u2028b', 'a\\u2028b'],
  ])('sanitises %s in summaries, findings and UNKNOWN lines', (_what, text, shown) => {
    const out = formatPluginOutput(
      'CRITICAL',
      text,
      [{ id: 'issuer-unexpected', severity: 'critical', message: text, address: '127.0.0.1' }],
      [],
    );
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(isSafeText(line)).toBe(true);
    expect(lines[0]).toContain(shown);
    const unknown = unknownStatusLine(text);
    expect(unknown.trimEnd().split('\n')).toHaveLength(1);
    expect(isSafeText(unknown.trimEnd())).toBe(true);
  });
});
