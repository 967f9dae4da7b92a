/**
 * @module caa/issuers
 * Which CAA issuer-domain identifiers (RFC 8659 §4.2) name the CA that issued a certificate, so the
 * monitor can ask the CAA engine "would the name's current CAA have allowed this issuer?". The
 * shipped table (data/ca-caa-identifiers.json, sources in data/README.md) maps CA owners to their
 * identifiers; the issuer DN's O= attribute picks the owner. A configured mapping wins.
 */
import { readFileSync } from 'node:fs';
import { dataPath } from '../package-files.js';

interface CaEntry {
  ca_owner: string;
  caa_identifiers: string[];
  also_known_as?: string[];
}

let table: CaEntry[] | null = null;

function loadTable(): CaEntry[] {
  // The data file sits at the package root (see package-files.ts: the bundled CLI has no dist/caa).
  table ??= JSON.parse(readFileSync(dataPath('ca-caa-identifiers.json'), 'utf8')) as CaEntry[];
  return table;
}

let known: Set<string> | null = null;

/**
 * Every issuer-domain identifier of the shipped table, lowercased (RFC 8659 §4.2 compares them
 * case-insensitively): the `knownIssuers` of a CAA audit, its unknown-issuer finding.
 */
export function knownCaaIssuers(): Set<string> {
  known ??= new Set(loadTable().flatMap((e) => e.caa_identifiers.map((s) => s.toLowerCase())));
  return known;
}

/** The value of one attribute in an RFC 4514 DN string (first occurrence), unescaped. */
export function dnAttribute(dn: string, type: string): string | null {
  const parts = dn.split(/(?<!\\),/);
  for (const part of parts) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim().toUpperCase() === type.toUpperCase()) {
      return part
        .slice(eq + 1)
        .replace(/\\(.)/g, '$1')
        .trim();
    }
  }
  return null;
}

const norm = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * CAA identifiers for an issuer DN: a configured mapping (keyed by the whole DN or its O=) wins;
 * otherwise the shipped table matched on the O= value against owner names and aliases.
 * An empty list means "unknown issuer": the CAA heuristic is then skipped, not guessed.
 */
export function caaIdentifiersForIssuer(
  issuerDn: string,
  extra: Readonly<Record<string, string[]>> = {},
): string[] {
  const org = dnAttribute(issuerDn, 'O');
  const configured = extra[issuerDn] ?? (org !== null ? extra[org] : undefined);
  if (configured) return configured;
  if (org === null) return [];
  const o = norm(org);
  for (const entry of loadTable()) {
    const names = [entry.ca_owner, ...(entry.also_known_as ?? [])].map(norm);
    if (names.some((n) => n === o || (n.length >= 6 && o.startsWith(n)))) return entry.caa_identifiers;
  }
  return [];
}
