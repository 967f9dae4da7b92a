/**
 * @module iodef/reporter/policy
 * Which `iodef` targets of a refused issuance get a report, and why the others do not. Pure: the
 * CAA result, what the CA knows of the request, and the policy in; decisions out.
 *
 * RFC 8659 §4.4 lets a CA report refused issuance to the iodef URLs but leaves every question of
 * abuse open. The answers here, as the SAFE DEFAULT `DEFAULT_REPORTER_POLICY`:
 *
 * - Spam: anyone can publish `iodef "mailto:victim@example.net"` in their own zone and then make a
 *   CA refuse requests for it — the CA becomes an open relay of unwanted mail, with the CA's
 *   reputation on it. So a mailto address must be in the registered domain (eTLD+1 by the Public
 *   Suffix List including its private suffixes, via `tldts`) of the refused name, or of the alias target whose records were used
 *   (that zone's owner chose them): a zone can only make the CA mail its own domain
 *   (`mailtoSameRegisteredDomainOnly: true`). https: endpoints are exempt: a POST to an intake
 *   service lands in no human inbox, third-party intake services are the common case, and the
 *   remaining risks (SSRF, flooding) are handled by the address checks and the rate limits.
 * - SSRF: IP-literal hosts in non-public ranges are refused here; host names are resolved and
 *   checked again at send time (ssrf.ts) (`allowPrivateAddresses: false`); `http:` is refused
 *   (`allowHttp: false`): the report is private data about the applicant and the domain.
 * - Cost and floods: a report per distinct (recipient, refused names, reason) per
 *   `dedupWindowSeconds` (one day), at most `perRecipientPerDay` reports per recipient and
 *   `perRegisteredDomainPerDay` per registered domain (enforced by the store, in one transaction).
 * - Privacy: the ACME account URI is left out (`includeAccountUri: false`).
 * - Value: `onlyAfterValidation: true` reports only refusals that came after domain validation had
 *   succeeded — someone controlled the name's traffic or DNS, the case an owner must hear about
 *   (jabber.ru, 2023) — at a small fraction of the volume. Off by default: RFC 8659 §4.4 speaks of
 *   every refused request.
 * - Opt-out: `optOut` lists recipients (`mailto:…`, an address, a URL) or domains (covering their
 *   subdomains) that asked the CA for no reports.
 */
import { getDomain } from 'tldts';
import type { CaaResult } from '../../caa/index.js';
import { nonPublicAddressKind } from './address.js';
import { iodefTargets } from './targets.js';
import type { IodefTarget, TargetProblem } from './targets.js';

export interface ReporterPolicy {
  /** Report only when domain validation had already succeeded (cheap, high-value mode). */
  onlyAfterValidation: boolean;
  /** Put the ACME account URI (RFC 8657 §3) into reports. */
  includeAccountUri: boolean;
  /** The anti-spam rule: mailto addresses only in the refused name's registered domain. */
  mailtoSameRegisteredDomainOnly: boolean;
  /** Identical reports (recipient, refused names, reason) at most once per window. */
  dedupWindowSeconds: number;
  perRecipientPerDay: number;
  perRegisteredDomainPerDay: number;
  /** Largest IODEF document sent (UTF-8 bytes); larger ones are rebuilt smaller or not sent. */
  maxDocumentBytes: number;
  /** Sending attempts before a report is given up. */
  maxAttempts: number;
  /** First retry delay; doubles per attempt, with ±50 % jitter, capped at `backoffMaxSeconds`. */
  backoffBaseSeconds: number;
  backoffMaxSeconds: number;
  /** Recipients (`mailto:a@b`, `a@b`, URLs) or domains (with their subdomains) that opted out. */
  optOut: string[];
  /** Send to private, loopback, link-local, … addresses (SSRF guard off: tests, lab set-ups). */
  allowPrivateAddresses: boolean;
  /** Send reports over plain `http:`. */
  allowHttp: boolean;
  /** Bounds of the https POST: the whole exchange, and the response body read. */
  httpTimeoutMs: number;
  maxResponseBytes: number;
}

export const DEFAULT_REPORTER_POLICY: Readonly<ReporterPolicy> = Object.freeze({
  onlyAfterValidation: false,
  includeAccountUri: false,
  mailtoSameRegisteredDomainOnly: true,
  dedupWindowSeconds: 86_400,
  perRecipientPerDay: 10,
  perRegisteredDomainPerDay: 50,
  maxDocumentBytes: 64 * 1024,
  maxAttempts: 6,
  backoffBaseSeconds: 300,
  backoffMaxSeconds: 12 * 3600,
  optOut: [],
  allowPrivateAddresses: false,
  allowHttp: false,
  httpTimeoutMs: 30_000,
  maxResponseBytes: 64 * 1024,
});

/** A policy from partial settings on top of the safe default. */
export function reporterPolicy(overrides: Partial<ReporterPolicy> = {}): ReporterPolicy {
  return { ...DEFAULT_REPORTER_POLICY, optOut: [...DEFAULT_REPORTER_POLICY.optOut], ...overrides };
}

export interface ReportContext {
  /** Domain validation had already succeeded for the name. */
  validationSucceeded: boolean;
}

export type SkipReason =
  | 'not-a-denial'
  | 'not-validated'
  | TargetProblem
  | 'duplicate-target'
  | 'http-not-allowed'
  | 'mailto-outside-registered-domain'
  | 'private-address'
  | 'no-registered-domain'
  | 'opted-out';

export interface PlannedReport {
  target: IodefTarget & { channel: 'mailto' | 'https'; recipient: string; host: string };
  /** The recipient's registered domain (eTLD+1; the host itself for IP literals and bare suffixes). */
  registeredDomain: string;
}

export interface SkippedTarget {
  /** null for the skips that concern the whole result (not a denial, not validated). */
  target: IodefTarget | null;
  reason: SkipReason;
  detail: string;
}

export interface ReportDecisions {
  report: PlannedReport[];
  skipped: SkippedTarget[];
}

/**
 * Registered domain of a host: eTLD+1, or the host itself (IP literal, suffix, single label).
 * The Public Suffix List is read WITH its private section (`eu.org`, `github.io`, `blogspot.com`,
 * …): those suffixes hand out names to unrelated owners, so `attacker.eu.org` and `victim.eu.org`
 * are different registered domains, and one must not make the CA mail the other (anti-spam rule).
 */
export function registeredDomainOf(host: string): string {
  return getDomain(host, { allowPrivateDomains: true }) ?? host.toLowerCase();
}

function normaliseOptOut(entry: string): string {
  return entry
    .trim()
    .toLowerCase()
    .replace(/^mailto:/, '')
    .replace(/\.$/, '');
}

/** The opt-out entry that covers the target, or null. */
export function optedOut(
  target: Pick<IodefTarget, 'address'> & { recipient: string; host: string },
  optOut: readonly string[],
): string | null {
  const candidates = [target.recipient.toLowerCase(), (target.address ?? '').toLowerCase()];
  const host = target.host.toLowerCase();
  for (const raw of optOut) {
    const entry = normaliseOptOut(raw);
    if (entry === '') continue;
    if (candidates.includes(entry) || candidates.includes(`mailto:${entry}`)) return raw;
    if (!entry.includes('@') && !entry.includes('/') && (host === entry || host.endsWith(`.${entry}`)))
      return raw;
  }
  return null;
}

function usable(t: IodefTarget): t is PlannedReport['target'] {
  return t.problem === null && t.channel !== null && t.recipient !== null && t.host !== null;
}

/** Decides, for one CAA result, which iodef targets get a report and why the others do not. */
export function decideReports(
  result: CaaResult,
  context: ReportContext,
  policy: ReporterPolicy = DEFAULT_REPORTER_POLICY,
): ReportDecisions {
  const targets = iodefTargets(result);
  const skipped: SkippedTarget[] = [];
  const report: PlannedReport[] = [];
  if (result.decision !== 'deny') {
    const detail = `issuance was not refused by CAA (decision ${result.decision}, ${result.reason})`;
    return { report, skipped: targets.map((target) => ({ target, reason: 'not-a-denial', detail })) };
  }
  if (policy.onlyAfterValidation && !context.validationSucceeded) {
    const detail = 'the policy reports only refusals after domain validation succeeded';
    return { report, skipped: targets.map((target) => ({ target, reason: 'not-validated', detail })) };
  }
  const ownDomains = new Set(
    [result.lookupName, result.aliasTarget].filter((d): d is string => d !== null).map(registeredDomainOf),
  );
  const seen = new Set<string>();
  for (const target of targets) {
    if (!usable(target)) {
      skipped.push({
        target,
        reason: target.problem ?? 'malformed-url',
        detail: target.detail ?? 'unusable iodef value',
      });
      continue;
    }
    if (seen.has(target.recipient)) {
      skipped.push({
        target,
        reason: 'duplicate-target',
        detail: 'the record set names this recipient twice',
      });
      continue;
    }
    seen.add(target.recipient);
    if (target.insecure && !policy.allowHttp) {
      skipped.push({
        target,
        reason: 'http-not-allowed',
        detail: 'reports carry private data and go over https: only (RFC 8659 §4.4)',
      });
      continue;
    }
    const registeredDomain = registeredDomainOf(target.host);
    if (registeredDomain === '') {
      skipped.push({ target, reason: 'no-registered-domain', detail: 'no registered domain for the host' });
      continue;
    }
    if (
      target.channel === 'mailto' &&
      policy.mailtoSameRegisteredDomainOnly &&
      !ownDomains.has(registeredDomain)
    ) {
      skipped.push({
        target,
        reason: 'mailto-outside-registered-domain',
        detail: `${target.address ?? target.recipient} is outside ${[...ownDomains].join(', ')}; mail goes only to the refused name's own domain (anti-spam)`,
      });
      continue;
    }
    const kind = nonPublicAddressKind(target.host);
    if (kind !== null && kind !== 'invalid' && !policy.allowPrivateAddresses) {
      skipped.push({ target, reason: 'private-address', detail: `${target.host} is a ${kind} address` });
      continue;
    }
    const optOut = optedOut(target, policy.optOut);
    if (optOut !== null) {
      skipped.push({ target, reason: 'opted-out', detail: `the recipient opted out (${optOut})` });
      continue;
    }
    report.push({ target, registeredDomain });
  }
  return { report, skipped };
}

/**
 * The retry time after the `attempts`-th failed attempt, or null to give up: base × 2^(n−1),
 * capped, times a uniform jitter factor in [0.5, 1.5) so that reports failing together spread out.
 */
export function nextAttemptAt(
  attempts: number,
  policy: ReporterPolicy,
  now: Date,
  random: () => number = Math.random,
): string | null {
  if (attempts >= policy.maxAttempts) return null;
  const delay = Math.min(
    policy.backoffBaseSeconds * 2 ** Math.max(0, attempts - 1),
    policy.backoffMaxSeconds,
  );
  return new Date(now.getTime() + delay * 1000 * (0.5 + random())).toISOString();
}
