import { describe, expect, it } from 'vitest';
import { formatPerfDatum, formatPluginOutput } from './plugin-output.js';

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
});
