/**
 * @module cli/exit-codes
 * Exit statuses, one table for the whole binary (documented in README.md), and how a failed run
 * reports itself: one line, never a stack trace unless asked for.
 */
// eslint-disable-next-line certvigil/no-deep-imports -- start path of dist/cli/main.js (see program.ts)
import { unknownStatusLine } from '../probe/plugin-output.js';
import { errorMessage, hasErrorCode } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
export const EXIT = {
  /** Everything checked and fine (caa check: every name allowed). */
  OK: 0,
  /** A negative finding (caa check: at least one name denied). */
  FINDING: 1,
  /** Could not decide: lookup failure, bad input or usage error. Wins over FINDING. */
  ERROR: 2,
  /**
   * `check` commands only, which follow the monitoring-plugins convention: 0 OK, 1 WARNING,
   * 2 CRITICAL, 3 UNKNOWN (could not check, including usage errors).
   */
  UNKNOWN: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** What a failed run prints and how it exits. */
export interface FailureReport {
  code: ExitCode;
  stdout: string;
  stderr: string;
}

/** Any message as one safe line: no line breaks, no control or bidi characters, bounded. */
export function oneLine(message: string): string {
  return sanitizeText(message.replace(/\s*[\r\n]+\s*/g, ' ').trim(), { maxLength: 1000 });
}

/**
 * How a run that threw ends. An error certvigil raised on purpose (bad input, a lookup that failed)
 * — or that the environment raised with a code (Node's `ENOENT`, `ECONNREFUSED`; a database
 * driver's) — is one line: `certvigil: …` on stderr and exit 2, or under `check` one `CERTVIGIL UNKNOWN - …`
 * line on stdout and exit 3. Anything else is a bug: `certvigil: internal error: …` (under `check`,
 * UNKNOWN too, never exit 1, which is WARNING there), with the stack only when `debug` asked for
 * it. Messages may quote outside text (a server's banner, a file name), so they are sanitised.
 */
export function describeFailure(err: unknown, options: { plugin: boolean; debug: boolean }): FailureReport {
  const expected = hasErrorCode(err);
  const raw = errorMessage(err);
  const message = oneLine(expected ? raw : `internal error: ${raw}`);
  const stack =
    !expected && options.debug && err instanceof Error && err.stack
      ? `${sanitizeText(err.stack, { keepNewlines: true })}\n`
      : '';
  if (options.plugin) return { code: EXIT.UNKNOWN, stdout: unknownStatusLine(message), stderr: stack };
  return { code: EXIT.ERROR, stdout: '', stderr: `certvigil: ${message}\n${stack}` };
}
