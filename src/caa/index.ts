/**
 * @module caa
 * The CAA engine (RFC 8659 + RFC 8657) for CAs and domain owners: parse records, find the
 * Relevant RRset through any resolver that fits `CaaResolverPort`, and decide.
 *
 * @example
 * import { StubResolver } from 'certvigil/dns';
 * import { evaluateCaa } from 'certvigil/caa';
 * const resolver = new StubResolver({ servers: [{ host: '127.0.0.1', port: 53 }] });
 * const result = await evaluateCaa(
 *   { name: 'www.example.com', issuerDomains: ['letsencrypt.org'],
 *     accountUri: 'https://acme-v02.api.letsencrypt.org/acme/acct/1', validationMethod: 'dns-01' },
 *   resolver,
 * );
 * if (result.decision !== 'allow') refuse(result.reason, result.explanation);
 */
export { evaluateCaa, evaluateCaaMany, MIN_REUSE_SECONDS } from './evaluate.js';
export { decide, viewRecord } from './decide.js';
export type { DecideInput, Verdict } from './decide.js';
export { parseIdentifier, searchPath } from './identifier.js';
export { caaIdentifiersForIssuer, dnAttribute, knownCaaIssuers } from './issuers.js';
export type { Identifier } from './identifier.js';
export {
  CRITICAL_FLAG,
  UNDERSTOOD_TAGS,
  isCritical,
  isUnderstoodTag,
  parseIssueValue,
  presentRecord,
} from './property.js';
export type { CaaRecord, IssueValue } from './property.js';
export { findRelevantRrset, followAliases, lookupCaaAt } from './relevant.js';
export type { LookupOutcome, RelevantRrset } from './relevant.js';
export type * from './types.js';
export { buildReport, collectAudit, worstSeverity } from './audit/index.js';
export type { AuditReport, FindingId } from './audit/index.js';
export { checkIodefUrl } from './iodef-url.js';
export { issuerDomainProblem } from './property.js';
export { formatProof, formatRecords, proveRecords, suggestRecords } from './suggest/index.js';
export type { SuggestAccount, SuggestFormat } from './suggest/index.js';
export { ZoneParseError, ZoneResolver, parseZone } from './zonefile.js';
export type { ZoneRecord } from './zonefile.js';
export type { CaaErrorCode } from './errors.js';
