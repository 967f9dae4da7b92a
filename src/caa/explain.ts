/**
 * @module caa/explain
 * One or two sentences per verdict, for the person reading the output at 3 a.m. Pure.
 */
import type { CaaRecordView, CaaResult } from './types.js';

type Facts = Omit<CaaResult, 'explanation'> & { errorMessage?: string; offending?: CaaRecordView[] };

function quoteList(items: readonly string[]): string {
  return items.length === 1
    ? (items[0] as string)
    : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function where(f: Facts): string {
  if (!f.foundAt) return '';
  return f.aliasTarget ? `${f.foundAt} (alias of ${f.aliasTarget})` : f.foundAt;
}

function texts(views: readonly CaaRecordView[] | undefined): string {
  return (views ?? []).map((v) => `[${v.text}]`).join(' ');
}

export function explain(f: Facts): string {
  const ca = quoteList(f.request.issuerDomains);
  const kind = f.wildcard ? `wildcard *.${f.lookupName}` : f.lookupName;
  const propertyName =
    f.wildcard && f.records.some((r) => r.tag.toLowerCase() === 'issuewild') ? 'issuewild' : 'issue';
  switch (f.reason) {
    case 'no-caa-records':
      return `No CAA records at ${f.lookupName} or any parent domain: any CA may issue for ${kind} (RFC 8659 §3).`;
    case 'no-issue-property':
      return `CAA at ${where(f)} has no ${f.wildcard ? 'issue or issuewild' : 'issue'} property that applies to ${kind}, so it restricts no CA.`;
    case 'authorized':
      return `CAA at ${where(f)} authorises ${ca} to issue for ${kind}: ${texts(f.authorizedBy)}.`;
    case 'critical-unknown-property':
      return `CAA at ${where(f)} has a critical property this CA does not understand ${texts(f.offending)}: issuance is forbidden (RFC 8659 §4.1).`;
    case 'issuance-forbidden':
      return f.wildcard && propertyName === 'issuewild'
        ? `CAA at ${where(f)} forbids wildcard certificates for ${f.lookupName} ${texts(f.offending)}.`
        : `CAA at ${where(f)} forbids every CA from issuing for ${kind} ${texts(f.offending)}.`;
    case 'issuer-not-authorized': {
      const named = [...new Set((f.offending ?? []).map((v) => v.issuer).filter((v): v is string => !!v))];
      return `CAA at ${where(f)} authorises ${named.length ? quoteList(named) : 'no valid issuer'} for ${kind}, not ${ca}.`;
    }
    case 'account-uri-missing':
      return `CAA at ${where(f)} authorises ${ca} only for specific ACME accounts ${texts(f.offending)}, and the request names no account (RFC 8657 §3).`;
    case 'account-uri-mismatch':
      return `CAA at ${where(f)} authorises ${ca} only for ACME account(s) ${quoteList([...new Set((f.offending ?? []).map((v) => v.accountUri ?? ''))])}; the request came from ${f.request.accountUri} (RFC 8657 §3).`;
    case 'validation-method-missing':
      return `CAA at ${where(f)} restricts ${ca} to validation methods ${texts(f.offending)}, and the request names no method (RFC 8657 §4).`;
    case 'validation-method-not-allowed':
      return `CAA at ${where(f)} does not allow validation method ${f.request.validationMethod} for ${ca} ${texts(f.offending)} (RFC 8657 §4).`;
    case 'malformed-records':
      return `CAA at ${where(f)} has only malformed ${propertyName} records ${texts(f.offending)}; a malformed record authorises nobody (RFC 8659 §4.2).`;
    case 'invalid-name':
      return `Cannot check CAA: ${f.errorMessage ?? 'invalid name'}.`;
    default:
      return `CAA lookup failed: ${f.errorMessage ?? f.reason}. A CA must not issue when CAA cannot be checked (RFC 8659 §3, CA/B BR §3.2.2.8).`;
  }
}
