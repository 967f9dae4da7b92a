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

/**
 * `kept`: the --keep directory, or null when this run's world is gone (its commands then say how to
 * get one to run them against).
 */
export function formatSummary(
  results: readonly DetectorResult[],
  style: Style,
  kept: string | null = null,
): string[] {
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
  const header =
    kept === null
      ? [
          'The commands behind each verdict (this run’s world is gone: run `certvigil lab --keep DIR`, then',
          '`certvigil lab serve DIR`, to run them again; the namespaces exist only while the lab runs):',
        ]
      : [
          `The commands behind each verdict (also in ${kept}/commands.txt; \`certvigil lab serve ${kept}\``,
          'serves the world for them again; the namespaces exist only while the lab runs):',
        ];
  for (const line of header) out.push(style.bold(line));
  for (const r of results) {
    if (r.commands.length === 0) continue;
    out.push(`  ${r.detector}:`);
    for (const c of r.commands) out.push(style.dim(`    ${c}`));
  }
  return out;
}
