/**
 * @module caa/suggest
 * From the ACME accounts a domain owner actually uses, the CAA RRset that binds issuance to
 * exactly those accounts and validation methods (RFC 8659 §4.2 `issue`/`issuewild`, RFC 8657
 * `accounturi` and `validationmethods`), its renderings (zone file, RFC 3597 generic, octoDNS,
 * Terraform), and a proof: the engine itself evaluates the suggested RRset in memory.
 */
import { evaluateCaa } from '../evaluate.js';
import { presentRecord } from '../property.js';
import type { CaaRecord } from '../property.js';
import type { CaaDecision, CaaReason } from '../types.js';
import { ZoneResolver } from '../zonefile.js';

/** One account that should be allowed to issue. */
export interface SuggestAccount {
  /** The CA's CAA issuer domain, e.g. letsencrypt.org. */
  issuer: string;
  accountUri: string;
  /** ACME validation methods used with this account; empty = do not restrict methods. */
  methods: string[];
  /** Whether this account obtains wildcard certificates. */
  wildcard?: boolean;
}

export interface SuggestOptions {
  iodef?: string;
}

/** Merges accounts with the same (issuer, accountUri) and sorts for stable output. */
export function mergeAccounts(accounts: readonly SuggestAccount[]): SuggestAccount[] {
  const map = new Map<string, SuggestAccount>();
  for (const a of accounts) {
    const key = `${a.issuer.toLowerCase()} ${a.accountUri}`;
    const prev = map.get(key);
    if (prev) {
      prev.methods = [...new Set([...prev.methods, ...a.methods])].sort();
      prev.wildcard = Boolean(prev.wildcard) || Boolean(a.wildcard);
    } else {
      map.set(key, {
        issuer: a.issuer.toLowerCase(),
        accountUri: a.accountUri,
        methods: [...new Set(a.methods)].sort(),
        wildcard: Boolean(a.wildcard),
      });
    }
  }
  return [...map.values()].sort((x, y) =>
    x.issuer === y.issuer ? x.accountUri.localeCompare(y.accountUri) : x.issuer.localeCompare(y.issuer),
  );
}

function issueValue(a: SuggestAccount): string {
  const params = [`accounturi=${a.accountUri}`];
  if (a.methods.length > 0) params.push(`validationmethods=${a.methods.join(',')}`);
  return `${a.issuer}; ${params.join('; ')}`;
}

/**
 * The RRset: one `issue` per account; `issuewild` per wildcard account, or `issuewild ";"` when
 * no account issues wildcards; `iodef` when asked.
 */
export function suggestRecords(
  accounts: readonly SuggestAccount[],
  options: SuggestOptions = {},
): CaaRecord[] {
  const merged = mergeAccounts(accounts);
  const records: CaaRecord[] = merged.map((a) => ({ flags: 0, tag: 'issue', value: issueValue(a) }));
  const wild = merged.filter((a) => a.wildcard);
  if (wild.length === 0) records.push({ flags: 0, tag: 'issuewild', value: ';' });
  else records.push(...wild.map((a) => ({ flags: 0, tag: 'issuewild', value: issueValue(a) })));
  if (options.iodef) records.push({ flags: 0, tag: 'iodef', value: options.iodef });
  return records;
}

/** RFC 8659 §4.1.1 presentation: `DOMAIN. 3600 IN CAA 0 issue "…"`. */
export function formatZone(domain: string, records: readonly CaaRecord[], ttl = 3600): string {
  return records.map((r) => `${domain}. ${ttl} IN CAA ${presentRecord(r)}\n`).join('');
}

/** CAA RDATA (RFC 8659 §4.1.1): flags(1) tag-length(1) tag value. */
export function caaRdata(r: CaaRecord): Buffer {
  const tag = Buffer.from(r.tag, 'latin1');
  return Buffer.concat([Buffer.from([r.flags, tag.length]), tag, Buffer.from(r.value, 'utf8')]);
}

/** RFC 3597 §5 generic presentation: `DOMAIN. 3600 IN TYPE257 \# <len> <hex>`. */
export function formatGeneric(domain: string, records: readonly CaaRecord[], ttl = 3600): string {
  return records
    .map((r) => {
      const rdata = caaRdata(r);
      return `${domain}. ${ttl} IN TYPE257 \\# ${rdata.length} ${rdata.toString('hex')}\n`;
    })
    .join('');
}

const yamlString = (s: string): string => JSON.stringify(s);

/**
 * octoDNS zone YAML (octodns.readthedocs.io, "Records" — CAA values are `flags`, `tag`, `value`).
 * The key '' is the zone apex; put the block under the record name relative to your zone.
 */
export function formatOctodns(domain: string, records: readonly CaaRecord[], ttl = 3600): string {
  const lines = [
    `# octoDNS: records for ${domain} (key '' = apex of a zone named ${domain}; use the relative name otherwise)`,
    "'':",
    '  - type: CAA',
    `    ttl: ${ttl}`,
    '    values:',
  ];
  for (const r of records)
    lines.push(`      - flags: ${r.flags}`, `        tag: ${r.tag}`, `        value: ${yamlString(r.value)}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Terraform `aws_route53_record` (registry.terraform.io/providers/hashicorp/aws, resource
 * aws_route53_record: `records` holds the presentation strings of the RRset).
 */
export function formatTerraform(domain: string, records: readonly CaaRecord[], ttl = 3600): string {
  const ident = domain.replace(/[^A-Za-z0-9]/g, '_');
  const lines = [
    `resource "aws_route53_record" "caa_${ident}" {`,
    '  zone_id = var.zone_id',
    `  name    = ${yamlString(domain)}`,
    '  type    = "CAA"',
    `  ttl     = ${ttl}`,
    '  records = [',
    ...records.map((r) => `    ${JSON.stringify(presentRecord(r))},`),
    '  ]',
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

export type SuggestFormat = 'zone' | 'generic' | 'octodns' | 'terraform';

export function formatRecords(format: SuggestFormat, domain: string, records: readonly CaaRecord[]): string {
  switch (format) {
    case 'generic':
      return formatGeneric(domain, records);
    case 'octodns':
      return formatOctodns(domain, records);
    case 'terraform':
      return formatTerraform(domain, records);
    default:
      return formatZone(domain, records);
  }
}

// ---- the proof --------------------------------------------------------------------------------

export interface ProofRow {
  case: string;
  name: string;
  issuer: string;
  accountUri: string | null;
  method: string | null;
  expect: 'allow' | 'deny';
  decision: CaaDecision;
  reason: CaaReason;
  ok: boolean;
}

const ALL_METHODS = ['http-01', 'dns-01', 'tls-alpn-01', 'dns-account-01', 'dns-persist-01'];
const OTHER_CA = 'other-ca.invalid';

/**
 * Serves exactly `records` at `domain` from an in-memory resolver and checks, with `evaluateCaa`:
 * every owner (account, method) is allowed (for the wildcard name too when it issues wildcards);
 * another account, another method, no account, another CA are denied; and wildcards are denied
 * to accounts that do not issue them.
 */
export async function proveRecords(
  domain: string,
  accounts: readonly SuggestAccount[],
  records: readonly CaaRecord[],
): Promise<{ holds: boolean; rows: ProofRow[] }> {
  const apex = domain.toLowerCase().replace(/\.$/, '');
  const resolver = new ZoneResolver(records.map((caa) => ({ name: apex, type: 'CAA', ttl: 3600, caa })));
  const merged = mergeAccounts(accounts);
  const cases: Omit<ProofRow, 'decision' | 'reason' | 'ok'>[] = [];
  for (const a of merged) {
    const methods = a.methods.length > 0 ? a.methods : ['http-01'];
    for (const m of methods) {
      cases.push({ case: 'owner account and method', name: apex, issuer: a.issuer, accountUri: a.accountUri, method: m, expect: 'allow' }); // prettier-ignore
      cases.push({ case: a.wildcard ? 'owner account, wildcard' : 'owner account, wildcard not used', name: `*.${apex}`, issuer: a.issuer, accountUri: a.accountUri, method: m, expect: a.wildcard ? 'allow' : 'deny' }); // prettier-ignore
    }
    const m0 = methods[0] as string;
    cases.push({ case: 'another account', name: apex, issuer: a.issuer, accountUri: `${a.accountUri}-other`, method: m0, expect: 'deny' }); // prettier-ignore
    cases.push({ case: 'no account', name: apex, issuer: a.issuer, accountUri: null, method: m0, expect: 'deny' }); // prettier-ignore
    const other = ALL_METHODS.find((m) => !a.methods.includes(m));
    if (a.methods.length > 0 && other)
      cases.push({ case: 'another method', name: apex, issuer: a.issuer, accountUri: a.accountUri, method: other, expect: 'deny' }); // prettier-ignore
    cases.push({ case: 'another CA', name: apex, issuer: OTHER_CA, accountUri: a.accountUri, method: m0, expect: 'deny' }); // prettier-ignore
  }
  const rows: ProofRow[] = [];
  for (const c of cases) {
    const r = await evaluateCaa(
      { name: c.name, issuerDomains: [c.issuer], accountUri: c.accountUri, validationMethod: c.method },
      resolver,
    );
    rows.push({ ...c, decision: r.decision, reason: r.reason, ok: r.decision === c.expect });
  }
  return { holds: rows.length > 0 && rows.every((r) => r.ok), rows };
}

export function formatProof(rows: readonly ProofRow[]): string {
  const header = ['case', 'name', 'issuer', 'account', 'method', 'expect', 'got', 'reason', ''];
  const body = rows.map((r) => [
    r.case,
    r.name,
    r.issuer,
    r.accountUri ?? '(none)',
    r.method ?? '(none)',
    r.expect,
    r.decision,
    r.reason,
    r.ok ? 'ok' : 'FAIL',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  return [header, ...body]
    .map((row) =>
      row
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}
