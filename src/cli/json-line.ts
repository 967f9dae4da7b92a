/**
 * @module cli/json-line
 * `--json` output that is safe on a terminal and still the same data: one line per object, with
 * the C1 controls, format characters (bidi overrides such as U+202E, zero-width characters) and
 * U+2028/2029 that JSON.stringify leaves raw written as `\uXXXX` escapes. The encoder lives in the
 * shared leaf `sanitize.ts` (`safeJsonStringify`), so library modules (the plugin output) use it too.
 */
import { safeJsonStringify } from '../sanitize.js';

/** `JSON.stringify(value)` with every unsafe code point written as a `\u` escape (lossless). */
export function jsonLine(value: unknown): string {
  return safeJsonStringify(value);
}
