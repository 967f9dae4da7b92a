/**
 * @module cli/json-line
 * `--json` output that is safe on a terminal and still the same data. `JSON.stringify` escapes C0
 * controls and lone surrogates but leaves C1 controls, format characters (bidi overrides such as
 * U+202E, zero-width characters) and U+2028/2029 raw; a certificate name or a log's error text can
 * carry them. Here they become `\uXXXX` escapes too: `JSON.parse` gives back the exact string, and
 * `cat` or `jq -c` shows nothing that rewrites the line.
 */

const UNSAFE_IN_JSON = /[\u007f-\u009f\p{Cf}\u2028\u2029]/gu;

function escapeUnit(unit: number): string {
  return `\\u${unit.toString(16).padStart(4, '0')}`;
}

/** `JSON.stringify(value)` with every unsafe code point written as a `\u` escape (lossless). */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE_IN_JSON, (ch) => {
    let out = '';
    for (let i = 0; i < ch.length; i++) out += escapeUnit(ch.charCodeAt(i));
    return out;
  });
}
