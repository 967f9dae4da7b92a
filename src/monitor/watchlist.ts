/**
 * @module monitor/watchlist
 * Which names to watch, in certspotter's watch-list syntax (monitor/watchlist.go, 0.24):
 * `example.com` watches exactly that name, `.example.com` watches it and every subdomain, `.`
 * alone watches every name; `valid_at:…` fields after the name are ignored (certspotter keeps them
 * for backwards compatibility), a trailing dot is dropped, lines starting with `#` and blank lines
 * are skipped. Names may be given in Unicode (converted to A-labels).
 *
 * Stricter than certspotter on purpose: its IDNA step is the lenient Punycode profile, so it takes
 * `example..test` or `https://x.test/` and then silently never matches anything. Here an entry
 * that can never match a certificate name is an error naming FILE:LINE, with a hint when the
 * intent is clear (`*.foo.test` → write `.foo.test`). Looser only where it costs nothing: a `#`
 * after the name starts a comment, and whitespace-only lines are blank.
 *
 * Matching is on the hot path of CT monitoring: a few Set lookups per certificate name. A
 * certificate's wildcard label matches the names it covers.
 */
import { domainToASCII } from 'node:url';
import { CertvigilError } from '../errors.js';
import { isSafeText, sanitizeText } from '../sanitize.js';

export interface WatchList {
  /** Entries as given (normalised), for display. */
  readonly entries: readonly string[];
  matches(certName: string): boolean;
  /** The watched entries a certificate name matches (for explanations). */
  matchingEntries(certName: string): string[];
}

/** A watch list (file or config `names:`) that cannot be used; the message names FILE:LINE. */
export class WatchListError extends CertvigilError {
  constructor(message: string) {
    super('WATCHLIST_INVALID', message);
    this.name = 'WatchListError';
  }
}

/** One parsed entry: `name` in A-labels ('' with `suffix` for `.`, every name). */
export interface WatchEntry {
  name: string;
  suffix: boolean;
}

/** RFC 1035 §2.3.4: labels of 63 octets or less, names of 255 octets or less on the wire (253 as text). */
const MAX_LABEL = 63;
const MAX_NAME = 253;
/** What a certificate dNSName label holds after IDNA: letters, digits, hyphens; `_` appears in logged certificates. */
const LABEL_RE = /^[a-z0-9_-]+$/;

/** Shows outside text in a message: escaped, quoted, bounded. */
function show(text: string): string {
  return `"${sanitizeText(text, { maxLength: 80 })}"`;
}

/**
 * Parses one non-blank, non-comment line (or config `names:` item). Throws a `WatchListError`
 * whose message is the reason alone: the caller adds FILE:LINE.
 */
export function parseWatchEntry(line: string): WatchEntry | null {
  // certspotter splits on whitespace (strings.Fields); a tab is whitespace, not a control here.
  const spaced = line.replaceAll('\t', ' ');
  if (!isSafeText(spaced)) {
    throw new WatchListError(`control or invisible character in ${show(line)}: a DNS name has none`);
  }
  const fields = spaced.trim().split(/\s+/);
  const raw = fields[0] ?? '';
  if (raw === '' || raw.startsWith('#')) return null;
  for (const field of fields.slice(1)) {
    if (field.startsWith('#')) break; // a comment after the name
    if (field.startsWith('valid_at:')) continue; // certspotter: "Ignore for backwards compatibility"
    throw new WatchListError(
      `unexpected ${show(field)} after ${show(raw)}: a name has no spaces, and only valid_at:… may follow it`,
    );
  }
  if (raw === '.') return { name: '', suffix: true };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) {
    let host = '';
    try {
      host = new URL(raw).hostname;
    } catch {
      // no usable host: the hint stays generic
    }
    throw new WatchListError(`${show(raw)} is a URL, not a name${host ? `: write ${host}` : ''}`);
  }
  const suffix = raw.startsWith('.');
  let name = suffix ? raw.slice(1) : raw;
  if (name.startsWith('*.')) {
    throw new WatchListError(
      `a wildcard is not a watch-list entry: write .${name.slice(2).replace(/\.+$/, '')} to watch ${name.slice(2).replace(/\.+$/, '')} and every name under it`,
    );
  }
  if (name.includes('*'))
    throw new WatchListError(`"*" in ${show(raw)}: write the name, or .name for a whole subtree`);
  if (/[/:@?#[\]\\]/.test(name))
    throw new WatchListError(`${show(raw)} is not a DNS name (it holds one of / : @ ? # [ ] \\)`);
  // certspotter: strings.TrimRight(domain, ".") — the root label of a fully qualified name.
  name = name.replace(/\.+$/, '');
  if (name === '') throw new WatchListError(`${show(raw)} names nothing: write . to watch every name`);
  const ascii = domainToASCII(name.toLowerCase());
  if (ascii === '') throw new WatchListError(`${show(raw)} is not a valid (internationalised) DNS name`);
  if (ascii.length > MAX_NAME)
    throw new WatchListError(
      `${show(raw)} is ${ascii.length} characters long; a DNS name has at most ${MAX_NAME}`,
    );
  for (const label of ascii.split('.')) {
    if (label === '') throw new WatchListError(`${show(raw)} has an empty label (two dots in a row)`);
    if (label.length > MAX_LABEL)
      throw new WatchListError(
        `${show(raw)} has a label of ${label.length} characters; at most ${MAX_LABEL}`,
      );
    if (!LABEL_RE.test(label))
      throw new WatchListError(`${show(raw)} has a label no certificate name can hold: ${show(label)}`);
  }
  return { name: ascii, suffix };
}

/**
 * Parses the file format. `source` names the file in messages (`FILE:LINE: reason`). Bytes are
 * checked first: a binary file (NUL bytes, not UTF-8) is refused as a whole, never echoed.
 */
export function parseWatchList(input: string | Uint8Array, source = 'watch list'): WatchList {
  return buildFromEntries(parseWatchListEntries(input, source));
}

export function parseWatchListEntries(input: string | Uint8Array, source = 'watch list'): WatchEntry[] {
  const where = sanitizeText(source, { maxLength: 200 });
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    if (input.includes(0)) throw new WatchListError(`${where}: binary content (NUL bytes): not a watch list`);
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      throw new WatchListError(`${where}: not UTF-8 text: not a watch list`);
    }
  }
  if (text.includes('\u0000'))
    throw new WatchListError(`${where}: binary content (NUL bytes): not a watch list`);
  const entries: WatchEntry[] = [];
  // Go's bufio.ScanLines: split on LF, drop one trailing CR. A leading BOM is no part of a name.
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  lines.forEach((rawLine, i) => {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    try {
      const entry = parseWatchEntry(line);
      if (entry !== null) entries.push(entry);
    } catch (err) {
      throw new WatchListError(`${where}:${i + 1}: ${(err as Error).message}`);
    }
  });
  return entries;
}

/** A watch list from single names (the config's `names:`); `where(i)` names item i in messages. */
export function buildWatchList(
  names: readonly string[],
  where: (index: number) => string = (i) => `names[${i}]`,
): WatchList {
  const entries: WatchEntry[] = [];
  names.forEach((raw, i) => {
    let entry: WatchEntry | null;
    try {
      entry = parseWatchEntry(raw);
    } catch (err) {
      throw new WatchListError(`${where(i)}: ${(err as Error).message}`);
    }
    if (entry === null) throw new WatchListError(`${where(i)}: empty name`);
    entries.push(entry);
  });
  return buildFromEntries(entries);
}

export function buildFromEntries(list: readonly WatchEntry[]): WatchList {
  const exact = new Set<string>();
  const suffix = new Set<string>();
  const entries: string[] = [];
  let all = false;
  for (const e of list) {
    if (e.suffix && e.name === '') all = true;
    else (e.suffix ? suffix : exact).add(e.name);
    const shown = e.suffix ? `.${e.name}` : e.name;
    if (!entries.includes(shown)) entries.push(shown);
  }
  // A wildcard certificate "*.base" covers every name one label below base.
  const parentsOfWatched = new Set<string>();
  for (const n of [...exact, ...suffix]) {
    const dot = n.indexOf('.');
    if (dot > 0) parentsOfWatched.add(n.slice(dot + 1));
  }

  const suffixMatch = (name: string): string | null => {
    let n = name;
    for (;;) {
      if (suffix.has(n)) return n;
      const dot = n.indexOf('.');
      if (dot < 0) return null;
      n = n.slice(dot + 1);
    }
  };

  const matchingEntries = (certName: string): string[] => {
    const n = certName.toLowerCase().replace(/\.$/, '');
    const out: string[] = [];
    if (n.startsWith('*.')) {
      const base = n.slice(2);
      const s = suffixMatch(base);
      if (s !== null) out.push(`.${s}`);
      if (parentsOfWatched.has(base)) {
        for (const e of exact) if (e.slice(e.indexOf('.') + 1) === base) out.push(e);
        for (const e of suffix) if (e.slice(e.indexOf('.') + 1) === base) out.push(`.${e}`);
      }
    } else {
      if (exact.has(n)) out.push(n);
      const s = suffixMatch(n);
      if (s !== null) out.push(`.${s}`);
    }
    if (all) out.push('.');
    return [...new Set(out)];
  };

  return {
    entries,
    matches(certName) {
      if (all) return true;
      const n = certName.toLowerCase().replace(/\.$/, '');
      if (n.startsWith('*.')) {
        const base = n.slice(2);
        return parentsOfWatched.has(base) || suffixMatch(base) !== null;
      }
      return exact.has(n) || suffixMatch(n) !== null;
    },
    matchingEntries,
  };
}
