/**
 * @module lab/dns/records
 * The record types the lab's zone holds (A, AAAA, CAA, TXT, NS, SOA, CNAME), their checks, their
 * master-file presentation (RFC 1035 §5.1, RFC 8659 §4.1.1) and their wire form for `dns-packet`.
 * Pure: no sockets, no clock.
 */
import net from 'node:net';
import type { Answer } from 'dns-packet';
import { LabError } from '../errors.js';

/** RFC 1035 §3.3.13. All times in seconds, serial in RFC 1982 arithmetic. */
export interface LabSoa {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

/** RFC 8659 §4.1: flags (bit 0 = critical, i.e. 128), tag, value. */
export interface LabCaa {
  flags: number;
  tag: string;
  value: string;
}

/**
 * The RDATA of each type as callers write it: addresses and host names as strings, TXT as one
 * character-string or several (each ≤ 255 bytes, RFC 1035 §3.3.14), CAA and SOA as objects.
 */
export interface LabRdata {
  A: string;
  AAAA: string;
  NS: string;
  CNAME: string;
  TXT: string | readonly string[];
  CAA: LabCaa;
  SOA: LabSoa;
}

export type LabRrType = keyof LabRdata;

export const LAB_RR_TYPES: readonly LabRrType[] = ['SOA', 'NS', 'A', 'AAAA', 'CNAME', 'CAA', 'TXT'];

/** The stored form: TXT always as an array; names lower case, no trailing dot. */
export interface StoredRdata extends Omit<LabRdata, 'TXT'> {
  TXT: readonly string[];
}

/** One resource record of the zone (owner lower case, no trailing dot). */
export type ZoneRr = {
  [T in LabRrType]: { name: string; type: T; ttl: number; data: StoredRdata[T] };
}[LabRrType];

/** RFC 2181 §8: a TTL is an unsigned 31-bit number. */
export const MAX_TTL = 0x7fffffff;
const MAX_RDATA = 0xffff;

function invalid(message: string): LabError {
  return new LabError('LAB_INVALID_REQUEST', message);
}

export function isLabRrType(type: string): type is LabRrType {
  return (LAB_RR_TYPES as readonly string[]).includes(type);
}

/**
 * Host-name labels (RFC 1123 §2.1) plus `_` for service names (`_acme-challenge`, `_443._tcp`):
 * the lab only needs those, and they need no escaping in a master file. No wildcards (`*`): the
 * responder does not synthesise from them (RFC 4592), so it refuses to store them.
 */
const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** Lower case, no trailing dot; throws LAB_INVALID_REQUEST for a name the lab cannot hold. */
export function labName(name: string): string {
  const bare = name.toLowerCase().replace(/\.$/, '');
  // RFC 1035 §2.3.4: 255 octets on the wire = 253 characters in presentation.
  if (bare === '' || bare.length > 253 || !bare.split('.').every((l) => LABEL.test(l))) {
    throw invalid(`not a host name the lab's zone can hold: ${JSON.stringify(name.slice(0, 80))}`);
  }
  return bare;
}

/** True when `name` is `apex` or below it (both canonical). */
export function isAtOrBelow(name: string, apex: string): boolean {
  return name === apex || name.endsWith(`.${apex}`);
}

function uint32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw invalid(`${what} must be a uint32`);
  return value;
}

export function checkTtl(ttl: number): number {
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL) throw invalid(`TTL must be 0…${MAX_TTL}`);
  return ttl;
}

/** Validates one record's data and returns its stored form (a fresh object: callers keep theirs). */
export function normaliseRdata<T extends LabRrType>(type: T, data: LabRdata[T]): StoredRdata[T] {
  const out = normaliseAny(type, data as LabRdata[LabRrType]);
  return out as StoredRdata[T];
}

function normaliseAny(type: LabRrType, data: LabRdata[LabRrType]): StoredRdata[LabRrType] {
  switch (type) {
    case 'A':
      if (typeof data !== 'string' || !net.isIPv4(data)) throw invalid(`A needs an IPv4 address`);
      return data;
    case 'AAAA':
      if (typeof data !== 'string' || !net.isIPv6(data)) throw invalid(`AAAA needs an IPv6 address`);
      return data;
    case 'NS':
    case 'CNAME':
      if (typeof data !== 'string') throw invalid(`${type} needs a host name`);
      return labName(data);
    case 'TXT': {
      const list = typeof data === 'string' ? [data] : (data as readonly string[]);
      // RFC 1035 §3.3.14: one or more character-strings, each at most 255 octets.
      if (!Array.isArray(list) || list.length === 0 || list.some((s) => typeof s !== 'string'))
        throw invalid('TXT needs one or more strings');
      if (list.some((s) => Buffer.byteLength(s) > 255)) throw invalid('a TXT string is over 255 bytes');
      if (list.reduce((n, s) => n + 1 + Buffer.byteLength(s), 0) > MAX_RDATA) throw invalid('TXT too long');
      return [...list];
    }
    case 'CAA': {
      const caa = data as LabCaa;
      // RFC 8659 §4.1: flags is one octet; the tag is 1–15 ASCII letters and digits.
      if (!Number.isInteger(caa.flags) || caa.flags < 0 || caa.flags > 255) throw invalid('CAA flags 0…255');
      if (typeof caa.tag !== 'string' || !/^[A-Za-z0-9]{1,15}$/.test(caa.tag))
        throw invalid('CAA tag: 1–15 letters or digits');
      if (typeof caa.value !== 'string' || 2 + caa.tag.length + Buffer.byteLength(caa.value) > MAX_RDATA)
        throw invalid('CAA value too long');
      return { flags: caa.flags, tag: caa.tag, value: caa.value };
    }
    case 'SOA': {
      const soa = data as LabSoa;
      return {
        mname: labName(soa.mname),
        rname: labName(soa.rname),
        serial: uint32(soa.serial, 'SOA serial'),
        refresh: uint32(soa.refresh, 'SOA refresh'),
        retry: uint32(soa.retry, 'SOA retry'),
        expire: uint32(soa.expire, 'SOA expire'),
        minimum: uint32(soa.minimum, 'SOA minimum'),
      };
    }
  }
}

/**
 * RFC 1035 §5.1 character-string: quoted; `"` and `\` escaped with `\`, every byte outside
 * printable ASCII as `\DDD` (so UTF-8 survives any reader, and src/caa's parseZone reads the same
 * bytes back).
 */
export function quoteString(text: string): string {
  let out = '"';
  for (const byte of Buffer.from(text, 'utf8')) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte >= 0x20 && byte <= 0x7e) out += String.fromCharCode(byte);
    else out += `\\${byte.toString().padStart(3, '0')}`;
  }
  return `${out}"`;
}

/** The RDATA in master-file presentation; host names absolute (trailing dot). */
export function presentRdata(rr: ZoneRr): string {
  switch (rr.type) {
    case 'A':
    case 'AAAA':
      return rr.data;
    case 'NS':
    case 'CNAME':
      return `${rr.data}.`;
    case 'TXT':
      return rr.data.map(quoteString).join(' ');
    case 'CAA':
      // RFC 8659 §4.1.1: `flags tag "value"`, the value a character-string.
      return `${rr.data.flags} ${rr.data.tag} ${quoteString(rr.data.value)}`;
    case 'SOA': {
      const s = rr.data;
      return `${s.mname}. ${s.rname}. ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
    }
  }
}

/** One master-file line: absolute owner, TTL, class, type, RDATA. */
export function presentRecord(rr: ZoneRr): string {
  return `${rr.name}.\t${rr.ttl}\tIN\t${rr.type}\t${presentRdata(rr)}`;
}

/** The record for `dns-packet`'s encoder; `owner` lets the caller keep the query's 0x20 case. */
export function toPacketAnswer(rr: ZoneRr, owner: string = rr.name): Answer {
  const base = { name: owner, ttl: rr.ttl, class: 'IN' as const };
  switch (rr.type) {
    case 'A':
    case 'AAAA':
    case 'NS':
    case 'CNAME':
      return { ...base, type: rr.type, data: rr.data };
    case 'TXT':
      // dns-packet's TXT encoder replaces array members in place: hand it a copy, not the zone's.
      return { ...base, type: 'TXT', data: rr.data.map((s) => Buffer.from(s, 'utf8')) };
    case 'CAA':
      // The typings list only three tags; RFC 8659 §4.1 allows any, and the encoder writes any.
      return { ...base, type: 'CAA', data: { ...rr.data, tag: rr.data.tag as 'issue' } };
    case 'SOA':
      return { ...base, type: 'SOA', data: { ...rr.data } };
  }
}
