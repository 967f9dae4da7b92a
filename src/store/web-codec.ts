/**
 * @module store/web-codec
 * What both engines share for the web server's tables (migration 6): the argument checks of
 * issuance pages, tokens, users, sessions, host inventories and domain audits, and of the
 * `check mitm --record` results (migration 7). Pure. Bad input is
 * refused with STORE_INVALID_ARGUMENT, never repaired: text from outside (token names, DNS names)
 * is stored exactly as given once it passed, and escaping it is the job of whoever prints it.
 */
import type { CertvigilError } from '../errors.js';
import { isSafeText } from '../sanitize.js';
import { checkHash, cleanText, toJsonText } from './codec.js';
import { invalidArgument } from './errors.js';
import type {
  AccessRole,
  DomainAuditRecord,
  HostInventoryItem,
  IssuancePageQuery,
  IssuancePosition,
  MitmResultRecord,
  MitmResultStatus,
  SessionRecord,
  TokenRecord,
  UserRecord,
} from './types.js';

export const PAGE_LIMIT_MAX = 1000;
export const HOST_INVENTORY_MAX_ITEMS = 100_000;
export const HOST_ITEM_MAX_NAMES = 1000;
/** RFC 1035 §2.3.4: 255 octets on the wire, 253 characters in text form. */
export const DNS_NAME_MAX = 253;
export const TOKEN_NAME_MAX = 100;
/** The largest stored result document (`caa audit`, `check mitm --record`). */
export const RESULT_JSON_MAX = 1_000_000;
/** `touchToken` writes at most once per this interval (roles/web.ts: "once a minute is enough"). */
export const TOUCH_INTERVAL_MS = 60_000;

const ROLES: readonly AccessRole[] = ['viewer', 'admin'];
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/**
 * Store times are `Date.toISOString()` text (UTC, milliseconds) and nothing else: SQLite compares
 * them as text (`deleteExpiredSessions`, keyset pages), which is time order only in this one form,
 * and PostgreSQL's timestamptz gives back exactly this form, so both engines return what was put.
 */
export function checkIsoTime(what: string, value: unknown): string {
  if (typeof value !== 'string' || !ISO_MS.test(value) || new Date(value).toISOString() !== value)
    throw invalidArgument(`${what} must be an ISO 8601 UTC time with milliseconds, got ${String(value)}`);
  return value;
}

function optIsoTime(what: string, value: unknown): string | null {
  return value === null ? null : checkIsoTime(what, value);
}

/** `at` minus the touch interval, for "last used before this" (same ISO form). */
export function touchThreshold(at: string): string {
  return new Date(Date.parse(checkIsoTime('at', at)) - TOUCH_INTERVAL_MS).toISOString();
}

export function checkRole(role: unknown): AccessRole {
  if (!ROLES.includes(role as AccessRole)) throw invalidArgument(`unknown role ${String(role)}`);
  return role as AccessRole;
}

/** Text from outside stored as given: bounded, and free of controls and format characters. */
function checkOutsideText(what: string, value: unknown, min: number, max: number): string {
  if (typeof value !== 'string' || value.length < min || value.length > max)
    throw invalidArgument(`${what} must be ${min} to ${max} characters`);
  // U+0000 cannot be stored in PostgreSQL text; controls, bidi overrides and lone surrogates are
  // refused rather than escaped (sanitize.ts), so the stored value is the given one.
  if (!isSafeText(value)) throw invalidArgument(`${what} contains control or format characters`);
  return value;
}

/** Public token IDs, user names: printable ASCII that needs no escaping in a URL path or a cookie. */
const IDENT = /^[A-Za-z0-9._@-]{1,64}$/;

export function checkTokenId(id: unknown): string {
  if (typeof id !== 'string' || !IDENT.test(id))
    throw invalidArgument(`a token ID must be 1 to 64 of [A-Za-z0-9._@-], got ${String(id)}`);
  return id;
}

export function checkUserName(name: unknown): string {
  if (typeof name !== 'string' || !IDENT.test(name))
    throw invalidArgument(`a user name must be 1 to 64 of [A-Za-z0-9._@-], got ${String(name)}`);
  return name;
}

export function checkToken(t: TokenRecord): TokenRecord {
  return {
    id: checkTokenId(t.id),
    name: checkOutsideText('a token name', t.name, 0, TOKEN_NAME_MAX),
    role: checkRole(t.role),
    tokenSha256: checkHash('tokenSha256', t.tokenSha256),
    createdAt: checkIsoTime('createdAt', t.createdAt),
    expiresAt: optIsoTime('expiresAt', t.expiresAt),
    revokedAt: optIsoTime('revokedAt', t.revokedAt),
    lastUsedAt: optIsoTime('lastUsedAt', t.lastUsedAt),
  };
}

/** types.ts: `passwordHash` is an scrypt string; anything else (a plain password) is refused. */
const SCRYPT_HASH = /^scrypt\$[\x21-\x7e]{1,1000}$/;

export function checkUser(u: UserRecord): UserRecord {
  if (typeof u.passwordHash !== 'string' || !SCRYPT_HASH.test(u.passwordHash))
    throw invalidArgument('passwordHash must be an scrypt string (scrypt$…)');
  return {
    name: checkUserName(u.name),
    role: checkRole(u.role),
    passwordHash: u.passwordHash,
    createdAt: checkIsoTime('createdAt', u.createdAt),
  };
}

/** The session principal of a user, as `deleteUser` finds its sessions. */
export function userPrincipal(name: string): string {
  return `user:${name}`;
}

export function tokenPrincipal(id: string): string {
  return `token:${id}`;
}

/** createToken's answer to an ID or secret hash that is taken: the caller's error, not a crash. */
export function tokenClash(id: string): CertvigilError {
  return invalidArgument(`a token with ID ${id} or the same secret exists`);
}

/** createSession's answer to a session ID (hash) that is taken. */
export function sessionClash(): CertvigilError {
  return invalidArgument('a session with this ID exists');
}

const CSRF_TOKEN = /^[A-Za-z0-9_=+/-]{16,200}$/;

export function checkSession(s: SessionRecord): SessionRecord {
  if (typeof s.principal !== 'string') throw invalidArgument('a session needs a principal');
  if (s.principal.startsWith('user:')) checkUserName(s.principal.slice(5));
  else if (s.principal.startsWith('token:')) checkTokenId(s.principal.slice(6));
  else throw invalidArgument(`a session principal is user:NAME or token:ID, got ${s.principal}`);
  if (typeof s.csrfToken !== 'string' || !CSRF_TOKEN.test(s.csrfToken))
    throw invalidArgument('csrfToken must be 16 to 200 base64/base64url characters');
  return {
    idSha256: checkHash('idSha256', s.idSha256),
    principal: s.principal,
    role: checkRole(s.role),
    csrfToken: s.csrfToken,
    createdAt: checkIsoTime('createdAt', s.createdAt),
    expiresAt: checkIsoTime('expiresAt', s.expiresAt),
  };
}

const HOST = /^[A-Za-z0-9._-]{1,253}$/;

export function checkHost(host: unknown): string {
  if (typeof host !== 'string' || !HOST.test(host))
    throw invalidArgument(`a host must be 1 to 253 of [A-Za-z0-9._-], got ${String(host).slice(0, 300)}`);
  return host;
}

/** A `host_inventory` row as written; `dnsNames` as JSON text. */
export interface HostInventoryRow {
  certSha256: string;
  tbsSha256: string;
  spkiSha256: string;
  dnsNames: string;
  notAfter: string;
}

/**
 * Checks a push and turns it into rows. The same certificate listed twice (one client's `live`
 * and `archive` copies) is one row; the same hash with different data is a contradiction, refused.
 */
export function hostInventoryRows(host: string, items: HostInventoryItem[]): HostInventoryRow[] {
  checkHost(host);
  if (!Array.isArray(items) || items.length > HOST_INVENTORY_MAX_ITEMS)
    throw invalidArgument(`a host inventory holds at most ${HOST_INVENTORY_MAX_ITEMS} items`);
  const byCert = new Map<string, HostInventoryRow>();
  for (const item of items) {
    if (!Array.isArray(item.dnsNames) || item.dnsNames.length > HOST_ITEM_MAX_NAMES)
      throw invalidArgument(`an inventory item holds at most ${HOST_ITEM_MAX_NAMES} DNS names`);
    for (const n of item.dnsNames) checkOutsideText('a DNS name', n, 1, DNS_NAME_MAX);
    if (
      typeof item.notAfter !== 'string' ||
      item.notAfter.length > 40 ||
      Number.isNaN(Date.parse(item.notAfter))
    )
      throw invalidArgument(`notAfter must be a time, got ${String(item.notAfter).slice(0, 50)}`);
    const row: HostInventoryRow = {
      certSha256: checkHash('certSha256', item.certSha256),
      tbsSha256: checkHash('tbsSha256', item.tbsSha256),
      spkiSha256: checkHash('spkiSha256', item.spkiSha256),
      dnsNames: toJsonText(item.dnsNames),
      notAfter: item.notAfter,
    };
    const seen = byCert.get(row.certSha256);
    if (seen !== undefined && JSON.stringify(seen) !== JSON.stringify(row))
      throw invalidArgument(`certificate ${row.certSha256} listed twice with different data`);
    byCert.set(row.certSha256, row);
  }
  return [...byCert.values()];
}

/** A name to search for: A-label, lower case (types.ts), labels of [a-z0-9_-], ≤ 253 characters. */
const SEARCH_NAME = /^[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})*$/;

/** `issuancesForNames`: at most this many names per call (a page's names, deduplicated). */
export const NAME_LIST_MAX = 1000;

/**
 * The names of `issuancesForNames`, deduplicated and cleaned as `issuancesForName` cleans one; more
 * than NAME_LIST_MAX is refused.
 */
export function checkNameList(names: readonly string[]): string[] {
  const unique = [...new Set(names.map((n) => cleanText(String(n))))];
  if (unique.length > NAME_LIST_MAX)
    throw invalidArgument(`at most ${NAME_LIST_MAX} names per history lookup, got ${unique.length}`);
  return unique;
}

/** `issuancesForNames`' `perName`: 1..10000, default 10000 (every issuance, in practice). */
export function checkHistoryDepth(perName: number | undefined): number {
  if (perName === undefined) return 10_000;
  if (!Number.isSafeInteger(perName) || perName < 1 || perName > 10_000)
    throw invalidArgument(`perName must be 1 to 10000, got ${String(perName)}`);
  return perName;
}

export function checkSearchName(name: unknown): string {
  if (typeof name !== 'string' || name.length > DNS_NAME_MAX || !SEARCH_NAME.test(name))
    throw invalidArgument(
      `a name to search for must be a lower-case A-label DNS name, got ${String(name).slice(0, 300)}`,
    );
  return name;
}

export function checkDomainAudit(r: DomainAuditRecord): DomainAuditRecord {
  const domain = checkSearchName(r.domain);
  return {
    domain,
    resultJson: checkResultJson(r.resultJson),
    checkedAt: checkIsoTime('checkedAt', r.checkedAt),
  };
}

/** A stored result document: JSON text, bounded, returned character for character. */
function checkResultJson(text: unknown): string {
  if (typeof text !== 'string' || text.length > RESULT_JSON_MAX)
    throw invalidArgument(`resultJson must be JSON text of at most ${RESULT_JSON_MAX} characters`);
  try {
    JSON.parse(text);
  } catch {
    throw invalidArgument('resultJson is not JSON');
  }
  // PostgreSQL text cannot hold U+0000 (JSON may carry it escaped, which is fine).
  if (text.includes('\0')) throw invalidArgument('resultJson contains U+0000');
  return text;
}

const MITM_STATUSES: readonly MitmResultStatus[] = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'];
/** A `check mitm` target as the CLI parsed it: a host name or an IP address, no spaces. */
const MITM_TARGET = /^\S{1,253}$/u;

export function checkMitmResult(r: MitmResultRecord): MitmResultRecord {
  if (typeof r.target !== 'string' || !MITM_TARGET.test(r.target) || !isSafeText(r.target))
    throw invalidArgument(
      `a MITM target must be 1 to ${DNS_NAME_MAX} characters without spaces, controls or format characters`,
    );
  if (!MITM_STATUSES.includes(r.status))
    throw invalidArgument(
      `a MITM result status must be one of ${MITM_STATUSES.join(', ')}, got ${String(r.status).slice(0, 40)}`,
    );
  return {
    target: r.target,
    status: r.status,
    resultJson: checkResultJson(r.resultJson),
    checkedAt: checkIsoTime('checkedAt', r.checkedAt),
  };
}

/** A page query, checked, with its defaults. */
export interface PageQuery {
  name: string | null;
  after: IssuancePosition | null;
  order: 'asc' | 'desc';
  limit: number;
}

export function checkPageQuery(q: IssuancePageQuery): PageQuery {
  if (!Number.isSafeInteger(q.limit) || q.limit < 1 || q.limit > PAGE_LIMIT_MAX)
    throw invalidArgument(`limit must be 1 to ${PAGE_LIMIT_MAX}, got ${String(q.limit)}`);
  const order = q.order ?? 'asc';
  if (order !== 'asc' && order !== 'desc')
    throw invalidArgument(`order must be asc or desc, got ${String(order)}`);
  const after =
    q.after === undefined
      ? null
      : {
          firstSeen: checkIsoTime('after.firstSeen', q.after.firstSeen),
          tbsSha256: checkHash('after.tbsSha256', q.after.tbsSha256),
        };
  return { name: q.name === undefined ? null : checkSearchName(q.name), after, order, limit: q.limit };
}
