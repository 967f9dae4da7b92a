/**
 * @module sanitize
 * One sanitiser for text that came from outside — certificate fields, CT log error bodies, DNS
 * answers, IODEF fields, mail headers, file contents — before it reaches a terminal, a log line, an
 * alert or a page. A shared leaf like `errors.ts`: it imports nothing, so every module may use it.
 *
 * Why every one of these code points:
 * - C0 (U+0000–001F, U+007F) and C1 (U+0080–009F) controls: ESC/CSI sequences rewrite a terminal
 *   (move the cursor, retitle the window, hide text), CR overwrites what an operator reads, NUL
 *   truncates in C consumers.
 * - Format characters (Unicode category Cf), among them the bidi overrides and isolates U+202A–202E
 *   and U+2066–2069 ("Trojan Source", CVE-2021-42574) that make `evil.test` display as `tset.live`,
 *   and zero-width characters that make two different names look the same.
 * - U+2028/U+2029 (line and paragraph separators): line breaks to many viewers and to JavaScript
 *   before ES2019, so a log line could be split into a forged second line.
 * - Lone surrogates: not text; they break UTF-8 encoders downstream.
 *
 * Each is replaced with a visible escape (`\x1B`, `\u202E`), so the operator sees that something
 * was there and what it was, and the result is plain printable text.
 */

/** C0, DEL, C1, Cf (format), line/paragraph separators and lone surrogates. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\p{Cf}\u2028\u2029]|\p{Cs}/gu;
/** The same, but keeping TAB and LF (for multi-line blocks such as mail bodies). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE_KEEP_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\p{Cf}\u2028\u2029]|\p{Cs}/gu;

function escapeCodePoint(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp <= 0xff) return `\\x${cp.toString(16).toUpperCase().padStart(2, '0')}`;
  return `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

export interface SanitizeOptions {
  /** Longest result in code units before `…` is appended (default: unlimited). */
  maxLength?: number;
  /** Keep TAB and LF (for multi-line text); every other control is still escaped. */
  keepNewlines?: boolean;
}

/**
 * Makes outside text safe to print: every control, format and separator character becomes a
 * visible escape, and the result is cut at `maxLength` (counted after escaping).
 */
export function sanitizeText(text: string, options: SanitizeOptions = {}): string {
  const pattern = options.keepNewlines ? UNSAFE_KEEP_LINES : UNSAFE;
  let out = text.replace(pattern, escapeCodePoint);
  const max = options.maxLength;
  if (max !== undefined && out.length > max) {
    // Do not cut a surrogate pair in half.
    let cut = max;
    const code = out.charCodeAt(cut - 1);
    if (code >= 0xd800 && code <= 0xdbff) cut--;
    out = `${out.slice(0, Math.max(0, cut))}…`;
  }
  return out;
}

/** True when `sanitizeText` would change nothing but the length. */
export function isSafeText(text: string, keepNewlines = false): boolean {
  const pattern = keepNewlines ? UNSAFE_KEEP_LINES : UNSAFE;
  pattern.lastIndex = 0;
  const found = pattern.test(text);
  pattern.lastIndex = 0;
  return !found;
}

/**
 * Deep-sanitises a JSON-like value (strings in objects and arrays, keys included) for a log line or
 * an alert payload. Non-plain objects (Buffers, Dates, class instances) are passed through
 * untouched. A cycle is cut (`[circular]`); an object reached twice by different paths is not a
 * cycle and is sanitised at each place, so only the ancestors on the current path are tracked.
 */
export function sanitizeDeep<T>(value: T, options: SanitizeOptions = {}, ancestors = new Set<object>()): T {
  if (typeof value === 'string') return sanitizeText(value, options) as T;
  if (value === null || typeof value !== 'object') return value;
  if (ancestors.has(value)) return '[circular]' as T;
  if (Array.isArray(value)) {
    ancestors.add(value);
    const out = value.map((v: unknown) => sanitizeDeep(v, options, ancestors));
    ancestors.delete(value);
    return out as T;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  ancestors.add(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[sanitizeText(k)] = sanitizeDeep(v, options, ancestors);
  }
  ancestors.delete(value);
  return out as T;
}

/** What JSON.stringify leaves raw but a terminal acts on: C1 controls, Cf (bidi, zero-width), U+2028/9. */
const UNSAFE_IN_JSON = /[\u007f-\u009f\p{Cf}\u2028\u2029]/gu;

/**
 * `JSON.stringify(value)` that is safe on a terminal and still the same data (for `--json` output
 * and JSON alert payloads): every code point above is written as a `\uXXXX` escape (per UTF-16 unit,
 * so astral characters become a valid surrogate-pair escape). C0 controls and lone surrogates are
 * already escaped by JSON.stringify. `JSON.parse` gives back the exact value: lossless, unlike
 * `sanitizeDeep`, which is for text that a person reads.
 */
export function safeJsonStringify(value: unknown): string {
  return JSON.stringify(value).replace(UNSAFE_IN_JSON, (ch) => {
    let out = '';
    for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return out;
  });
}
