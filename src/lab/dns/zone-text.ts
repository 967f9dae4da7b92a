/**
 * @module lab/dns/zone-text
 * The lab's zone as an RFC 1035 §5 master file and back: what `certvigil lab --keep DIR` leaves
 * on disk, readable by Knot (`kzonecheck`, `knotc zone-check`), BIND (`named-checkzone`), NSD
 * (`nsd-checkzone`) and src/caa's `parseZone`. Pure text in, text out.
 *
 * The reader takes what the writer writes plus the common hand-written forms: `$ORIGIN`, `$TTL`,
 * `@`, relative owners, a blank owner (the previous one), TTL and class in either order, `;`
 * comments, `( … )` continuation, quoted strings with `\X` and `\DDD` escapes (RFC 1035 §5.1).
 * It reads only the seven types the lab serves; anything else (or `$INCLUDE`) is refused.
 */
import { LabError } from '../errors.js';
import { isLabRrType, presentRecord, type LabRdata, type LabRrType, type ZoneRr } from './records.js';

/** The master file of one apex: `$ORIGIN`, `$TTL`, then one absolute line per record. */
export function zoneText(apex: string, ttl: number, records: readonly ZoneRr[]): string {
  const soa = records.find((r) => r.type === 'SOA');
  const serial = soa?.type === 'SOA' ? soa.data.serial : 0;
  const lines = [
    `; zone ${apex}. serial ${serial}, written by certvigil lab (RFC 1035 §5 master file)`,
    `$ORIGIN ${apex}.`,
    `$TTL ${ttl}`,
    ...records.map(presentRecord),
  ];
  return `${lines.join('\n')}\n`;
}

/** One record as read from a master file (RDATA in the form `LabZone.set` takes). */
export type ParsedRr = {
  [T in LabRrType]: { name: string; type: T; ttl: number; data: LabRdata[T] };
}[LabRrType];

interface Token {
  text: string;
  /** The bytes the token stands for, escapes resolved. */
  bytes: Buffer;
}

interface Entry {
  line: number;
  blankOwner: boolean;
  tokens: Token[];
}

function bad(line: number, message: string): LabError {
  return new LabError('LAB_INVALID_REQUEST', `zone text line ${line}: ${message}`);
}

/** Splits the text into entries: parentheses joined, comments dropped, escapes resolved. */
function entries(text: string): Entry[] {
  const out: Entry[] = [];
  let current: Entry | null = null;
  let depth = 0;
  let line = 1;
  let i = 0;
  let lineStart = true;
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '\n') {
      line++;
      i++;
      lineStart = true;
      if (depth === 0 && current) {
        if (current.tokens.length > 0) out.push(current);
        current = null;
      }
      continue;
    }
    if (lineStart && depth === 0) current = { line, blankOwner: ch === ' ' || ch === '\t', tokens: [] };
    lineStart = false;
    if (ch === ' ' || ch === '\t' || ch === '\r') i++;
    else if (ch === ';') while (i < text.length && text[i] !== '\n') i++;
    else if (ch === '(' || ch === ')') {
      depth += ch === '(' ? 1 : -1;
      if (depth < 0) throw bad(line, 'unbalanced ")"');
      i++;
    } else {
      const quoted = ch === '"';
      if (quoted) i++;
      const bytes: number[] = [];
      let raw = '';
      for (;;) {
        const c = text[i];
        if (c === undefined) {
          if (quoted) throw bad(line, 'unterminated quoted string');
          break;
        }
        if (quoted ? c === '"' : /[\s;()]/.test(c)) {
          if (quoted) i++;
          break;
        }
        if (c === '\n') line++;
        if (c === '\\') {
          const ddd = /^[0-9]{3}/.exec(text.slice(i + 1, i + 4))?.[0];
          const next = ddd ?? text[i + 1];
          if (next === undefined) throw bad(line, 'dangling backslash');
          if (ddd !== undefined && Number(ddd) > 255) throw bad(line, `bad escape \\${ddd}`);
          bytes.push(...(ddd !== undefined ? [Number(ddd)] : Buffer.from(next, 'utf8')));
          raw += `\\${next}`;
          i += 1 + next.length;
          continue;
        }
        bytes.push(...Buffer.from(c, 'utf8'));
        raw += c;
        i++;
      }
      current ??= { line, blankOwner: false, tokens: [] };
      current.tokens.push({ text: raw, bytes: Buffer.from(bytes) });
    }
  }
  if (depth !== 0) throw bad(line, 'unbalanced "("');
  if (current && current.tokens.length > 0) out.push(current);
  return out;
}

const TTL_RE = /^([0-9]+[smhdw]?)+$/i;
const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

function ttlOf(text: string): number {
  if (/^[0-9]+$/.test(text)) return Number(text);
  let total = 0;
  for (const m of text.toLowerCase().matchAll(/([0-9]+)([smhdw]?)/g))
    total += Number(m[1]) * (UNIT[m[2] || 's'] ?? 1);
  return total;
}

function absolute(name: string, origin: string | null, line: number): string {
  if (name === '@' || name.endsWith('.')) {
    const full = name === '@' ? origin : name.slice(0, -1);
    if (full === null) throw bad(line, '"@" before $ORIGIN');
    return full.toLowerCase();
  }
  if (origin === null) throw bad(line, `relative name ${name} before $ORIGIN`);
  return `${name}.${origin}`.toLowerCase();
}

function rdata(type: LabRrType, toks: Token[], origin: string | null, line: number): LabRdata[LabRrType] {
  const text = toks.map((t) => t.text);
  const need = (n: number): void => {
    if (toks.length !== n) throw bad(line, `${type} needs ${n} field(s), found ${toks.length}`);
  };
  switch (type) {
    case 'A':
    case 'AAAA':
      need(1);
      return text[0] as string;
    case 'NS':
    case 'CNAME':
      need(1);
      return absolute(text[0] as string, origin, line);
    case 'TXT':
      if (toks.length === 0) throw bad(line, 'TXT needs a string');
      return toks.map((t) => t.bytes.toString('utf8'));
    case 'CAA': {
      need(3);
      const flags = Number(text[0]);
      if (!/^[0-9]+$/.test(text[0] as string)) throw bad(line, 'CAA flags must be a number');
      return { flags, tag: text[1] as string, value: (toks[2] as Token).bytes.toString('utf8') };
    }
    case 'SOA': {
      need(7);
      const n = text.slice(2).map((t) => ttlOf(t));
      return {
        mname: absolute(text[0] as string, origin, line),
        rname: absolute(text[1] as string, origin, line),
        serial: n[0] as number,
        refresh: n[1] as number,
        retry: n[2] as number,
        expire: n[3] as number,
        minimum: n[4] as number,
      };
    }
  }
}

/** Reads a master file into records (names lower case, no trailing dot); RDATA not yet checked. */
export function parseZoneText(text: string, options: { origin?: string } = {}): ParsedRr[] {
  let origin = options.origin === undefined ? null : options.origin.replace(/\.$/, '').toLowerCase();
  let defaultTtl: number | null = null;
  let owner: string | null = null;
  const out: ParsedRr[] = [];
  for (const entry of entries(text)) {
    const toks = [...entry.tokens];
    const head = (toks[0] as Token).text;
    if (head.startsWith('$')) {
      const arg = toks[1]?.text;
      if (head.toUpperCase() === '$ORIGIN' && arg) origin = absolute(arg, origin, entry.line);
      else if (head.toUpperCase() === '$TTL' && arg && TTL_RE.test(arg)) defaultTtl = ttlOf(arg);
      else throw bad(entry.line, `unsupported directive ${head}`);
      continue;
    }
    if (!entry.blankOwner) owner = absolute((toks.shift() as Token).text, origin, entry.line);
    if (owner === null) throw bad(entry.line, 'record without an owner');
    let ttl = defaultTtl;
    for (let k = 0; k < 2; k++) {
      const t = toks[0]?.text ?? '';
      if (TTL_RE.test(t)) ttl = ttlOf(t);
      else if (t.toUpperCase() !== 'IN') break;
      toks.shift();
    }
    const type = (toks.shift()?.text ?? '').toUpperCase();
    if (!isLabRrType(type)) throw bad(entry.line, `type ${type || '(none)'} is not one the lab serves`);
    if (ttl === null) throw bad(entry.line, 'no TTL and no $TTL before it');
    out.push({ name: owner, type, ttl, data: rdata(type, toks, origin, entry.line) } as ParsedRr);
  }
  return out;
}
