/**
 * @module caa/zonefile
 * A BIND-style master file (RFC 1035 §5.1) reduced to what CAA evaluation needs — CAA, CNAME and
 * DNAME records — served through an in-memory `CaaResolverPort`, so that `evaluateCaa` can run
 * offline against a zone file exactly as it runs against a recursive resolver.
 *
 * Supported syntax: `$ORIGIN`, `$TTL`, relative owner names, `@`, blank owner (previous owner),
 * TTL and class in either order, `;` comments, `( … )` continuation, quoted character-strings with
 * `\X` and `\DDD` escapes (RFC 1035 §5.1), and the RFC 3597 §5 generic form `\# <len> <hex>` for
 * CAA (RDATA = flags(1) tag-length(1) tag value, RFC 8659 §4.1.1). Other types (SOA, NS, A, …)
 * count only as "this name exists".
 */
import { CertvigilError } from '../errors.js';
import type { CaaRecord } from './property.js';
import type { CaaResolverPort, PortRecord, PortResponse } from './types.js';

export interface ZoneRecord {
  /** Lower-case absolute owner name without trailing dot. */
  name: string;
  type: string;
  ttl: number;
  /** CAA records only. */
  caa?: CaaRecord;
  /** CNAME/DNAME target, lower case, no trailing dot. */
  target?: string;
}

export class ZoneParseError extends CertvigilError {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super('ZONE_MALFORMED', `line ${line}: ${message}`);
    this.name = 'ZoneParseError';
  }
}

interface Token {
  text: string;
  /** Raw bytes of a quoted or escaped token (unescaped). */
  bytes: Buffer;
  quoted: boolean;
}

interface Entry {
  line: number;
  /** True when the entry starts with whitespace (owner omitted). */
  blankOwner: boolean;
  tokens: Token[];
}

/** Splits the file into logical entries (parentheses joined, comments dropped). */
function tokenize(text: string): Entry[] {
  const entries: Entry[] = [];
  let current: Entry | null = null;
  let depth = 0;
  let line = 1;
  let i = 0;
  let atLineStart = true;
  const flush = (): void => {
    if (current && current.tokens.length > 0) entries.push(current);
    current = null;
  };
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '\n') {
      line++;
      i++;
      if (depth === 0) flush();
      atLineStart = true;
      continue;
    }
    if (atLineStart && depth === 0) {
      current = { line, blankOwner: ch === ' ' || ch === '\t', tokens: [] };
      atLineStart = false;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      i++;
      continue;
    }
    if (ch === ';') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (ch === '(') {
      depth++;
      i++;
      continue;
    }
    if (ch === ')') {
      if (depth === 0) throw new ZoneParseError('unbalanced ")"', line);
      depth--;
      i++;
      continue;
    }
    const quoted = ch === '"';
    const startLine = line;
    if (quoted) i++;
    const bytes: number[] = [];
    let raw = '';
    for (;;) {
      if (i >= text.length) {
        if (quoted) throw new ZoneParseError('unterminated quoted string', startLine);
        break;
      }
      const c = text[i] as string;
      if (quoted && c === '"') {
        i++;
        break;
      }
      if (
        !quoted &&
        (c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === ';' || c === '(' || c === ')')
      )
        break;
      if (c === '\n') line++;
      if (c === '\\') {
        const digits = text.slice(i + 1, i + 4);
        if (/^[0-9]{3}$/.test(digits)) {
          const v = Number(digits);
          if (v > 255) throw new ZoneParseError(`bad escape \\${digits}`, line);
          bytes.push(v);
          raw += text.slice(i, i + 4);
          i += 4;
          continue;
        }
        const next = text[i + 1];
        if (next === undefined) throw new ZoneParseError('dangling backslash', line);
        bytes.push(...Buffer.from(next, 'utf8'));
        raw += `\\${next}`;
        i += 2;
        continue;
      }
      bytes.push(...Buffer.from(c, 'utf8'));
      raw += c;
      i++;
    }
    current ??= { line, blankOwner: false, tokens: [] };
    current.tokens.push({ text: raw, bytes: Buffer.from(bytes), quoted });
  }
  if (depth !== 0) throw new ZoneParseError('unbalanced "("', line);
  flush();
  return entries;
}

const CLASSES = new Set(['IN', 'CH', 'HS', 'CS']);
const TTL_RE = /^[0-9]+[smhdwSMHDW]?([0-9]+[smhdwSMHDW])*$/;

function parseTtl(s: string): number {
  if (/^[0-9]+$/.test(s)) return Number(s);
  const mult: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  let total = 0;
  for (const m of s.toLowerCase().matchAll(/([0-9]+)([smhdw])/g))
    total += Number(m[1]) * (mult[m[2] ?? 's'] ?? 1);
  return total;
}

function absolute(name: string, origin: string, line: number): string {
  if (name === '@') {
    if (origin === '') throw new ZoneParseError('"@" used without $ORIGIN', line);
    return origin;
  }
  if (name.endsWith('.')) return name.slice(0, -1).toLowerCase();
  if (origin === '') throw new ZoneParseError(`relative name "${name}" without $ORIGIN`, line);
  return `${name}.${origin}`.toLowerCase();
}

function parseCaa(tokens: Token[], line: number): CaaRecord {
  const first = tokens[0];
  if (first && !first.quoted && first.text === '\\#') {
    const len = Number(tokens[1]?.text);
    const hex = tokens
      .slice(2)
      .map((t) => t.text)
      .join('');
    if (!Number.isInteger(len) || !/^([0-9a-fA-F]{2})*$/.test(hex) || hex.length !== len * 2)
      throw new ZoneParseError('bad RFC 3597 generic RDATA', line);
    const rdata = Buffer.from(hex, 'hex');
    const flags = rdata[0];
    const tagLen = rdata[1];
    if (flags === undefined || tagLen === undefined || rdata.length < 2 + tagLen)
      throw new ZoneParseError('CAA RDATA too short', line);
    return {
      flags,
      tag: rdata.subarray(2, 2 + tagLen).toString('latin1'),
      value: rdata.subarray(2 + tagLen).toString('utf8'),
    };
  }
  const [flagsTok, tagTok, ...rest] = tokens;
  if (
    !flagsTok ||
    !tagTok ||
    rest.length !== 1 ||
    !/^[0-9]+$/.test(flagsTok.text) ||
    Number(flagsTok.text) > 255
  )
    throw new ZoneParseError('CAA needs: flags tag "value"', line);
  return { flags: Number(flagsTok.text), tag: tagTok.text, value: (rest[0] as Token).bytes.toString('utf8') };
}

/** Parses a zone file's text. `origin` is the initial $ORIGIN (with or without trailing dot). */
export function parseZone(
  text: string,
  options: { origin?: string; defaultTtl?: number } = {},
): ZoneRecord[] {
  let origin = (options.origin ?? '').replace(/\.$/, '').toLowerCase();
  let defaultTtl = options.defaultTtl ?? 3600;
  let lastOwner: string | null = null;
  const out: ZoneRecord[] = [];
  for (const entry of tokenize(text)) {
    const toks = [...entry.tokens];
    const head = toks[0] as Token;
    if (!head.quoted && head.text.startsWith('$')) {
      const directive = head.text.toUpperCase();
      const arg = toks[1]?.text;
      if (directive === '$ORIGIN' && arg)
        origin = absolute(arg.endsWith('.') ? arg : `${arg}.${origin}.`, '', entry.line);
      else if (directive === '$TTL' && arg && TTL_RE.test(arg)) defaultTtl = parseTtl(arg);
      else if (directive === '$INCLUDE') throw new ZoneParseError('$INCLUDE is not supported', entry.line);
      else throw new ZoneParseError(`bad directive ${head.text}`, entry.line);
      continue;
    }
    let owner: string;
    if (entry.blankOwner) {
      if (lastOwner === null) throw new ZoneParseError('record without owner name', entry.line);
      owner = lastOwner;
    } else {
      owner = absolute((toks.shift() as Token).text, origin, entry.line);
    }
    lastOwner = owner;
    let ttl = defaultTtl;
    for (let k = 0; k < 2; k++) {
      const t = toks[0];
      if (t && TTL_RE.test(t.text)) {
        ttl = parseTtl(t.text);
        toks.shift();
      } else if (t && CLASSES.has(t.text.toUpperCase())) toks.shift();
    }
    const typeTok = toks.shift();
    if (!typeTok) throw new ZoneParseError('record without type', entry.line);
    const type = typeTok.text.toUpperCase();
    if (type === 'CAA' || type === 'TYPE257') {
      out.push({ name: owner, type: 'CAA', ttl, caa: parseCaa(toks, entry.line) });
    } else if (type === 'CNAME' || type === 'DNAME') {
      const t = toks[0];
      if (!t || toks.length !== 1) throw new ZoneParseError(`${type} needs one target`, entry.line);
      out.push({ name: owner, type, ttl, target: absolute(t.text, origin, entry.line) });
    } else {
      out.push({ name: owner, type, ttl });
    }
  }
  return out;
}

function portRecord(r: ZoneRecord): PortRecord {
  if (r.caa) return { name: r.name, type: 'CAA', ttl: r.ttl, data: { type: 'CAA', ...r.caa } };
  return { name: r.name, type: r.type, ttl: r.ttl, data: { type: r.type, target: r.target ?? '' } };
}

/**
 * An authoritative-plus-recursive view of the records: CAA queries are answered with the CAA
 * RRset at the name, after chasing CNAMEs and DNAMEs (RFC 6672 §3.1) inside the records, as a
 * recursive resolver would. A name with no record and no descendant is NXDOMAIN; otherwise NODATA.
 * Answers are unauthenticated (DNSSEC `insecure`).
 */
export class ZoneResolver implements CaaResolverPort {
  private readonly byName = new Map<string, ZoneRecord[]>();

  constructor(records: readonly ZoneRecord[]) {
    for (const r of records) {
      const list = this.byName.get(r.name) ?? [];
      list.push(r);
      this.byName.set(r.name, list);
    }
  }

  private exists(name: string): boolean {
    if (this.byName.has(name)) return true;
    for (const k of this.byName.keys()) if (k.endsWith(`.${name}`)) return true;
    return false;
  }

  private dnameAbove(name: string): ZoneRecord | undefined {
    const labels = name.split('.');
    for (let k = 1; k < labels.length; k++) {
      const anc = labels.slice(k).join('.');
      const d = this.byName.get(anc)?.find((r) => r.type === 'DNAME');
      if (d) return d;
    }
    return undefined;
  }

  query(name: string, _type: 'CAA', _options: { dnssecOk: boolean }): Promise<PortResponse> {
    const answers: PortRecord[] = [];
    let current = name.toLowerCase().replace(/\.$/, '');
    let rcode = 'NOERROR';
    const seen = new Set<string>();
    for (let hop = 0; hop <= 16; hop++) {
      if (seen.has(current)) break;
      seen.add(current);
      const dname = this.dnameAbove(current);
      if (dname?.target !== undefined) {
        answers.push(portRecord(dname));
        const next = `${current.slice(0, current.length - dname.name.length - 1)}.${dname.target}`;
        answers.push({ name: current, type: 'CNAME', ttl: dname.ttl, data: { type: 'CNAME', target: next } });
        current = next;
        continue;
      }
      const here = this.byName.get(current) ?? [];
      const cname = here.find((r) => r.type === 'CNAME');
      if (cname?.target !== undefined) {
        answers.push(portRecord(cname));
        current = cname.target;
        continue;
      }
      const caa = here.filter((r) => r.type === 'CAA');
      answers.push(...caa.map(portRecord));
      if (!this.exists(current)) rcode = 'NXDOMAIN';
      break;
    }
    return Promise.resolve({
      rcode,
      flags: { authenticData: false },
      validation: 'unauthenticated',
      answers,
      authorities: [],
      extendedErrors: [],
    });
  }
}

/** A resolver port over records given as zone-file text. */
export function zoneResolverFromText(text: string, origin?: string): ZoneResolver {
  return new ZoneResolver(parseZone(text, { origin }));
}
