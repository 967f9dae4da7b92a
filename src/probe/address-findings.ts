/**
 * @module probe/address-findings
 * The findings about what one address presented, drawn from its observation alone
 * (address-observation.ts): the certificate (expiry, name, key, pins, issuer; checks.ts), the chain
 * as served (chain.ts), the key type asked for (`--key-types`), and the SCTs against the CT policy
 * (RFC 6962 §3.3: from the certificate, the TLS extension and the stapled OCSP response; ct-policy.ts)
 * where CT applies (ct-scope.ts). Pure: no I/O, no clock but the `now` given. The slower questions
 * about the certificate are asked once per certificate later (certificate-lookups.ts).
 */
import { errorMessage } from '../errors.js';
import type { LogInfo } from '../ct/index.js';
import { sha256Hex } from '../hash.js';
import { subjectPublicKeyInfo, summarizeCertificate } from '../x509/index.js';
import type { CertSummary } from '../x509/index.js';
import type { AddressObservation } from './address-observation.js';
import { checkChain } from './chain.js';
import { checkCertificate, checkExpectations, checkScts, daysLeft } from './checks.js';
import type { CertificateExpectations, CertificateFacts } from './checks.js';
import { evaluateCtPolicy } from './ct-policy.js';
import type { CtPolicyResult } from './ct-policy.js';
import { ctScopeNote } from './ct-scope.js';
import type { CtScope } from './ct-scope.js';
import type { AddressResult, EndpointCheckOptions } from './endpoint-types.js';
import { keyTypeMatches } from './key-types.js';
import { collectScts } from './scts.js';
import type { SctDeliveryError } from './scts.js';
import type { Finding, SctCheck } from './types.js';

export interface CtContext {
  scope: CtScope;
  /** The log list for a public chain; null when there is none (or CT does not apply). */
  logs: LogInfo[] | null;
  /** Why CT is off: `--ct-policy none` or `--min-scts 0`. */
  offBecause: 'policy-none' | 'min-scts-0';
}

/** An address that presented a parsable leaf: its result so far, and what the later phases need. */
export interface AnalysedCertificate {
  result: AddressResult;
  leaf: Uint8Array;
  summary: CertSummary;
  certSha256: string;
}

/** An address that presented no usable certificate is final already: CRITICAL, with why. */
export type AnalysedAddress = AnalysedCertificate | AddressResult;

/** Draws the findings about one observation; `ct` null: as if CT were off. */
export function analyseAddress(
  o: AddressObservation,
  options: EndpointCheckOptions,
  name: string,
  now: Date,
  ct: CtContext | null,
): AnalysedAddress {
  const empty: AddressResult = {
    address: o.address,
    status: 'CRITICAL',
    error: o.error,
    protocol: null,
    cipher: null,
    handshakeMs: null,
    certificate: null,
    chainLength: 0,
    ctScope: null,
    scts: [],
    ctPolicy: null,
    ctPresence: null,
    tlsExtension: null,
    findings: [],
  };
  const h = o.handshake;
  if (!h) {
    empty.findings.push({
      id: o.keyType && o.tlsFailed ? 'key-type-missing' : 'connect-failed',
      severity: 'critical',
      message:
        o.keyType && o.tlsFailed
          ? `no ${o.keyType} certificate: a handshake offering only ${o.keyType} failed (${o.error ?? '?'})`
          : (o.error ?? 'no handshake'),
      address: o.address,
    });
    return empty;
  }
  const leaf = h.chain[0];
  if (!leaf) {
    empty.findings.push({
      id: 'no-certificate',
      severity: 'critical',
      message: 'the server presented no certificate',
      address: o.address,
    });
    return empty;
  }
  let summary: CertSummary;
  try {
    summary = summarizeCertificate(leaf);
  } catch (e) {
    empty.findings.push({
      id: 'certificate-malformed',
      severity: 'critical',
      message: `the presented certificate cannot be parsed: ${errorMessage(e)}`,
      address: o.address,
    });
    return empty;
  }
  const issuer = h.chain[1] ?? null;
  const certSha256 = sha256Hex(leaf);
  const facts: CertificateFacts = {
    address: o.address,
    leaf,
    summary,
    certSha256,
    issuerSpkiSha256: issuer ? sha256Hex(subjectPublicKeyInfo(issuer)) : null,
    authorized: h.authorized,
    authorizationError: h.authorizationError,
  };
  const expect: CertificateExpectations = {
    hostname: name,
    warnDays: options.warnDays,
    critDays: options.critDays,
    pins: options.pins,
    expectIssuer: options.expectIssuer,
    minRsaBits: options.minRsaBits,
    now,
  };
  const scope = ct?.scope ?? 'off';
  const findings: Finding[] = [
    ...checkCertificate(facts, expect),
    ...checkExpectations(facts, expect),
    ...checkChain({
      address: o.address,
      served: o.servedChain,
      validated: h.chain,
      authorized: h.authorized,
      warnDays: options.warnDays,
      critDays: options.critDays,
      minRsaBits: options.minRsaBits,
      now,
    }),
  ];
  if (o.keyType && !keyTypeMatches(o.keyType, summary.keyType))
    findings.push({
      id: 'key-type-missing',
      severity: 'critical',
      message: `no ${o.keyType} certificate: offered only ${o.keyType}, the server presented a ${summary.keyType} one`,
      address: o.address,
    });
  let scts: SctCheck[] = [];
  let policy: CtPolicyResult | null = null;
  if (scope === 'public' && ct?.logs) {
    const collected = collectScts({
      leaf,
      issuer,
      ocspResponse: h.ocspResponse,
      tlsExtensionSctList: o.tlsExtSctList,
      logs: ct.logs,
    });
    scts = collected.scts;
    policy = evaluateCtPolicy(collected.scts, {
      policy: options.ctPolicy,
      ...(options.minScts !== undefined ? { minScts: options.minScts } : {}),
      notBefore: summary.notBefore,
      notAfter: summary.notAfter,
      logs: ct.logs,
      now,
    });
    findings.push(...checkScts(o.address, collected.scts, collected.errors as SctDeliveryError[], policy));
  } else if (scope === 'public') {
    // No log list at all: the SCTs cannot be verified. Only the CT findings degrade (WARNING).
    findings.push({
      id: 'ct-unchecked',
      severity: 'warning',
      message: 'SCTs not verified: no CT log list could be loaded',
      address: o.address,
    });
  } else {
    const note = ctScopeNote(scope, ct?.offBecause ?? 'policy-none');
    if (note)
      findings.push({
        id: scope === 'private' ? 'ct-not-required' : 'ct-off',
        severity: 'info',
        message: note,
        address: o.address,
      });
  }
  if (scope === 'public' && o.tlsExtNote)
    findings.push({
      id: 'tls-extension-unread',
      severity: 'info',
      message: o.tlsExtNote,
      address: o.address,
    });
  return {
    leaf,
    summary,
    certSha256,
    result: {
      address: o.address,
      status: 'OK',
      error: null,
      protocol: h.protocol,
      cipher: h.cipher,
      handshakeMs: h.handshakeMs,
      certificate: {
        sha256: certSha256,
        tbsSha256: summary.tbsSha256,
        spkiSha256: summary.spkiSha256,
        subject: summary.subject,
        issuer: summary.issuer,
        dnsNames: summary.dnsNames,
        notBefore: summary.notBefore,
        notAfter: summary.notAfter,
        keyType: summary.keyType,
        serial: summary.serialHex,
        daysLeft: daysLeft(summary, now),
      },
      // As sent: Node's chain may end with a root it took from our trust store (chain.ts).
      chainLength: o.servedChain?.length ?? h.chain.length,
      ctScope: scope,
      scts,
      ctPolicy: policy,
      ctPresence: null,
      tlsExtension: o.tlsExtNote,
      findings,
    },
  };
}
