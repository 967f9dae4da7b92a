/**
 * @module probe/endpoint
 * The external check of one endpoint (`check endpoint`): the order of its phases and the one
 * deadline they share. Resolve every address; connect to each (STARTTLS when asked) and read what it
 * presents (address-observation.ts); draw each address's findings (address-findings.ts); ask the
 * slower questions once per distinct certificate (certificate-lookups.ts); check revocation
 * (revocation/) and DANE (RFC 6698/7671/7672; dane-lookup.ts); then assemble the
 * monitoring-plugins result (endpoint-result.ts). This file only schedules: what runs alongside
 * what, and that nothing outlives `-t`. The decisions live in the files it calls.
 */
import { CertvigilError, errorMessage } from '../errors.js';
import { sha256Hex } from '../hash.js';
import { analyseAddress } from './address-findings.js';
import type { AnalysedAddress } from './address-findings.js';
import { connectAndUpgrade, observeAddress } from './address-observation.js';
import type { AddressObservation } from './address-observation.js';
import { lookupOncePerCertificate } from './certificate-lookups.js';
import type { CertificateLookups } from './certificate-lookups.js';
import { checkCaa, checkCtPresence, checkInventory } from './checks.js';
import { hostPort, resolveAddresses } from './connect.js';
import { ctScope } from './ct-scope.js';
import { checkDane } from './dane-lookup.js';
import { byDeadline } from './deadline.js';
import {
  crossAddressFindings,
  endpointResult,
  logListFindings,
  resolveFailedResult,
} from './endpoint-result.js';
import type { EndpointTarget } from './endpoint-result.js';
import { ctOff } from './endpoint-types.js';
import type {
  AddressResult,
  EndpointCheckOptions,
  EndpointCheckResult,
  LogsForCheck,
} from './endpoint-types.js';
import { statusOfFindings } from './plugin-output.js';
import { revocationFindingsFor } from './revocation/entry.js';
import { RevocationCache } from './revocation/settings.js';
import { decideTlsPolicy, planTlsProbes } from './tls-policy.js';
import { runTlsProbes } from './tls-policy-probe.js';
import type { Finding } from './types.js';

/** Time kept back from `-t` to draw the findings and print them. */
const marginMs = (timeoutMs: number): number => Math.min(250, Math.max(20, timeoutMs * 0.05));
/** At most this long (and half the time left) goes to downloading the log list. */
const LOG_LIST_BUDGET_MS = 3000;
const NO_ROOTS: ReadonlySet<string> = new Set();
/** At most this long goes to OCSP responders and CRL servers (all of them, in parallel). */
const REVOCATION_BUDGET_MS = 4000;

/**
 * Checks every address of the endpoint; never throws for a network failure (those are findings).
 * The whole check ends by `-t`: what has not answered by then becomes a finding about itself.
 */
export async function checkEndpoint(options: EndpointCheckOptions): Promise<EndpointCheckResult> {
  const now = options.now ?? new Date();
  const deadline = (options.deadline ?? Date.now() + options.timeoutMs) - marginMs(options.timeoutMs);
  const sni = options.sni ?? (/^[\d.]+$|:/.test(options.host) ? null : options.host);
  const name = options.sni ?? options.host;
  const base: EndpointTarget = {
    target: hostPort(options.host, options.port),
    host: options.host,
    port: options.port,
    starttls: options.starttls ?? null,
    sni,
  };

  // The log list is needed only when CT applies; with the system store it surely does, so the
  // download (if due) runs alongside the handshakes instead of after them.
  const off = ctOff(options);
  const logsForCt = logListLoader(options, deadline);
  if (!off && (!options.customAnchors || options.requireCt)) void logsForCt();

  let addresses: string[];
  try {
    addresses = await resolveTargetAddresses(options, deadline);
  } catch (e) {
    return resolveFailedResult(base, errorMessage(e));
  }

  // TLS protocol policy: its own raw hellos (one connection per question), alongside the main probes.
  const policyProbes = options.tlsPolicy ? planTlsProbes(options.tlsPolicy) : [];
  const policyRuns = addresses.map((a) =>
    runTlsProbes(policyProbes, {
      connect: () => connectAndUpgrade(a, options, deadline),
      serverName: sni,
      deadline,
      ...(options.signal ? { signal: options.signal } : {}),
    }),
  );
  const observed = await Promise.all(
    addresses.flatMap((a) =>
      options.keyTypes?.length
        ? options.keyTypes.map((k) => observeAddress(a, options, sni, deadline, k))
        : [observeAddress(a, options, sni, deadline)],
    ),
  );

  // Does CT apply to what was presented? (probe/ct-scope.ts)
  const customAnchors = options.customAnchors ?? false;
  const roots =
    !off && customAnchors && !options.requireCt && options.publicRoots
      ? await options.publicRoots().catch(() => NO_ROOTS)
      : NO_ROOTS;
  const scopes = observed.map((o) =>
    ctScope({
      off,
      requireCt: options.requireCt ?? false,
      customAnchors,
      chainSha256: o.handshake?.chain.map((c) => sha256Hex(c)) ?? [],
      publicRoots: roots,
    }),
  );
  const logs = scopes.includes('public')
    ? await byDeadline(logsForCt(), deadline, (): LogsForCheck => ({
        logs: null,
        note: 'no log list: loading it did not finish within -t',
      }))
    : null;
  const offBecause = options.minScts === 0 ? 'min-scts-0' : 'policy-none';
  const analysed = observed.map((o, i) =>
    analyseAddress(o, options, name, now, {
      scope: scopes[i] ?? 'off',
      logs: logs?.logs ?? null,
      offBecause,
    }),
  );
  addTlsPolicyFindings(analysed, await Promise.all(policyRuns), options);

  // The slow questions, once per distinct certificate, all ending by the deadline.
  const byCert = lookupOncePerCertificate(analysed, scopes, options, name, logs?.logs ?? null, deadline);
  const revocation = startRevocationChecks(analysed, observed, options, now, deadline);
  const results = await completeResults(analysed, byCert, revocation);

  const findings = results.flatMap((r) => r.findings);
  findings.push(...logListFindings(logs));
  if (options.dane)
    findings.push(
      ...(await checkDane(
        options.dane,
        { host: options.host, port: options.port, sni: options.sni, starttls: options.starttls },
        observed,
        results,
        { timeoutMs: Math.max(1, deadline - Date.now()), signal: options.signal },
      )),
    );
  findings.push(...crossAddressFindings(results, options));
  return endpointResult(base, results, findings, options);
}

/** The log list for the CT checks, loaded at most once, with its budget taken when first asked. */
function logListLoader(options: EndpointCheckOptions, deadline: number): () => Promise<LogsForCheck> {
  let logsPromise: Promise<LogsForCheck> | null = null;
  return (): Promise<LogsForCheck> => {
    if (options.logs) return Promise.resolve({ logs: options.logs, note: null });
    if (!options.loadLogs) return Promise.resolve({ logs: null, note: 'no CT log list given' });
    const load = options.loadLogs;
    logsPromise ??= load(Math.min(LOG_LIST_BUDGET_MS, Math.max(1, (deadline - Date.now()) / 2))).catch(
      (e: unknown): LogsForCheck => ({ logs: null, note: `no log list: ${errorMessage(e)}` }),
    );
    return logsPromise;
  };
}

/**
 * The addresses to connect to: the host's (or `--connect-to`'s) A/AAAA answers, or the host name
 * itself when the proxy resolves (`socks5h`-style remote DNS). Throws when resolution fails or ends
 * after the deadline.
 */
async function resolveTargetAddresses(options: EndpointCheckOptions, deadline: number): Promise<string[]> {
  if (options.proxy?.remoteDns && !options.connectTo) return [options.host];
  const wanted = options.connectTo && options.connectTo.length > 0 ? options.connectTo : [options.host];
  const lists = Promise.all(
    wanted.map((h) =>
      resolveAddresses(h, {
        ...(options.resolver ? { resolver: options.resolver } : {}),
        ...(options.family ? { family: options.family } : {}),
      }),
    ),
  );
  const resolved = await byDeadline<string[][] | null>(lists, deadline, () => null);
  if (resolved === null)
    throw new CertvigilError('PROBE_TIMEOUT', `resolving ${options.host} did not finish within -t`);
  return [...new Set(resolved.flat())];
}

/** Adds the TLS protocol policy findings (tls-policy.ts) of each address to its first result. */
function addTlsPolicyFindings(
  analysed: readonly AnalysedAddress[],
  policyOutcomes: Awaited<ReturnType<typeof runTlsProbes>>[],
  options: EndpointCheckOptions,
): void {
  // Observations run address by address, one per key type: the policy findings go to the first.
  const perAddress = options.keyTypes?.length ?? 1;
  for (const [i, outcomes] of policyOutcomes.entries()) {
    const a = analysed[i * perAddress];
    // Where the main handshake failed, say so only if a probe got a ServerHello (a TLS 1.0-only
    // server): otherwise "cannot tell" would just repeat the connection failure.
    if (!a || !options.tlsPolicy || (!('result' in a) && !outcomes.some((o) => o.answer.kind === 'hello')))
      continue;
    const r = 'result' in a ? a.result : a;
    r.findings.push(...decideTlsPolicy(outcomes, options.tlsPolicy, r.address, r.protocol));
  }
}

/**
 * Revocation (probe/revocation) of each presented chain: the staple is per connection; OCSP and
 * CRLs are fetched once per certificate (one cache for the check). One promise per analysed address.
 */
function startRevocationChecks(
  analysed: readonly AnalysedAddress[],
  observed: readonly AddressObservation[],
  options: EndpointCheckOptions,
  now: Date,
  deadline: number,
): Promise<Finding[]>[] {
  const revocationCache = new RevocationCache();
  // An OCSP responder or CRL server that does not answer must not eat all of -t: responders
  // answer in well under a second, and "unknown" is only a WARNING.
  const revocationDeadline = Math.min(deadline, Date.now() + REVOCATION_BUDGET_MS);
  return analysed.map((a, i) => {
    const h = observed[i]?.handshake;
    if (!options.revocation || !h || !('result' in a)) return Promise.resolve([]);
    return revocationFindingsFor({
      chain: h.chain,
      staple: h.ocspResponse,
      address: a.result.address,
      settings: options.revocation,
      deadline: revocationDeadline,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.proxy ? { proxy: options.proxy } : {}),
      now,
      cache: revocationCache,
    });
  });
}

/** Each address's final result: its own findings, its certificate's answers, its revocation status. */
async function completeResults(
  analysed: readonly AnalysedAddress[],
  byCert: Map<string, Promise<CertificateLookups>>,
  revocation: Promise<Finding[]>[],
): Promise<AddressResult[]> {
  const results: AddressResult[] = [];
  for (const a of analysed) {
    if (!('result' in a)) {
      results.push(a);
      continue;
    }
    const per = await byCert.get(a.certSha256);
    const r = a.result;
    if (per) {
      r.ctPresence = per.presence;
      r.findings.push(
        ...checkCtPresence(r.address, per.presence),
        ...checkInventory(r.address, per.inventory),
        ...checkCaa(r.address, per.caa),
      );
    }
    r.findings.push(...((await revocation[analysed.indexOf(a)]) ?? []));
    r.status = statusOfFindings(r.findings);
    results.push(r);
  }
  return results;
}
