/**
 * @module ct/get-entries-scan
 * A get-entries response (RFC 6962 §4.6) read straight from its bytes, when it has the exact form
 * every log's JSON encoder writes:
 *
 *     {"entries":[{"leaf_input":"<base64>","extra_data":"<base64>"},…]}
 *
 * (optionally followed by whitespace, as Go's `json.Encoder` adds a newline). Anything else — other
 * key order, extra fields, whitespace inside, escapes, non-ASCII — returns `undefined`, and the
 * caller takes the general path (`JSON.parse` + `parseGetEntriesJson`), which also produces the
 * precise error for a bad response. So this path decides nothing the general one would decide
 * otherwise: it accepts a subset of valid responses, with the same result (property-tested).
 *
 * Why: profile of `monitor --once` (200k entries): each ~1 MB response became a 1 MB string, then
 * 512 JSON strings and an object per entry, and the young generation was scavenged every 1,500
 * entries (~10 KB allocated per entry). Here only the two base64 strings per entry are made.
 */
import type { RawEntryJson } from './sth.js';
import { decodeBase64 } from './tls.js';

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const OPEN = ascii('{"entries":[');
const LEAF = ascii('{"leaf_input":"');
const EXTRA = ascii('","extra_data":"');
const CLOSE_ITEM = ascii('"}');
const QUOTE = 0x22;
const COMMA = 0x2c;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

function at(body: Uint8Array, pos: number, want: Uint8Array): boolean {
  if (pos + want.length > body.length) return false;
  for (let i = 0; i < want.length; i++) if (body[pos + i] !== want[i]) return false;
  return true;
}

/**
 * The base64 string starting at `pos` (just after its opening quote), decoded, and where its
 * closing quote is; `undefined` unless it is strict standard base64 (which also rules out an
 * escape, a control character or a non-ASCII byte inside it: `decodeBase64` refuses them all).
 */
function base64At(body: Uint8Array, pos: number): { bytes: Uint8Array; end: number } | undefined {
  const end = body.indexOf(QUOTE, pos);
  if (end < 0) return undefined;
  const text = Buffer.from(body.buffer, body.byteOffset + pos, end - pos).toString('latin1');
  const bytes = decodeBase64(text);
  return bytes === undefined ? undefined : { bytes, end };
}

function onlyWhitespaceFrom(body: Uint8Array, pos: number): boolean {
  for (let i = pos; i < body.length; i++) {
    const c = body[i];
    // RFC 8259 §2: the four insignificant whitespace characters.
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return true;
}

/** The entries of a canonical get-entries body numbered from `start`, or `undefined` (see above). */
export function scanGetEntries(body: Uint8Array, start: number): RawEntryJson[] | undefined {
  if (!at(body, 0, OPEN)) return undefined;
  const out: RawEntryJson[] = [];
  let pos = OPEN.length;
  if (body[pos] === CLOSE_ARRAY) {
    pos++;
  } else {
    for (;;) {
      if (!at(body, pos, LEAF)) return undefined;
      const leaf = base64At(body, pos + LEAF.length);
      if (leaf === undefined || !at(body, leaf.end, EXTRA)) return undefined;
      const extra = base64At(body, leaf.end + EXTRA.length);
      if (extra === undefined || !at(body, extra.end, CLOSE_ITEM)) return undefined;
      out.push({ index: start + out.length, leafInput: leaf.bytes, extraData: extra.bytes });
      pos = extra.end + CLOSE_ITEM.length;
      if (body[pos] === COMMA) {
        pos++;
        continue;
      }
      if (body[pos] !== CLOSE_ARRAY) return undefined;
      pos++;
      break;
    }
  }
  if (body[pos] !== CLOSE_OBJECT || !onlyWhitespaceFrom(body, pos + 1)) return undefined;
  return out;
}
