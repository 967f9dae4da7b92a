/**
 * @module monitor/watchlist
 * Which names to watch, in certspotter's watch-list syntax: `example.com` watches exactly that
 * name, `.example.com` watches it and every subdomain; `#` starts a comment. Names may be given
 * in Unicode (converted to A-labels). A certificate's wildcard label matches the names it covers.
 * Matching is on the hot path of CT monitoring: a few Set lookups per certificate name.
 */
import { domainToASCII } from 'node:url';

export interface WatchList {
  /** Entries as given (normalised), for display. */
  readonly entries: readonly string[];
  matches(certName: string): boolean;
  /** The watched entries a certificate name matches (for explanations). */
  matchingEntries(certName: string): string[];
}

export class WatchListError extends Error {
  readonly code = 'WATCHLIST_INVALID';
}

function normalize(name: string): string {
  const lower = name.trim().toLowerCase().replace(/\.$/, '');
  const ascii = domainToASCII(lower);
  return ascii === '' ? lower : ascii;
}

/** Parses the file format: one name per line, `#` comments, blank lines ignored. */
export function parseWatchList(text: string): WatchList {
  const lines = text
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l !== '');
  return buildWatchList(lines);
}

export function buildWatchList(names: readonly string[]): WatchList {
  const exact = new Set<string>();
  const suffix = new Set<string>();
  const entries: string[] = [];
  for (const raw of names) {
    const isSuffix = raw.trim().startsWith('.');
    const name = normalize(isSuffix ? raw.trim().slice(1) : raw);
    if (name === '' || name.includes(' ') || name.includes('*'))
      throw new WatchListError(`invalid watch-list entry ${JSON.stringify(raw)}`);
    (isSuffix ? suffix : exact).add(name);
    entries.push(isSuffix ? `.${name}` : name);
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
    const n = certName.toLowerCase();
    const out: string[] = [];
    if (n.startsWith('*.')) {
      const base = n.slice(2);
      const s = suffixMatch(base);
      if (s !== null) out.push(`.${s}`);
      if (parentsOfWatched.has(base)) {
        for (const e of exact) if (e.slice(e.indexOf('.') + 1) === base) out.push(e);
        for (const e of suffix) if (e.slice(e.indexOf('.') + 1) === base) out.push(`.${e}`);
      }
      return [...new Set(out)];
    }
    if (exact.has(n)) out.push(n);
    const s = suffixMatch(n);
    if (s !== null) out.push(`.${s}`);
    return out;
  };

  return {
    entries,
    matches(certName) {
      const n = certName.toLowerCase();
      if (n.startsWith('*.')) {
        const base = n.slice(2);
        return parentsOfWatched.has(base) || suffixMatch(base) !== null;
      }
      return exact.has(n) || suffixMatch(n) !== null;
    },
    matchingEntries,
  };
}
