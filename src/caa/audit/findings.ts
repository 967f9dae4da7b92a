/**
 * @module caa/audit/findings
 * Pure rules: collected data in, findings and a grade out. Ids are stable; severities:
 *
 *   error     the audit could not find out, so it grades nothing: lookup-failed (a resolver query got
 *             no usable answer, or no authoritative server could be asked), domain-not-found
 *   critical  the policy is broken or can be bypassed/ignored: malformed-record, critical-unknown-tag,
 *             ns-disagree, ns-case-mishandled, dnssec-bogus
 *   warning   the policy is weaker than it should be or a server misbehaves: no-caa, no-accounturi,
 *             http-01-allowed (with --acme-method), wildcard-open, iodef-bad-scheme, iodef-malformed,
 *             ns-timeout, ns-refused, ns-error, ns-no-address, dnssec-unsigned, cname-external,
 *             subdomain-weaker, unknown-issuer
 *   info      hardening hints: no-validationmethods, no-iodef, unused-ca, http-01-allowed (without
 *             --acme-method, reported only when validationmethods explicitly lists http-01)
 *
 * Grade: `error` any error; F any critical; D three or more warnings; C two warnings; B one warning;
 * A none (info only).
 */
import { checkIodefUrl } from '../iodef-url.js';
import { normalizedTag } from '../property.js';
import type { CaaRecord } from '../property.js';
import { parseIssueValue, presentRecord } from '../property.js';
import type {
  AuditData,
  AuditOptions,
  AuditReport,
  Finding,
  Grade,
  PathEntry,
  ServerAnswer,
  Severity,
} from './types.js';

const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2, error: 3 };

export function gradeFor(findings: readonly Finding[]): Grade {
  // "Could not check" is never a grade: an unreachable resolver must not read as a clean A.
  if (findings.some((f) => f.severity === 'error')) return 'error';
  if (findings.some((f) => f.severity === 'critical')) return 'F';
  const warnings = findings.filter((f) => f.severity === 'warning').length;
  if (warnings >= 3) return 'D';
  if (warnings === 2) return 'C';
  if (warnings === 1) return 'B';
  return 'A';
}

export function worstSeverity(findings: readonly Finding[]): Severity | null {
  let worst: Severity | null = null;
  for (const f of findings)
    if (worst === null || SEVERITY_RANK[f.severity] > SEVERITY_RANK[worst]) worst = f.severity;
  return worst;
}

const fqdn = (name: string): string => `${name}.`;
const line = (owner: string, tag: string, value: string, flags = 0): string =>
  `${fqdn(owner)} IN CAA ${flags} ${tag} "${value}"`;

function recordKey(records: readonly CaaRecord[]): string {
  return records
    .map((r) => presentRecord(r).toLowerCase())
    .sort()
    .join('\n');
}

function answerKey(a: ServerAnswer): string {
  return `${a.rcode ?? 'none'}|${recordKey(a.records)}`;
}

/** A usable authoritative answer (the server actually answered with data or a negative answer). */
const answered = (a: ServerAnswer): boolean =>
  !a.timeout && (a.rcode === 'NOERROR' || a.rcode === 'NXDOMAIN');

/** A search-path lookup without a usable answer (no answer at all, or SERVFAIL/REFUSED/…). */
const pathFailed = (e: PathEntry): boolean =>
  e.error !== null || (e.rcode !== 'NOERROR' && e.rcode !== 'NXDOMAIN');

const LOOKUP_FIX =
  'Check that the resolver (--resolver, or /etc/resolv.conf) is reachable and resolves this name, then run the audit again.';

/**
 * The findings for what could not be asked. Returns true when the audit has no data to grade:
 * the zone cut is unknown or the domain does not exist.
 */
function lookupFindings(data: AuditData, add: (f: Finding) => void): boolean {
  if (!data.exists) {
    add({
      id: 'domain-not-found',
      severity: 'error',
      name: data.domain,
      message: `${data.domain} does not exist (NXDOMAIN${data.zone !== null ? ` in the zone ${data.zone}` : ''}): there is no CAA policy to audit. Check the spelling, or create the name first.`,
      fix: `Audit an existing name (e.g. ${data.zone ?? 'the zone apex'}), or publish ${data.domain} first.`,
    });
  }
  const seen = new Set<string>();
  for (const f of data.failures) {
    const key = `${f.name}/${f.type}`;
    if (seen.has(key)) continue;
    seen.add(key);
    add({
      id: 'lookup-failed',
      severity: 'error',
      name: key,
      message: `Could not look up ${f.name} ${f.type} through ${f.server}: ${f.error}. The audit cannot tell what a CA would see; CAs refuse to issue when a CAA lookup fails (RFC 8659 §3).`,
      fix: LOOKUP_FIX,
    });
  }
  if (!data.exists) return true;
  if (data.zone === null) {
    if (data.failures.length === 0)
      add({
        id: 'lookup-failed',
        severity: 'error',
        name: data.domain,
        message: `No zone apex (SOA) found for ${data.domain} or any parent: nothing could be audited.`,
        fix: LOOKUP_FIX,
      });
    return true;
  }
  for (const e of data.path) {
    // A DNSSEC-bogus answer at DOMAIN is reported as dnssec-bogus; every other failure here is one.
    if (!pathFailed(e) || (e.validation === 'failed' && data.dnssec === 'bogus')) continue;
    add({
      id: 'lookup-failed',
      severity: 'error',
      name: `${e.name}/CAA`,
      message: `Could not look up ${e.name} CAA through the resolver: ${e.error ?? e.rcode ?? 'no answer'}. CAs refuse to issue when a CAA lookup fails (RFC 8659 §3), and the audit cannot grade a policy it could not read.`,
      fix: LOOKUP_FIX,
    });
  }
  // Name servers that time out or refuse are findings of their own; none at all answering means
  // the authoritative side was never checked, which must not pass as "no server problems".
  const zone = data.zone;
  if (data.nameservers.length > 0 && data.observations.length === 0) {
    add({
      id: 'lookup-failed',
      severity: 'error',
      name: zone,
      message: `No name server of ${zone} could be asked directly (${data.nameservers.map((n) => n.name).join(', ')} have no usable address).`,
      fix: `Give the name servers of ${zone} addresses (glue or A/AAAA records), then run the audit again.`,
    });
  } else if (data.observations.length > 0 && !data.observations.some((o) => answered(o.lower))) {
    add({
      id: 'lookup-failed',
      severity: 'error',
      name: zone,
      message: `None of the ${new Set(data.observations.map((o) => o.address)).size} name server address(es) of ${zone} gave a usable CAA answer: the authoritative side could not be checked.`,
      fix: `Check that the name servers of ${zone} are reachable on the --ns-port given (default 53), then run the audit again.`,
    });
  }
  return false;
}

interface IssueInfo {
  tag: 'issue' | 'issuewild';
  record: CaaRecord;
  issuer: string | null;
  accountUri: string | null;
  validationMethods: string[] | null;
}

function issueRecords(records: readonly CaaRecord[]): IssueInfo[] {
  const out: IssueInfo[] = [];
  for (const record of records) {
    const tag = normalizedTag(record);
    if (tag !== 'issue' && tag !== 'issuewild') continue;
    const parsed = parseIssueValue(record.value);
    if (!parsed.ok) continue;
    out.push({
      tag,
      record,
      issuer: parsed.issuerDomain,
      accountUri: parsed.accountUri,
      validationMethods: parsed.validationMethods,
    });
  }
  return out;
}

function inside(name: string, apex: string): boolean {
  return name === apex || name.endsWith(`.${apex}`);
}

/** Runs every rule over the collected data. */
export function auditFindings(data: AuditData, options: AuditOptions = {}): Finding[] {
  const findings: Finding[] = [];
  const add = (f: Finding): void => {
    findings.push(f);
  };
  const domain = data.domain;
  if (lookupFindings(data, add)) return findings;

  // ---- DNSSEC ---------------------------------------------------------------------------------
  if (data.dnssec === 'bogus') {
    add({
      id: 'dnssec-bogus',
      severity: 'critical',
      name: data.zone ?? domain,
      message:
        'Validating resolvers find the CAA answer bogus (RFC 4035): a CA that validates must refuse to issue (RFC 8659 §3 requires it to treat the lookup as failed).',
      fix: 'Re-sign the zone (expired or missing RRSIGs) or remove the stale DS record at the parent; check with `delv` or `dig +dnssec`.',
    });
  } else if (data.dnssec !== 'secure' && data.hasDs === false) {
    add({
      id: 'dnssec-unsigned',
      severity: 'warning',
      name: data.zone ?? domain,
      message:
        'The zone is not DNSSEC-signed (no DS at the parent): an on-path attacker can forge the CAA answer a CA sees, so the policy can be stripped (RFC 8659 §5.2 recommends DNSSEC).',
      fix: `Sign ${data.zone ?? domain} and publish its DS record at the parent (registrar).`,
    });
  }

  // ---- name servers ---------------------------------------------------------------------------
  const byName = new Map<string, typeof data.observations>();
  for (const o of data.observations) {
    const list = byName.get(o.name) ?? [];
    list.push(o);
    byName.set(o.name, list);
  }
  const timedOut = new Set<string>();
  const refused = new Set<string>();
  const failedServers = new Set<string>();
  const caseBad = new Set<string>();
  for (const ns of data.nameservers) {
    if (ns.addresses.length > 0) continue;
    add({
      id: 'ns-no-address',
      severity: 'warning',
      name: ns.name,
      message: `Name server ${ns.name} of ${data.zone ?? domain} has no A or AAAA address: nobody can ask it, so it was not audited, and resolvers waste time on it.`,
      fix: `Publish an address for ${ns.name} (or glue at the parent), or remove it from the NS RRset of ${data.zone ?? domain}.`,
    });
  }
  for (const [name, list] of byName) {
    for (const o of list) {
      const server = `${o.nsName} (${o.address})`;
      // Either question unanswered counts: a server that answers only the lower-case form was not
      // checked for RFC 4343 case handling, and CAs send mixed case.
      const silent = o.lower.timeout ? o.lower : o.mixed.timeout ? o.mixed : null;
      if (silent !== null) {
        if (!timedOut.has(server)) {
          timedOut.add(server);
          const which = silent === o.lower ? name : o.mixedQname;
          add({
            id: 'ns-timeout',
            severity: 'warning',
            name: server,
            message: `Name server ${server} did not answer the CAA query for ${which}: CAs fail closed on timeouts (RFC 8659 §3), so issuance can fail at random.`,
            fix: `Fix or remove ${o.nsName} from the NS RRset of ${data.zone ?? domain} (and the parent's delegation).`,
          });
        }
        continue;
      }
      const broken = [o.lower, o.mixed].find(
        (a) =>
          a.error !== null || (a.rcode !== null && !['NOERROR', 'NXDOMAIN', 'REFUSED'].includes(a.rcode)),
      );
      if (broken !== undefined) {
        if (!failedServers.has(server)) {
          failedServers.add(server);
          add({
            id: 'ns-error',
            severity: 'warning',
            name: server,
            message: `Name server ${server} gave no usable answer to the CAA query for ${broken === o.lower ? name : o.mixedQname} (${broken.error ?? broken.rcode}): CAs that ask it cannot check CAA and refuse to issue (RFC 8659 §3).`,
            fix: `Fix the DNS service on ${o.nsName} (port, firewall, zone loading), or remove it from the NS RRset of ${data.zone ?? domain}.`,
          });
        }
        continue;
      }
      if (
        (o.lower.rcode === 'REFUSED' ||
          (o.lower.rcode === 'NOERROR' && !o.lower.authoritative && o.lower.records.length === 0)) &&
        !refused.has(server)
      ) {
        refused.add(server);
        add({
          id: 'ns-refused',
          severity: 'warning',
          name: server,
          message: `Name server ${server} is delegated ${data.zone ?? domain} but refuses to answer for it (lame delegation): CAs asking it get no CAA answer and may refuse issuance.`,
          fix: `Configure ${data.zone ?? domain} on ${o.nsName}, or remove it from the NS RRset and the parent's delegation.`,
        });
      }
      if (answered(o.lower) && answerKey(o.lower) !== answerKey(o.mixed) && !caseBad.has(server)) {
        caseBad.add(server);
        add({
          id: 'ns-case-mishandled',
          severity: 'critical',
          name: server,
          message: `Name server ${server} answers ${o.mixedQname} (mixed case) with ${o.mixed.rcode ?? 'nothing'} and ${o.mixed.records.length} CAA record(s), but ${name} with ${o.lower.rcode ?? 'nothing'} and ${o.lower.records.length}: DNS names are case-insensitive (RFC 4343, RFC 8659 §6) and CAs randomise QNAME case, so a CA may see no CAA at all and issue freely.`,
          fix: `Upgrade or replace the DNS software on ${o.nsName} so that it compares names case-insensitively.`,
        });
      }
    }
    const keys = new Set(
      list.filter((o) => answered(o.lower) && o.lower.authoritative).map((o) => answerKey(o.lower)),
    );
    if (keys.size > 1) {
      const detail = list
        .filter((o) => answered(o.lower) && o.lower.authoritative)
        .map(
          (o) =>
            `${o.nsName} (${o.address}): ${o.lower.rcode} ${o.lower.records.map(presentRecord).join(', ') || '(no CAA)'}`,
        )
        .join('; ');
      add({
        id: 'ns-disagree',
        severity: 'critical',
        name,
        message: `The authoritative servers give different CAA answers for ${name} — ${detail}. A CA sees whichever server it happens to ask, so the weakest answer is the effective policy.`,
        fix: `Make every name server of ${data.zone ?? domain} serve the same zone (check zone transfers/serials; e.g. \`dig +nssearch ${data.zone ?? domain}\`).`,
      });
    }
  }

  // ---- the path: aliases and the relevant RRset ------------------------------------------------
  const apex = data.zone;
  for (const entry of data.path) {
    if (entry.cnameTarget !== null && (apex === null || !inside(entry.cnameTarget, apex))) {
      add({
        id: 'cname-external',
        severity: 'warning',
        name: entry.name,
        message: `${entry.name} is a CNAME to ${entry.cnameTarget}, outside ${apex ?? 'your zone'}: CAs use the CAA records of the alias target (RFC 8659 §3), so whoever controls that zone decides who may issue for ${entry.name}.`,
        fix: `Publish CAA at the target zone you control, or replace the CNAME with address records; if the target is a provider's, ask them for their CAA policy.`,
      });
    }
  }
  const relevantIndex = data.path.findIndex((e) => e.records.length > 0);
  const relevant = relevantIndex >= 0 ? data.path[relevantIndex] : undefined;
  // RFC 8659 §3: the relevant RRset is the first non-empty one, so a failed lookup below it hides
  // which RRset a CA would use: no policy finding may be drawn then (lookup-failed or dnssec-bogus
  // says why). A failure above it hides only the parent (see subdomain-weaker).
  const end = relevantIndex >= 0 ? relevantIndex + 1 : data.path.length;
  if (data.path.slice(0, end).some(pathFailed)) return findings;
  if (relevant === undefined) {
    add({
      id: 'no-caa',
      severity: 'warning',
      name: domain,
      message: `No CAA record anywhere on the search path of ${domain} (RFC 8659 §3): every publicly trusted CA may issue certificates for it.`,
      fix: `${line(apex ?? domain, 'issue', 'letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/<ACCOUNT_ID>; validationmethods=dns-01')}\n${line(apex ?? domain, 'issuewild', ';')}\n${line(apex ?? domain, 'iodef', 'mailto:security@' + (apex ?? domain))}`,
    });
    return findings;
  }
  const owner = relevant.name;
  const records = relevant.records;

  for (const r of records) {
    const tag = normalizedTag(r);
    if ((tag === 'issue' || tag === 'issuewild') && !parseIssueValue(r.value).ok) {
      const err = parseIssueValue(r.value);
      add({
        id: 'malformed-record',
        severity: 'critical',
        name: owner,
        message: `${presentRecord(r)} does not match the RFC 8659 §4.2 grammar (${err.ok ? '' : err.error}): CAs treat it as authorising nobody, so it silently blocks or changes issuance.`,
        fix: `Rewrite it, e.g. ${line(owner, tag, 'letsencrypt.org; accounturi=https://acme-v02.api.letsencrypt.org/acme/acct/<ACCOUNT_ID>')}`,
      });
    }
    const known = ['issue', 'issuewild', 'iodef', 'contactemail', 'contactphone'];
    if ((r.flags & 0x80) !== 0 && !known.includes(tag)) {
      add({
        id: 'critical-unknown-tag',
        severity: 'critical',
        name: owner,
        message: `${presentRecord(r)} has the issuer-critical flag on a tag CAs do not understand: RFC 8659 §4.1 makes every CA refuse to issue for ${owner}.`,
        fix: `Clear the critical flag (use flags 0) or remove the record: ${line(owner, r.tag, r.value, r.flags & ~0x80)}`,
      });
    }
  }

  const issues = issueRecords(records);
  const authorising = issues.filter((i) => i.issuer !== null);
  const plainIssue = issues.filter((i) => i.tag === 'issue');
  for (const i of authorising) {
    if (i.accountUri === null) {
      add({
        id: 'no-accounturi',
        severity: 'warning',
        name: owner,
        message: `${presentRecord(i.record)} allows ${i.issuer} to issue to ANY of its customers who pass domain validation: it does not bind issuance to your ACME account (RFC 8657 accounturi), so it does not stop an attacker who can intercept validation traffic from getting a certificate — it is open to domain-validation bypass (jabber.ru 2023: an intercepting attacker got certificates despite CAA).`,
        fix: `${line(owner, i.tag, `${i.issuer}; accounturi=<YOUR ACME ACCOUNT URL, e.g. https://acme-v02.api.letsencrypt.org/acme/acct/123456>`)}`,
      });
    }
    if (i.validationMethods === null) {
      add({
        id: 'no-validationmethods',
        severity: 'info',
        name: owner,
        message: `${presentRecord(i.record)} accepts every validation method (RFC 8657 validationmethods absent); http-01/tls-alpn-01 can be passed by anyone who can intercept traffic to your servers.`,
        fix: `${line(owner, i.tag, `${i.issuer}; validationmethods=${options.acmeMethod ?? 'dns-01'}`)}`,
      });
    }
    const listsHttp = i.validationMethods?.includes('http-01') ?? false;
    if (options.acmeMethod === 'dns-01' ? i.validationMethods === null || listsHttp : listsHttp) {
      add({
        id: 'http-01-allowed',
        severity: options.acmeMethod === 'dns-01' ? 'warning' : 'info',
        name: owner,
        message: `${presentRecord(i.record)} lets ${i.issuer} validate over http-01${options.acmeMethod === 'dns-01' ? ' although your ACME client uses dns-01' : ''}: an attacker who can intercept HTTP to your address (as at jabber.ru) can then pass validation.`,
        fix: `${line(owner, i.tag, `${i.issuer}${i.accountUri !== null ? `; accounturi=${i.accountUri}` : ''}; validationmethods=${options.acmeMethod ?? 'dns-01'}`)}`,
      });
    }
    if (options.knownIssuers && i.issuer !== null && !options.knownIssuers.has(i.issuer)) {
      add({
        id: 'unknown-issuer',
        severity: 'warning',
        name: owner,
        message: `${i.issuer} is not a CAA issuer domain of any known publicly trusted CA: probably a typo, and then it authorises nobody.`,
        fix: `Check the CA's documented CAA identifier (e.g. letsencrypt.org, sectigo.com, digicert.com, pki.goog) and fix ${presentRecord(i.record)}.`,
      });
    }
  }

  const hasIssuewild = issues.some((i) => i.tag === 'issuewild');
  const wildForbidden = issues.some((i) => i.tag === 'issuewild' && i.issuer === null);
  if (!options.usesWildcards && !wildForbidden) {
    add({
      id: 'wildcard-open',
      severity: 'warning',
      name: owner,
      message: hasIssuewild
        ? `issuewild records allow wildcard certificates although you use none: a wildcard certificate covers every host name below ${owner}.`
        : `No \`issuewild ";"\`: the issue records also allow wildcard certificates (RFC 8659 §4.3) although you use none (pass --uses-wildcards if you do).`,
      fix: line(owner, 'issuewild', ';'),
    });
  }

  const iodefs = records.filter((r) => normalizedTag(r) === 'iodef');
  if (iodefs.length === 0) {
    add({
      id: 'no-iodef',
      severity: 'info',
      name: owner,
      message:
        'No iodef record (RFC 8659 §4.4): CAs that refuse a request because of CAA have no way to tell you someone tried.',
      fix: line(owner, 'iodef', `mailto:security@${apex ?? owner}`),
    });
  }
  for (const r of iodefs) {
    const check = checkIodefUrl(r.value);
    if (check.ok) continue;
    add({
      id: check.kind === 'scheme' ? 'iodef-bad-scheme' : 'iodef-malformed',
      severity: 'warning',
      name: owner,
      message:
        check.kind === 'scheme'
          ? `${presentRecord(r)}: ${check.error}, so CAs may not report to this address.`
          : `${presentRecord(r)} is not a usable report address (${check.error}): CAs cannot report refused requests to it.`,
      fix: line(owner, 'iodef', `mailto:security@${apex ?? owner}`),
    });
  }

  // ---- subdomain weaker than a parent ----------------------------------------------------------
  const above = data.path.slice(relevantIndex + 1);
  const parentIndex = above.findIndex((e) => e.records.length > 0);
  const parent = parentIndex >= 0 ? above[parentIndex] : undefined;
  if (above.slice(0, parentIndex >= 0 ? parentIndex + 1 : above.length).some(pathFailed)) {
    // The parent's policy is unknown (lookup-failed already says so): do not call the child weaker or fine.
  } else if (parent !== undefined) {
    const pIssues = issueRecords(parent.records).filter((i) => i.tag === 'issue');
    const cIssues = plainIssue.length > 0 ? issueRecords(records).filter((i) => i.tag === 'issue') : [];
    const pCas = new Set(pIssues.map((i) => i.issuer).filter((x): x is string => x !== null));
    const reasons: string[] = [];
    for (const c of cIssues) {
      if (c.issuer === null) continue;
      if (!pCas.has(c.issuer)) reasons.push(`allows ${c.issuer}, which ${parent.name} does not`);
      const p = pIssues.filter((x) => x.issuer === c.issuer);
      if (p.length > 0 && p.every((x) => x.accountUri !== null) && c.accountUri === null)
        reasons.push(`drops the accounturi ${parent.name} requires for ${c.issuer}`);
      if (p.length > 0 && p.every((x) => x.validationMethods !== null) && c.validationMethods === null)
        reasons.push(`drops the validationmethods ${parent.name} requires for ${c.issuer}`);
    }
    if (cIssues.length === 0 && pIssues.length > 0 && records.length > 0 && plainIssue.length === 0)
      reasons.push(`has no issue record, so any CA may issue although ${parent.name} restricts it`);
    if (reasons.length > 0) {
      add({
        id: 'subdomain-weaker',
        severity: 'warning',
        name: owner,
        message: `The CAA RRset at ${owner} replaces the parent's (RFC 8659 §3: the closest RRset wins) and is weaker: it ${reasons.join('; ')}.`,
        fix: `Copy the parent's policy: ${parent.records.map((r) => `${fqdn(owner)} IN CAA ${presentRecord(r)}`).join(' / ')}`,
      });
    }
  }

  // ---- CT comparison ---------------------------------------------------------------------------
  if (options.seenIssuers != null) {
    const seen = new Set(options.seenIssuers.map((s) => s.toLowerCase()));
    for (const ca of new Set(authorising.map((i) => i.issuer as string))) {
      if (!seen.has(ca)) {
        add({
          id: 'unused-ca',
          severity: 'info',
          name: owner,
          message: `${ca} is allowed to issue but was never seen issuing for ${domain} in Certificate Transparency: every allowed CA is attack surface.`,
          fix: `Remove the ${ca} issue/issuewild record(s) at ${owner} if you no longer use that CA.`,
        });
      }
    }
  }
  return findings;
}

export function buildReport(data: AuditData, options: AuditOptions = {}): AuditReport {
  const findings = auditFindings(data, options);
  return { domain: data.domain, grade: gradeFor(findings), findings };
}
