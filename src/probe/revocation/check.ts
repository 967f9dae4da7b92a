/**
 * @module probe/revocation/check
 * The revocation check proper (see index.ts): the stapled OCSP response first (RFC 6066 §8, verified
 * as RFC 6960 §3.2 says), RFC 7633 must-staple, then the OCSP responder of the AIA extension (RFC 6960
 * Appendix A.1 POST, with an RFC 8954 nonce), then the CRL distribution points (RFC 5280 §4.2.1.13)
 * when OCSP gave no answer. The I/O (HTTP, bounded by the check's deadline and AbortSignal) is here
 * and in `http.ts`; verdicts and findings are pure (`decide.ts`); the ASN.1 is `asn1.ts`.
 */
import { errorMessage } from '../../errors.js';
import { randomBytes } from 'node:crypto';
import { sha256Hex } from '../../hash.js';
import { sanitizeText } from '../../sanitize.js';
import { summarizeCertificate } from '../../x509/index.js';
import type { Finding } from '../types.js';
import { buildOcspRequest, parseRevocationCert } from './asn1.js';
import type { RevocationCert } from './asn1.js';
import { evaluateCrl, evaluateOcsp, revocationFindings } from './decide.js';
import type { RevocationFacts, Verdict } from './decide.js';
import type { RevocationCache, RevocationSettings } from './settings.js';
import { fetchableUrl, httpRevocationFetch } from './http.js';
import type { RevocationFetch } from './http.js';
import type { ProxySpec } from '../connect.js';

/** An OCSP response is small (a few KB with a responder certificate); anything far larger is hostile. */
export const OCSP_MAX_BYTES = 256 * 1024;
/** CRLs of large public CAs reach a few MB; 20 MiB bounds memory without refusing real ones. */
export const CRL_MAX_BYTES = 20 * 1024 * 1024;
/** At most this many URLs of each kind are tried per certificate (a certificate may list dozens). */
const MAX_URLS = 3;

/** What was fetched for one (certificate, issuer). */
export interface Fetched {
  ocsp: RevocationFacts['ocsp'];
  crl: RevocationFacts['crl'];
  notes: string[];
}

export interface RevocationInput {
  /** As the handshake reports it: leaf first, each followed by its issuer (trust anchor last). */
  chain: readonly Uint8Array[];
  /** The stapled OCSP response of this connection (RFC 6066 §8), or null. */
  staple: Uint8Array | null;
  address: string;
  settings: RevocationSettings;
  /** Epoch milliseconds: no request runs past it. */
  deadline: number;
  signal?: AbortSignal;
  now: Date;
  fetch?: RevocationFetch;
  /** The check's `--proxy`, used for the OCSP and CRL requests too. */
  proxy?: ProxySpec;
  /** Shared by the addresses of one check: one fetch per (certificate, issuer). */
  cache?: RevocationCache;
}

function labelOf(cert: RevocationCert): string {
  let subject: string;
  try {
    subject = summarizeCertificate(cert.der).subject;
  } catch {
    subject = '(unparsable subject)';
  }
  return `${sanitizeText(subject, { maxLength: 200 })} (serial ${cert.serialHex})`;
}

async function fetchVerdicts(
  cert: RevocationCert,
  issuer: RevocationCert,
  input: RevocationInput,
): Promise<Fetched> {
  const fetch = input.fetch ?? httpRevocationFetch;
  const out: Fetched = { ocsp: [], crl: [], notes: [] };
  const answered = (list: { verdict: Verdict }[]): boolean =>
    list.some((x) => x.verdict.kind === 'good' || x.verdict.kind === 'revoked');
  const skipped = (kind: string, urls: string[]): void => {
    for (const u of urls.filter((x) => !fetchableUrl(x)))
      out.notes.push(
        `${kind} URL ${sanitizeText(u, { maxLength: 200 })} skipped (only http and https are fetched)`,
      );
  };

  const ocspUrls = cert.ocspUrls.filter(fetchableUrl).slice(0, MAX_URLS);
  skipped('OCSP', cert.ocspUrls);
  if (cert.ocspUrls.length === 0) out.notes.push('no OCSP responder in the certificate (AIA)');
  for (const url of ocspUrls) {
    // RFC 8954 §2.1: 32 octets is the recommended nonce length.
    const nonce = new Uint8Array(randomBytes(32));
    let verdict: Verdict;
    try {
      const body = await fetch({
        url,
        method: 'POST',
        body: buildOcspRequest(cert, issuer, nonce),
        // RFC 6960 Appendix A.1.
        contentType: 'application/ocsp-request',
        accept: 'application/ocsp-response',
        maxBytes: OCSP_MAX_BYTES,
        deadline: input.deadline,
        ...(input.signal ? { signal: input.signal } : {}),
        ...(input.proxy ? { proxy: input.proxy } : {}),
      });
      verdict = evaluateOcsp(body, { cert, issuer, nonce, now: input.now });
    } catch (e) {
      verdict = { kind: 'error', detail: errorMessage(e) };
    }
    out.ocsp.push({ url, verdict });
    if (answered(out.ocsp)) return out;
  }

  const crlUrls = cert.crlUrls.filter(fetchableUrl).slice(0, MAX_URLS);
  skipped('CRL', cert.crlUrls);
  if (cert.crlUrls.length === 0) out.notes.push('no CRL distribution point in the certificate');
  for (const url of crlUrls) {
    let verdict: Verdict;
    try {
      const body = await fetch({
        url,
        method: 'GET',
        accept: 'application/pkix-crl',
        maxBytes: CRL_MAX_BYTES,
        deadline: input.deadline,
        ...(input.signal ? { signal: input.signal } : {}),
        ...(input.proxy ? { proxy: input.proxy } : {}),
      });
      verdict = evaluateCrl(body, { cert, issuer, now: input.now });
    } catch (e) {
      verdict = { kind: 'error', detail: errorMessage(e) };
    }
    out.crl.push({ url, verdict });
    if (answered(out.crl)) return out;
  }
  return out;
}

async function oneCertificate(index: number, input: RevocationInput): Promise<Finding[]> {
  const der = input.chain[index];
  if (!der) return [];
  const role = index === 0 ? 'leaf' : 'intermediate';
  const unknown = (why: string): Finding[] => [
    {
      id: 'revocation-unknown',
      severity: input.settings.unreachable === 'ok' ? 'info' : input.settings.unreachable,
      message: `revocation status of the ${role === 'leaf' ? 'certificate' : `intermediate #${index}`} unknown: ${why}`,
      address: input.address,
    },
  ];
  let cert: RevocationCert;
  try {
    cert = parseRevocationCert(der);
  } catch (e) {
    return unknown(errorMessage(e));
  }
  // A trust anchor (self-issued, the end of the chain) is trusted by configuration, not by status.
  if (index > 0 && cert.selfIssued) return [];
  const issuerDer = input.chain[index + 1];
  let issuer: RevocationCert | null = null;
  const notes: string[] = [];
  if (issuerDer)
    try {
      issuer = parseRevocationCert(issuerDer);
    } catch (e) {
      notes.push(`its issuer certificate cannot be parsed: ${errorMessage(e)}`);
    }
  else notes.push('its issuer is neither served nor in the trust store (cannot ask OCSP or check a CRL)');

  const staple = index === 0 ? input.staple : null;
  let stapleVerdict: Verdict | null = null;
  if (staple)
    stapleVerdict = issuer
      ? evaluateOcsp(staple, { cert, issuer, now: input.now })
      : { kind: 'unknown', detail: 'the staple cannot be verified without the issuer' };
  const facts: RevocationFacts = {
    label: labelOf(cert),
    role,
    mustStaple: index === 0 && cert.mustStaple,
    staple: stapleVerdict,
    ocsp: [],
    crl: [],
    notes,
  };
  const stapleAnswered = stapleVerdict?.kind === 'good' || stapleVerdict?.kind === 'revoked';
  if (issuer && !stapleAnswered) {
    const i = issuer;
    const make = (): Promise<Fetched> => fetchVerdicts(cert, i, input);
    const fetched = await (input.cache
      ? input.cache.get(`${sha256Hex(der)}/${sha256Hex(i.der)}`, make)
      : make());
    facts.ocsp = fetched.ocsp;
    facts.crl = fetched.crl;
    facts.notes.push(...fetched.notes);
    facts.noSources = fetched.ocsp.length === 0 && fetched.crl.length === 0 && fetched.notes.length > 0;
  }
  return revocationFindings(facts, input.address, input.settings.unreachable);
}

/**
 * Revocation findings for one connection's chain. Never throws: a failure is a finding
 * (`revocation-unknown` at the configured severity). Mode `off` returns nothing.
 */
export async function checkRevocation(input: RevocationInput): Promise<Finding[]> {
  if (input.settings.mode === 'off' || input.chain.length === 0) return [];
  const count = input.settings.mode === 'chain' ? input.chain.length : 1;
  const all = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      oneCertificate(i, input).catch((e: unknown): Finding[] => [
        {
          id: 'revocation-unknown',
          severity: input.settings.unreachable === 'ok' ? 'info' : input.settings.unreachable,
          message: `revocation check failed: ${sanitizeText(errorMessage(e), { maxLength: 300 })}`,
          address: input.address,
        },
      ]),
    ),
  );
  return all.flat();
}
