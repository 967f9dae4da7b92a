/**
 * @module iodef/xml
 * Safe XML reading for IODEF reports that arrive from strangers (RFC 8659 §4.4: anyone can send a
 * "report" to a domain's iodef address). IODEF (the RFC 7970 and RFC 5070 schemas) needs nothing beyond
 * namespaced elements, attributes and text, so everything else XML can do is refused up front:
 *
 * - **No DTD at all.** Any `<!DOCTYPE` is `IODEF_UNSAFE`: that closes XXE (external entities),
 *   external DTD fetches and entity-expansion bombs ("billion laughs") in one rule. saxes never
 *   fetches anything and does not expand internal-subset entities, but we do not even let the
 *   document continue.
 * - Only the five predefined entities and numeric character references (saxes' default; anything
 *   else is "undefined entity" → `IODEF_MALFORMED`).
 * - Bounded input size (bytes), element depth and element count → `IODEF_TOO_LARGE`.
 * - Namespaces resolved (saxes `xmlns: true`), so `iodef:Incident` and a default-namespace
 *   `Incident` are the same element.
 *
 * saxes (npm, pure JS, a maintained fork of sax-js that checks well-formedness strictly) does the
 * tokenising; this module only builds a small tree and enforces the limits while it streams.
 */
import { SaxesParser } from 'saxes';
import { CertvigilError, errorMessage } from '../errors.js';
import type { IodefErrorCode } from './errors.js';

/** The error every IODEF function throws on purpose. */
export class IodefError extends CertvigilError {
  declare readonly code: IodefErrorCode;

  constructor(code: IodefErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'IodefError';
  }
}

export interface XmlName {
  /** Namespace URI, '' when none. */
  ns: string;
  local: string;
}

export interface XmlAttr {
  name: XmlName;
  value: string;
}

export interface XmlElement {
  name: XmlName;
  attrs: XmlAttr[];
  children: XmlElement[];
  /** The element's own character data (text and CDATA directly inside it), concatenated. */
  text: string;
}

export interface XmlLimits {
  /** Maximum input size in bytes (UTF-8 for strings). Default 256 KiB. */
  maxBytes?: number;
  /** Maximum element nesting depth. Default 64. */
  maxDepth?: number;
  /** Maximum number of elements. Default 10,000. */
  maxElements?: number;
}

export const DEFAULT_MAX_BYTES = 256 * 1024;
export const DEFAULT_MAX_DEPTH = 64;
export const DEFAULT_MAX_ELEMENTS = 10_000;

/** Attribute lookup by local name (and namespace, '' = unqualified). */
export function attr(el: XmlElement, local: string, ns = ''): string | null {
  for (const a of el.attrs) if (a.name.local === local && a.name.ns === ns) return a.value;
  return null;
}

/** Decode bytes: UTF-8 (with or without BOM) or UTF-16 with a BOM; invalid bytes are malformed. */
function decode(bytes: Uint8Array): string {
  try {
    if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) {
      return new TextDecoder('utf-16le', { fatal: true }).decode(bytes.subarray(2));
    }
    if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
      return new TextDecoder('utf-16be', { fatal: true }).decode(bytes.subarray(2));
    }
    // The XML declaration may name a single-byte encoding (XML 1.0 §4.3.3); the common ones are
    // decoded as such, everything else as UTF-8 (TextDecoder strips a UTF-8 BOM by default).
    const head = String.fromCharCode(...bytes.subarray(0, 200));
    const label = /^<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1]?.toLowerCase();
    if (label === 'iso-8859-1' || label === 'latin1' || label === 'us-ascii' || label === 'ascii') {
      let out = '';
      for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
      return out;
    }
    if (label === 'windows-1252' || label === 'cp1252') {
      return new TextDecoder('windows-1252', { fatal: true }).decode(bytes);
    }
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new IodefError('IODEF_MALFORMED', 'the document is not valid UTF-8/UTF-16 text', { cause });
  }
}

/**
 * Parse `input` into an element tree, or throw `IodefError`. Never returns partial trees; never
 * resolves anything outside the input.
 */
export function parseXml(input: string | Uint8Array, limits: XmlLimits = {}): XmlElement {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  const maxElements = limits.maxElements ?? DEFAULT_MAX_ELEMENTS;

  // Size first, before any decoding or parsing work. A string's UTF-8 length is at least its
  // UTF-16 length, so the exact byte count is only computed when that cheap bound is not decisive.
  const size =
    typeof input === 'string'
      ? input.length > maxBytes
        ? input.length
        : Buffer.byteLength(input, 'utf8')
      : input.byteLength;
  if (size > maxBytes) {
    throw new IodefError('IODEF_TOO_LARGE', `the document is larger than ${maxBytes} bytes`);
  }
  let text = typeof input === 'string' ? input : decode(input);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  // A DOCTYPE may only stand in the prolog (XML 1.0 §2.8): refuse it there before saxes runs, so
  // even an unfinished one is `IODEF_UNSAFE`. saxes' doctype event below is the second line.
  if (prologHasDoctype(text)) {
    throw new IodefError('IODEF_UNSAFE', 'document type declarations (DTDs) are not accepted');
  }

  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let count = 0;

  parser.on('doctype', () => {
    throw new IodefError('IODEF_UNSAFE', 'document type declarations (DTDs) are not accepted');
  });
  parser.on('opentag', (tag) => {
    count += 1;
    if (count > maxElements) {
      throw new IodefError('IODEF_TOO_LARGE', `the document has more than ${maxElements} elements`);
    }
    if (stack.length + 1 > maxDepth) {
      throw new IodefError('IODEF_TOO_LARGE', `the document nests elements deeper than ${maxDepth}`);
    }
    const attrs: XmlAttr[] = [];
    for (const a of Object.values(tag.attributes)) {
      // Namespace declarations are resolved already; they are not data.
      if (a.prefix === 'xmlns' || (a.prefix === '' && a.local === 'xmlns')) continue;
      attrs.push({ name: { ns: a.uri, local: a.local }, value: a.value });
    }
    const el: XmlElement = { name: { ns: tag.uri, local: tag.local }, attrs, children: [], text: '' };
    const parent = stack.at(-1);
    if (parent) parent.children.push(el);
    else root = el;
    stack.push(el);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  const onText = (t: string): void => {
    const top = stack.at(-1);
    if (top) top.text += t;
  };
  parser.on('text', onText);
  parser.on('cdata', onText);

  try {
    parser.write(text).close();
  } catch (err) {
    if (err instanceof IodefError) throw err;
    const message = errorMessage(err);
    throw new IodefError('IODEF_MALFORMED', `not well-formed XML: ${truncate(message, 200)}`, { cause: err });
  }
  if (root === null) throw new IodefError('IODEF_MALFORMED', 'the document has no root element');
  return root;
}

/** Skip whitespace, the XML declaration, PIs and comments; then is the next markup a DOCTYPE? */
function prologHasDoctype(text: string): boolean {
  let i = 0;
  for (;;) {
    while (i < text.length && ' \t\r\n'.includes(text[i] as string)) i++;
    if (text.startsWith('<?', i)) {
      const end = text.indexOf('?>', i + 2);
      if (end === -1) return false;
      i = end + 2;
    } else if (text.startsWith('<!--', i)) {
      const end = text.indexOf('-->', i + 4);
      if (end === -1) return false;
      i = end + 3;
    } else {
      return text.slice(i, i + 9).toUpperCase() === '<!DOCTYPE';
    }
  }
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}
