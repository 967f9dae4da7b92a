/**
 * @module cli/lab/summary
 * The table a person reads at the end of `certvigil lab`: each detector, whether it fired as
 * expected, what it saw, and the commands that reproduce it.
 */
import type { Style } from '../style.js';
import type { DetectorResult } from './detectors.js';

function wrap(text: string, width: number): string[] {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line !== '' && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line === '' ? w : `${line} ${w}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

export function formatSummary(results: readonly DetectorResult[], style: Style): string[] {
  const width = Math.max(...results.map((r) => r.detector.length), 'DETECTOR'.length);
  const out = [style.bold(`${'DETECTOR'.padEnd(width)}  RESULT          WHAT IT SAW`)];
  for (const r of results) {
    const verdict =
      r.fired === r.expected
        ? style.green((r.fired ? 'fired' : 'not expected').padEnd(14))
        : style.red((r.fired ? 'FIRED (unexp.)' : 'DID NOT FIRE').padEnd(14));
    const [first = '', ...rest] = wrap(r.detail, 90);
    out.push(`${r.detector.padEnd(width)}  ${verdict}  ${first}`);
    for (const l of rest) out.push(`${' '.repeat(width + 18)}${l}`);
  }
  out.push('');
  out.push(
    style.bold(
      'Reproduce (against a world kept with --keep DIR and served again with `certvigil lab serve DIR`):',
    ),
  );
  for (const r of results) {
    if (r.commands.length === 0) continue;
    out.push(`  ${r.detector}:`);
    for (const c of r.commands) out.push(style.dim(`    ${c}`));
  }
  return out;
}
