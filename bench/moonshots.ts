/**
 * The closing table of `npm run bench`: each of issue 19's targets beside what this run measured,
 * met or not, and when not, the measured reason. Each area contributes its rows from its own
 * results, so the verdicts come from the same run as the tables above them.
 */
import { formatTable } from './table.js';

export interface Moonshot {
  what: string;
  target: string;
  measured: string;
  met: boolean;
  /** Why not, measured (or what bounds it), when not met; empty when met. */
  note: string;
}

export function formatMoonshots(rows: readonly Moonshot[]): string {
  return formatTable(
    ['target', 'moonshot', 'this run', 'met', 'why not / what bounds it'],
    rows.map((r) => [r.what, r.target, r.measured, r.met ? 'yes' : 'no', r.note]),
  );
}
