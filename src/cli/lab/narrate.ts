/**
 * @module cli/lab/narrate
 * What the lab tells a newcomer while it runs, on stderr (stdout keeps only the results): each
 * step, each thing it builds, and each certvigil command with its outcome — plain words, so
 * watching one run teaches how the pieces fit.
 */
import { sanitizeText } from '../../sanitize.js';
import type { Style } from '../style.js';
import type { CommandRun } from './run-certvigil.js';

export interface Narrator {
  step(title: string): void;
  say(text: string): void;
  command(run: CommandRun, meaning: string): void;
}

export function makeNarrator(stream: NodeJS.WritableStream, style: Style, enabled = true): Narrator {
  const write = (line: string): void => {
    if (enabled) stream.write(`${line}\n`);
  };
  let n = 0;
  return {
    step(title) {
      n += 1;
      write('');
      write(style.bold(`== ${n}. ${title}`));
    },
    say(text) {
      write(`   ${text}`);
    },
    command(run, meaning) {
      const status = run.code === null ? 'killed (time-out)' : `exit ${run.code}`;
      write(style.dim(`   $ ${run.display}`));
      write(
        `     → ${status} in ${(run.ms / 1000).toFixed(1)} s: ${sanitizeText(meaning, { maxLength: 300 })}`,
      );
    },
  };
}
