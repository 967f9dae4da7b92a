/**
 * @module cli/flags
 * Small helpers every command shares, kept free of imports so that a command that needs only these
 * does not load the DNS or CT stacks: flag parsing and writing result lines to stdout.
 */
import { CertvigilError } from '../errors.js';

/** A flag that must be a whole number above zero; anything else is a usage error. */
export function positiveInt(value: string, flag: string, max: number = Number.MAX_SAFE_INTEGER): number {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new CertvigilError(
      'USAGE',
      `${flag} must be a positive integer (got ${JSON.stringify(value.slice(0, 40))})`,
    );
  if (n > max) throw new CertvigilError('USAGE', `${flag} must be at most ${max} (got ${value.trim()})`);
  return n;
}

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Writes a line to stdout, waiting when the pipe is full (a slow consumer must not balloon memory). */
export async function writeLine(line: string): Promise<void> {
  if (!process.stdout.write(`${line}\n`)) {
    await new Promise<void>((resolve) => process.stdout.once('drain', resolve));
  }
}

/** Durations: one syntax for every flag and config key, in the shared leaf `duration.ts`. */
export { formatDuration, MAX_DURATION_MS, parseDuration } from '../duration.js';
export type { DurationBounds, DurationUnit } from '../duration.js';
