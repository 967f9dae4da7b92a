/**
 * @module lab/dns/zone
 * `LabZone`: the victim's zone held in memory, changed live between scenario steps, and the pure
 * lookup an authoritative server runs for one question (RFC 1034 §4.3.2, negative answers per
 * RFC 2308). The wire format and the sockets are elsewhere (respond.ts, responder.ts).
 */
import { LabError } from '../errors.js';
import {
  LAB_RR_TYPES,
  checkTtl,
  isAtOrBelow,
  labName,
  normaliseRdata,
  type LabRdata,
  type LabRrType,
  type LabSoa,
  type StoredRdata,
  type ZoneRr,
} from './records.js';
import { parseZoneText, zoneText } from './zone-text.js';

export interface LabZoneOptions {
  /** The zone apexes, e.g. `['lab']`. Apexes may not nest (that would need a delegation). */
  apexes: readonly string[];
  /** TTL of records set without one, and of the default SOA and NS. Default 60 s. */
  ttl?: number;
  /** The address of the `ns.<apex>` name server the default NS names. Default 127.0.0.1. */
  nsAddress?: string;
  /** The first SOA serial of each apex. Default 1. */
  serial?: number;
}

/** What an authoritative server answers to one question (before it becomes wire bytes). */
export interface ZoneAnswer {
  /** REFUSED: the name is outside every apex (we are not authoritative, and do not recurse). */
  rcode: 'NOERROR' | 'NXDOMAIN' | 'REFUSED';
  authoritative: boolean;
  answers: ZoneRr[];
  authorities: ZoneRr[];
  additionals: ZoneRr[];
}

/** Alias chains longer than this stop where they are (resolvers use similar bounds). */
const MAX_CNAME_HOPS = 16;

interface Rrset {
  ttl: number;
  records: readonly StoredRdata[LabRrType][];
}

/**
 * An in-memory zone (or several, one per apex). Every `set` replaces one RRset and bumps the
 * apex's SOA serial, so a secondary or a cache would see the change (RFC 1996 §3.3's reason).
 *
 * @example
 * const zone = new LabZone({ apexes: ['lab'] });
 * zone.set('jabber.lab', 'A', ['127.0.0.1']);
 * zone.set('jabber.lab', 'CAA', [{ flags: 0, tag: 'issue', value: 'ca.lab; accounturi=https://ca.lab/acme/acct/1' }]);
 * zone.toZoneText(); // "$ORIGIN lab.\n…"
 */
export class LabZone {
  readonly apexes: readonly string[];
  readonly defaultTtl: number;
  /** name → type → RRset. Names canonical (lower case, no trailing dot). */
  private readonly nodes = new Map<string, Map<LabRrType, Rrset>>();

  constructor(options: LabZoneOptions) {
    this.defaultTtl = checkTtl(options.ttl ?? 60);
    const apexes = options.apexes.map(labName);
    if (apexes.length === 0) throw new LabError('LAB_INVALID_REQUEST', 'a zone needs at least one apex');
    for (const a of apexes) {
      const clash = apexes.find((b) => b !== a && isAtOrBelow(a, b));
      if (clash || apexes.indexOf(a) !== apexes.lastIndexOf(a))
        throw new LabError('LAB_INVALID_REQUEST', `apex ${a} is ${clash ? `below ${clash}` : 'repeated'}`);
    }
    this.apexes = apexes;
    for (const apex of apexes) {
      const ns = `ns.${apex}`;
      this.put(apex, 'SOA', {
        ttl: this.defaultTtl,
        records: [
          normaliseRdata('SOA', {
            mname: ns,
            rname: `hostmaster.${apex}`,
            serial: options.serial ?? 1,
            refresh: 3600,
            retry: 600,
            expire: 86400,
            // RFC 2308 §4: MINIMUM is the negative-caching TTL; short, as lab records change.
            minimum: this.defaultTtl,
          }),
        ],
      });
      this.put(apex, 'NS', { ttl: this.defaultTtl, records: [ns] });
      this.put(ns, 'A', {
        ttl: this.defaultTtl,
        records: [normaliseRdata('A', options.nsAddress ?? '127.0.0.1')],
      });
    }
  }

  /** Reads a master file written by `toZoneText` (or any using the same types); apexes = SOA owners. */
  static fromZoneText(text: string): LabZone {
    const rrs = parseZoneText(text);
    const apexes = rrs.filter((r) => r.type === 'SOA').map((r) => r.name);
    const zone = new LabZone({ apexes });
    const sets = new Map<string, { name: string; type: LabRrType; ttl: number; records: unknown[] }>();
    for (const rr of rrs) {
      const key = `${rr.name}/${rr.type}`;
      const set = sets.get(key) ?? { name: rr.name, type: rr.type, ttl: rr.ttl, records: [] };
      set.ttl = Math.min(set.ttl, rr.ttl); // RFC 2181 §5.2: one TTL per RRset
      set.records.push(rr.data);
      sets.set(key, set);
    }
    // The constructor's default `ns.<apex>` address is not the file's unless the file has it.
    for (const apex of apexes) {
      const key = `ns.${apex}/A`;
      if (!sets.has(key)) sets.set(key, { name: `ns.${apex}`, type: 'A', ttl: zone.defaultTtl, records: [] });
    }
    // SOA last: every other `set` bumps the serial, the file's own serial must win.
    const ordered = [...sets.values()].sort((a, b) => Number(a.type === 'SOA') - Number(b.type === 'SOA'));
    for (const s of ordered) zone.set(s.name, s.type, s.records as LabRdata[LabRrType][], { ttl: s.ttl });
    return zone;
  }

  /** The apex `name` lies in, or null when it is outside every apex. */
  apexOf(name: string): string | null {
    const n = name.toLowerCase().replace(/\.$/, '');
    return this.apexes.find((a) => isAtOrBelow(n, a)) ?? null;
  }

  /** The current SOA serial of `apex` (default: the first apex). */
  serial(apex: string = this.apexes[0] as string): number {
    return this.soaOf(labName(apex)).serial;
  }

  /**
   * Replaces the RRset `name`/`type` with `records` (an empty list deletes it) and bumps the
   * apex's serial (unless the RRset is the SOA itself). Returns the apex's new serial. Throws
   * LAB_INVALID_REQUEST for a name outside the zone, bad data, or what RFC 1034 forbids.
   */
  set<T extends LabRrType>(
    name: string,
    type: T,
    records: readonly LabRdata[T][],
    options: { ttl?: number } = {},
  ): number {
    const owner = labName(name);
    const apex = this.apexOf(owner);
    if (apex === null)
      throw new LabError('LAB_INVALID_REQUEST', `${owner} is outside the zone (${this.apexes.join(', ')})`);
    if (!LAB_RR_TYPES.includes(type))
      throw new LabError('LAB_INVALID_REQUEST', `type ${String(type)} is not served`);
    const ttl = checkTtl(options.ttl ?? this.defaultTtl);
    const stored = records.map((r) => normaliseRdata(type, r));
    const unique = [...new Map(stored.map((r) => [JSON.stringify(r), r])).values()];
    const others = [...(this.nodes.get(owner)?.keys() ?? [])].filter((t) => t !== type);
    if (type === 'SOA' && (owner !== apex || unique.length !== 1))
      throw new LabError('LAB_INVALID_REQUEST', 'exactly one SOA, at the apex');
    // The responder answers authoritatively for everything below the apex: it gives no referrals.
    if (type === 'NS' && (owner !== apex || unique.length === 0))
      throw new LabError('LAB_INVALID_REQUEST', 'NS only at the apex, never empty (no delegations)');
    // RFC 1034 §3.6.2, RFC 2181 §10.1: a CNAME is alone at its name, one record, never at an apex.
    if (type === 'CNAME' && unique.length > 0 && (owner === apex || unique.length !== 1 || others.length > 0))
      throw new LabError('LAB_INVALID_REQUEST', `a CNAME must be the only record at ${owner} (not an apex)`);
    if (type !== 'CNAME' && unique.length > 0 && others.includes('CNAME'))
      throw new LabError('LAB_INVALID_REQUEST', `${owner} holds a CNAME: nothing else may live there`);
    if (unique.length === 0) this.remove(owner, type);
    else this.put(owner, type, { ttl, records: unique });
    if (type !== 'SOA') {
      const soa = this.soaOf(apex);
      // RFC 1982 §3.1: serial addition wraps modulo 2^32.
      this.put(apex, 'SOA', {
        ttl: this.ttlOf(apex, 'SOA'),
        records: [{ ...soa, serial: (soa.serial + 1) >>> 0 }],
      });
    }
    return this.serial(apex);
  }

  /** The records of one RRset (copies), empty when there is none. */
  get<T extends LabRrType>(name: string, type: T): StoredRdata[T][] {
    const set = this.nodes.get(name.toLowerCase().replace(/\.$/, ''))?.get(type);
    return (set?.records ?? []).map((r) => structuredClone(r)) as StoredRdata[T][];
  }

  /** Every record of `apex` (default: all apexes): SOA first, then by name in canonical order. */
  records(apex?: string): ZoneRr[] {
    const only = apex === undefined ? null : labName(apex);
    const names = [...this.nodes.keys()]
      .filter((n) => (only === null ? true : this.apexOf(n) === only))
      .sort(canonicalOrder);
    const out: ZoneRr[] = [];
    for (const name of names) {
      const node = this.nodes.get(name) as Map<LabRrType, Rrset>;
      for (const type of LAB_RR_TYPES) out.push(...this.rrsOf(name, type, node.get(type)));
    }
    return out;
  }

  /** RFC 1035 master-file text of one apex (default: the only one). */
  toZoneText(apex?: string): string {
    if (apex === undefined && this.apexes.length !== 1)
      throw new LabError('LAB_INVALID_REQUEST', `the zone has ${this.apexes.length} apexes: name one`);
    const which = labName(apex ?? (this.apexes[0] as string));
    if (!this.apexes.includes(which)) throw new LabError('LAB_INVALID_REQUEST', `${which} is not an apex`);
    return zoneText(which, this.defaultTtl, this.records(which));
  }

  /**
   * RFC 1034 §4.3.2 step 3 for one question: `qname` in any case, with or without trailing dot;
   * `qtype` a type name (`'CAA'`, `'ANY'`, or anything else, which finds no data). Pure.
   */
  lookup(qname: string, qtype: string): ZoneAnswer {
    const answer: ZoneAnswer = {
      rcode: 'NOERROR',
      authoritative: true,
      answers: [],
      authorities: [],
      additionals: [],
    };
    let current = qname.toLowerCase().replace(/\.$/, '');
    let apex = this.apexOf(current);
    if (apex === null) return { ...answer, rcode: 'REFUSED', authoritative: false };
    const seen = new Set<string>();
    for (let hop = 0; ; hop++) {
      const node = this.nodes.get(current);
      const cname = node?.get('CNAME');
      // RFC 1034 §4.3.2 3a: a CNAME at the name answers every type but CNAME, and is followed.
      if (cname && qtype !== 'CNAME' && qtype !== 'ANY') {
        answer.answers.push(...this.rrsOf(current, 'CNAME', cname));
        seen.add(current);
        const target = cname.records[0] as string;
        const targetApex = this.apexOf(target);
        // Outside our data, or a loop, or too long: the chain so far is the answer (the resolver
        // chases the rest, or gives up on the loop, as RFC 1034 §3.6.2 leaves to it).
        if (targetApex === null || seen.has(target) || hop >= MAX_CNAME_HOPS) return answer;
        current = target;
        apex = targetApex;
        continue;
      }
      const types = qtype === 'ANY' ? [...(node?.keys() ?? [])] : isServed(qtype) ? [qtype] : [];
      for (const t of types) answer.answers.push(...this.rrsOf(current, t, node?.get(t)));
      const found = answer.answers.some((r) => r.name === current);
      if (found && qtype === 'NS') answer.additionals.push(...this.glue(answer.answers));
      if (!found) {
        // RFC 2308 §2.1/§2.2: NXDOMAIN only when no node exists, which an empty non-terminal
        // (a name with descendants but no records, RFC 8020 §2) does; either way the SOA goes in
        // the authority section with TTL min(SOA TTL, MINIMUM) (RFC 2308 §3).
        if (!this.exists(current)) answer.rcode = 'NXDOMAIN';
        const soa = this.rrsOf(apex, 'SOA', this.nodes.get(apex)?.get('SOA'))[0];
        if (soa?.type === 'SOA')
          answer.authorities.push({ ...soa, ttl: Math.min(soa.ttl, soa.data.minimum) });
      }
      return answer;
    }
  }

  private exists(name: string): boolean {
    if (this.nodes.has(name)) return true;
    for (const n of this.nodes.keys()) if (n.endsWith(`.${name}`)) return true;
    return false;
  }

  /** In-zone addresses of the name servers an NS answer names (RFC 1034 §4.3.2 step 6). */
  private glue(answers: readonly ZoneRr[]): ZoneRr[] {
    const out: ZoneRr[] = [];
    for (const rr of answers) {
      if (rr.type !== 'NS') continue;
      const node = this.nodes.get(rr.data);
      out.push(
        ...this.rrsOf(rr.data, 'A', node?.get('A')),
        ...this.rrsOf(rr.data, 'AAAA', node?.get('AAAA')),
      );
    }
    return out;
  }

  private rrsOf(name: string, type: LabRrType, set: Rrset | undefined): ZoneRr[] {
    if (!set) return [];
    return set.records.map((data) => ({ name, type, ttl: set.ttl, data: structuredClone(data) }) as ZoneRr);
  }

  private soaOf(apex: string): LabSoa {
    const soa = this.nodes.get(apex)?.get('SOA')?.records[0];
    if (!soa) throw new LabError('LAB_INVALID_REQUEST', `${apex} is not an apex of this zone`);
    return soa as LabSoa;
  }

  private ttlOf(name: string, type: LabRrType): number {
    return this.nodes.get(name)?.get(type)?.ttl ?? this.defaultTtl;
  }

  private put(name: string, type: LabRrType, set: Rrset): void {
    let node = this.nodes.get(name);
    if (!node) this.nodes.set(name, (node = new Map()));
    node.set(type, set);
  }

  private remove(name: string, type: LabRrType): void {
    const node = this.nodes.get(name);
    node?.delete(type);
    if (node?.size === 0) this.nodes.delete(name);
  }
}

function isServed(type: string): type is LabRrType {
  return (LAB_RR_TYPES as readonly string[]).includes(type);
}

/** RFC 4034 §6.1 canonical order: compare label by label from the right. */
function canonicalOrder(a: string, b: string): number {
  const la = a.split('.').reverse();
  const lb = b.split('.').reverse();
  for (let i = 0; i < Math.min(la.length, lb.length); i++) {
    const x = la[i] as string;
    const y = lb[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return la.length - lb.length;
}
