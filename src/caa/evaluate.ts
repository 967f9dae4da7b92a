/**
 * @module caa/evaluate
 * `evaluateCaa`: the CA's question "may I issue for this name?" answered end to end — identifier
 * normalisation, the Relevant RRset search, the pure verdict, and an explanation.
 */
import { decide, viewRecord } from './decide.js';
import { explain } from './explain.js';
import { parseIdentifier, searchPath } from './identifier.js';
import { findRelevantRrset } from './relevant.js';
import type { CaaRequest, CaaResolverPort, CaaResult, PortResponse } from './types.js';

/** CA/B BR §3.2.2.8: "the CA MAY reuse … for the greater of the CAA TTL or 8 hours". */
export const MIN_REUSE_SECONDS = 8 * 3600;

/** Puts the fields a reader looks for first at the top of the JSON object. */
function ordered(facts: Omit<CaaResult, 'explanation'>, explanation: string): CaaResult {
  const { name, decision, reason, ...rest } = facts;
  return { name, decision, reason, explanation, ...rest };
}

export async function evaluateCaa(request: CaaRequest, resolver: CaaResolverPort): Promise<CaaResult> {
  const echo = {
    issuerDomains: [...request.issuerDomains],
    accountUri: request.accountUri ?? null,
    validationMethod: request.validationMethod ?? null,
  };
  const id = parseIdentifier(request.name);
  const base = {
    name: request.name,
    lookupName: id.ok ? id.lookupName : request.name,
    wildcard: id.ok ? id.wildcard : request.name.startsWith('*.'),
    foundAt: null,
    aliasTarget: null,
    records: [],
    authorizedBy: [],
    ttl: null,
    reusableForSeconds: null,
    request: echo,
  };
  if (!id.ok) {
    const facts = {
      ...base,
      decision: 'error' as const,
      reason: 'invalid-name' as const,
      dnssec: 'unknown' as const,
      lookups: [],
    };
    return ordered(facts, explain({ ...facts, errorMessage: id.error }));
  }

  const found = await findRelevantRrset(resolver, searchPath(id.lookupName));
  if (!found.ok) {
    const facts = {
      ...base,
      decision: 'error' as const,
      reason: found.reason,
      dnssec: found.dnssec,
      lookups: found.lookups,
    };
    return ordered(facts, explain({ ...facts, errorMessage: found.message }));
  }

  const verdict = decide({
    records: found.records,
    wildcard: id.wildcard,
    issuerDomains: request.issuerDomains,
    accountUri: echo.accountUri,
    validationMethod: echo.validationMethod,
  });
  const facts = {
    ...base,
    decision: verdict.decision,
    reason: verdict.reason,
    foundAt: found.foundAt,
    aliasTarget: found.aliasTarget,
    records: found.records.map(viewRecord),
    authorizedBy: verdict.authorizedBy,
    dnssec: found.dnssec,
    ttl: found.ttl,
    reusableForSeconds: found.ttl === null ? null : Math.max(found.ttl, MIN_REUSE_SECONDS),
    lookups: found.lookups,
  };
  return ordered(
    facts,
    explain({ ...facts, offending: verdict.decision === 'deny' ? verdict.offending : [] }),
  );
}

/**
 * Shares lookups between the names of one request: `www.example.com` and `example.com` in one
 * CSR ask for `example.com` once. Scoped to one call, so no answer outlives the request.
 */
function memoize(resolver: CaaResolverPort): CaaResolverPort {
  const cache = new Map<string, Promise<PortResponse>>();
  return {
    query(name, type, options) {
      const key = `${name}/${type}/${options.dnssecOk}`;
      let hit = cache.get(key);
      if (!hit) {
        hit = resolver.query(name, type, options);
        cache.set(key, hit);
      }
      return hit;
    },
  };
}

/** A CSR's SAN list: every name evaluated concurrently, one result per name, in input order. */
export async function evaluateCaaMany(
  names: readonly string[],
  request: Omit<CaaRequest, 'name'>,
  resolver: CaaResolverPort,
): Promise<CaaResult[]> {
  const shared = memoize(resolver);
  return Promise.all(names.map((name) => evaluateCaa({ ...request, name }, shared)));
}
