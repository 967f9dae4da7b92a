/**
 * The summary table of `certvigil lab` (without --json): one row per detector with its verdict,
 * long details wrapped under the WHAT IT SAW column, and the reproducing commands after it.
 */
import { describe, expect, it } from 'vitest';
import type { Style } from '../style.js';
import { result } from './detectors.js';
import type { DetectorResult } from './detectors.js';
import type { CommandRun } from './run-certvigil.js';
import { formatSummary } from './summary.js';

const plain: Style = { green: (s) => s, red: (s) => s, yellow: (s) => s, bold: (s) => s, dim: (s) => s };
const marked: Style = {
  green: (s) => `<g>${s}</g>`,
  red: (s) => `<r>${s}</r>`,
  yellow: (s) => s,
  bold: (s) => s,
  dim: (s) => s,
};
const cmd = (display: string): CommandRun => ({ args: [], code: 0, stdout: '', stderr: '', display, ms: 1 });

const ROWS: DetectorResult[] = [
  result('caa-accounturi-refusal', true, true, 'refused', [cmd('certvigil caa check jabber.lab')]),
  result('jarm-change', false, true, 'check mitm exited 0', [
    cmd('certvigil mitm learn 127.0.0.1'),
    cmd('certvigil check mitm 127.0.0.1'),
  ]),
  result('last-hop-change', false, false, 'not run: not running as root'),
  result('ct-internal-check', true, false, 'fired though not expected'),
];

describe('formatSummary', () => {
  const lines = formatSummary(ROWS, plain);
  const width = 'caa-accounturi-refusal'.length;

  it('one row per detector, the verdict column aligned under RESULT', () => {
    expect(lines[0]).toBe(`${'DETECTOR'.padEnd(width)}  RESULT          WHAT IT SAW`);
    const column = (lines[0] as string).indexOf('WHAT IT SAW');
    const rows = lines.slice(1, 5);
    expect(rows.map((l) => l.slice(0, width).trim())).toEqual(ROWS.map((r) => r.detector));
    expect(rows.map((l) => l.slice(width + 2, width + 16).trim())).toEqual([
      'fired',
      'DID NOT FIRE',
      'not expected',
      'FIRED (unexp.)',
    ]);
    for (const l of rows) expect(l.indexOf(' ', column - 1)).toBe(column - 1);
    expect(rows.map((l) => l.slice(column))).toEqual(ROWS.map((r) => r.detail));
  });

  it('verdicts as expected are green, the others red', () => {
    const coloured = formatSummary(ROWS, marked).slice(1, 5);
    expect(coloured.map((l) => (l.includes('<g>') ? 'g' : l.includes('<r>') ? 'r' : '?'))).toEqual([
      'g',
      'r',
      'g',
      'r',
    ]);
  });

  it('lists the reproducing commands of each detector that ran some, in order', () => {
    const at = lines.findIndex((l) => l.startsWith('The commands behind each verdict'));
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toContain('certvigil lab serve DIR');
    expect(lines.slice(at + 2)).toEqual([
      '  caa-accounturi-refusal:',
      '    certvigil caa check jabber.lab',
      '  jarm-change:',
      '    certvigil mitm learn 127.0.0.1',
      '    certvigil check mitm 127.0.0.1',
    ]);
  });

  it('wraps a long detail at word boundaries under its column, nothing lost', () => {
    const words = Array.from({ length: 60 }, (_, i) => `word${i}`);
    const [header, ...rest] = formatSummary([result('jarm-change', true, true, words.join(' '))], plain);
    const column = (header as string).indexOf('WHAT IT SAW');
    const body = rest.slice(0, rest.indexOf(''));
    expect(body.length).toBeGreaterThan(1);
    for (const l of body) expect(l.length - column).toBeLessThanOrEqual(90);
    for (const l of body.slice(1)) expect(l.slice(0, column).trim()).toBe('');
    expect(body.map((l) => l.slice(column)).join(' ')).toBe(words.join(' '));
  });
});
