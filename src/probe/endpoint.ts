/**
 * @module probe/endpoint
 * The external check of one endpoint: resolve every address, connect to each (STARTTLS when asked),
 * read the chain with a real handshake and the TLS-extension SCTs with a raw hello, then draw the
 * findings (`checks.ts`) and the monitoring-plugins status. I/O lives here; decisions do not.
 *
 * Per certificate (not per address) the slower questions are asked once: is it in CT, is it one
 * of ours, does CAA allow its CA. Addresses that present different certificates get each asked.
 */
import type { Socket } from 'node:net';
import { CertvigilError } from '../errors.js';
import { caaIdentifiersForIssuer, evaluateCaa } from '../caa/index.js';
import type { CaaResolverPort } from '../caa/index.js';
import type { LogInfo } from '../ct/index.js';
import type { DnsClient } from '../dns/index.js';
import type { Store } from '../store/index.js';
import { subjectPublicKeyInfo, summarizeCertificate } from '../x509/index.js';
import type { CertSummary } from '../x509/index.js';
import {
  checkCaa,
  checkCertificate,
  checkCtPresence,
  checkExpectations,
  checkInventory,
  checkScts,
  daysLeft,
  wholeDays,
} from './checks.js';
import type { CaaAnswer, CertificateExpectations, CertificateFacts, InventoryAnswer } from './checks.js';
import { hostPort, openTcp, resolveAddresses } from './connect.js';
import type { ProxySpec } from './connect.js';
import { lookupCtPresence } from './ct-presence.js';
import { checkDane } from './dane-lookup.js';
import type { DaneSettings } from './dane-lookup.js';
import { evaluateCtPolicy } from './ct-policy.js';
import { ctScope, ctScopeNote } from './ct-scope.js';
import type { CtScope } from './ct-scope.js';
import type { CtPolicyName, CtPolicyResult } from './ct-policy.js';
import { tlsHandshake } from './handshake.js';
import { checkChain } from './chain.js';
import { keyTypeAddress, keyTypeMatches, keyTypeOffer } from './key-types.js';
import type { ServerKeyType } from './key-types.js';
import { statusOfFindings, worstStatus } from './plugin-output.js';
import { sha256Hex } from '../hash.js';
import { collectScts } from './scts.js';
import type { SctDeliveryError } from './scts.js';
import { proxyFinding } from './proxy.js';
import { negotiateStartTls } from './starttls.js';
import { probeTlsExtensionScts } from './tls-hello.js';
import { decideTlsPolicy, planTlsProbes } from './tls-policy.js';
import type { TlsPolicySettings } from './tls-policy.js';
import { runTlsProbes } from './tls-policy-probe.js';
import { revocationFindingsFor } from './revocation/entry.js';
import { RevocationCache } from './revocation/settings.js';
import type { RevocationSettings } from './revocation/settings.js';
import type { CtPresence, Finding, PerfDatum, PluginStatus, SctCheck, StartTlsProtocol } from './types.js';

export interface CtPresenceSettings {
  /** Ask the logs named in the SCTs for an inclusion proof. */
  proofs: boolean;
  crtShUrl: string | null;
  certSpotterUrl: string | null;
  certSpotterApiKey?: string;
}

/** The log list as the check could get it (see cli/commands/check-loglist.ts). */
export interface LogsForCheck {
  /** Null: no list at all; SCTs cannot be verified (the CT findings degrade to WARNING). */
  logs: LogInfo[] | null;
  /** Why an older copy serves (INFO), or why there is none; null when current. */
  note: string | null;
}

export interface EndpointCheckOptions {
  host: string;
  port: number;
  starttls?: StartTlsProtocol;
  /** SNI and the name the certificate must match; default the host (none for an IP literal). */
  sni?: string;
  /** Connect here instead of the host's addresses (IP literals or names). */
  connectTo?: string[];
  proxy?: ProxySpec;
  /** Resolver for A/AAAA (default the system's getaddrinfo). */
  resolver?: DnsClient;
  family?: 4 | 6;
  /** PEM trust anchors (`--ca-file`, else the system store). */
  trustAnchors: string | string[];
  pins: string[];
  expectIssuer: string[];
  /** `--expect-caa`: a resolver for the CAA engine, and optional explicit CA identifiers. */
  expectCaa?: { resolver: CaaResolverPort; issuerDomains?: string[] };
  /** The log list, when the caller has it already (library use). */
  logs?: LogInfo[];
  /**
   * Loads the log list within `budgetMs`, asked only when CT applies to a presented chain (so a
   * private CA or `--min-scts 0` never causes a download). Ignored when `logs` is given.
   */
  loadLogs?: (budgetMs: number) => Promise<LogsForCheck>;
  /** The trust anchors are the user's (`--ca-file`): CT applies only to chains ending at a public root. */
  customAnchors?: boolean;
  /** Hex SHA-256 of the public roots, asked only with `customAnchors` (probe/public-roots.ts). */
  publicRoots?: () => Promise<ReadonlySet<string>>;
  /** `--require-ct`: the CT policy applies even to a chain that ends at a private anchor. */
  requireCt?: boolean;
  ctPolicy: CtPolicyName;
  minScts?: number;
  ctPresence: CtPresenceSettings | null;
  /** Monitor store: CT presence from what the monitor saw, and the inventory (internal check). */
  store?: Store;
  warnDays: number;
  critDays: number;
  minRsaBits: number;
  /** Revocation of the presented chain (`--revocation`, probe/revocation); absent: not checked. */
  revocation?: RevocationSettings;
  /** `-t`: the whole check (resolution, every handshake, log list, CT and CAA lookups) ends within it. */
  timeoutMs: number;
  /** Absolute end (ms since the epoch) when the caller's clock started earlier; default now + timeoutMs. */
  deadline?: number;
  now?: Date;
  signal?: AbortSignal;
  /** `--key-types`: one handshake per key type, each checked as its own "address" (`1.2.3.4 [ecdsa]`). */
  keyTypes?: ServerKeyType[];
  /** `--client-cert`/`--client-key` (PEM) for servers that require a client certificate. */
  clientCert?: { cert: string; key: string };
  /** `--dane`: TLSA records (RFC 6698/7671/7672) must exist, be DNSSEC-validated and match. */
  dane?: DaneSettings;
  /** TLS protocol policy (tls-policy.ts): versions to refuse, weak ciphers; none when absent. */
  tlsPolicy?: TlsPolicySettings;
}

/** What one address presented, and the findings about it. */
export interface AddressResult {
  address: string;
  status: PluginStatus;
  error: string | null;
  protocol: string | null;
  cipher: string | null;
  handshakeMs: number | null;
  certificate: {
    sha256: string;
    tbsSha256: string;
    spkiSha256: string;
    subject: string;
    issuer: string;
    dnsNames: string[];
    notBefore: string;
    notAfter: string;
    keyType: string;
    serial: string;
    daysLeft: number;
  } | null;
  /** Certificates the server sent (when the raw hello read them; else Node's chain length). */
  chainLength: number;
  /** Whether the CT policy applied to this chain (probe/ct-scope.ts); null without a handshake. */
  ctScope: CtScope | null;
  scts: SctCheck[];
  ctPolicy: CtPolicyResult | null;
  ctPresence: CtPresence | null;
  tlsExtension: string | null;
  findings: Finding[];
}

export interface EndpointCheckResult {
  target: string;
  host: string;
  port: number;
  starttls: StartTlsProtocol | null;
  sni: string | null;
  status: PluginStatus;
  /** The text after `CERTVIGIL STATUS - ` on the status line. */
  summary: string;
  addresses: AddressResult[];
  findings: Finding[];
  perfdata: PerfDatum[];
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** `--ct-policy none` (without a count) or `--min-scts 0`: no CT work at all, not even the log list. */
export function ctOff(options: Pick<EndpointCheckOptions, 'ctPolicy' | 'minScts'>): boolean {
  return options.minScts === 0 || (options.ctPolicy === 'none' && options.minScts === undefined);
}

/** Time kept back from `-t` to draw the findings and print them. */
const marginMs = (timeoutMs: number): number => Math.min(250, Math.max(20, timeoutMs * 0.05));
/** At most this long (and half the time left) goes to downloading the log list. */
const LOG_LIST_BUDGET_MS = 3000;
const NO_ROOTS: ReadonlySet<string> = new Set();
/** At most this long goes to OCSP responders and CRL servers (all of them, in parallel). */
const REVOCATION_BUDGET_MS = 4000;

/** `work` or, when it has not settled by `deadline`, `fallback()`: a phase never outlives `-t`. */
async function byDeadline<T>(work: Promise<T>, deadline: number, fallback: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback()), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

interface Observed {
  address: string;
  error: string | null;
  handshake: Awaited<ReturnType<typeof tlsHandshake>> | null;
  tlsExtSctList: Uint8Array | null;
  tlsExtNote: string | null;
  /** The Certificate message as served (raw TLS 1.2 hello), when it shows the same leaf. */
  servedChain: Uint8Array[] | null;
  keyType?: ServerKeyType;
  /** The connection worked but the TLS handshake failed (a missing key type, not a dead server). */
  tlsFailed?: boolean;
}

async function connectAndUpgrade(
  address: string,
  options: EndpointCheckOptions,
  deadline: number,
): Promise<Socket> {
  const left = (): number => Math.max(1, deadline - Date.now());
  const socket = await openTcp(address, options.port, {
    timeoutMs: left(),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.proxy ? { proxy: options.proxy } : {}),
  });
  if (options.starttls) {
    try {
      await negotiateStartTls(socket, options.starttls, {
        domain: options.sni ?? options.host,
        timeoutMs: left(),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (e) {
      socket.destroy();
      throw e;
    }
  }
  return socket;
}

async function observe(
  address: string,
  options: EndpointCheckOptions,
  sni: string | null,
  deadline: number,
  keyType?: ServerKeyType,
): Promise<Observed> {
  const label = keyTypeAddress(address, keyType);
  const left = (): number => Math.max(1, deadline - Date.now());
  const main = (async () => {
    const socket = await connectAndUpgrade(address, options, deadline);
    return tlsHandshake(socket, {
      servername: sni,
      ca: options.trustAnchors,
      timeoutMs: left(),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(keyType ? { keyType } : {}),
      ...(options.clientCert ? { clientCert: options.clientCert } : {}),
    });
  })();
  // RFC 6962 §3.3.1: the TLS extension is only visible to a client that asks for it, which Node
  // cannot; a second connection sends our own TLS 1.2 hello and reads the ServerHello.
  // It also shows the chain exactly as sent (chain.ts), so it runs even with CT off.
  const ext = (async () => {
    const socket = await connectAndUpgrade(address, options, deadline);
    return probeTlsExtensionScts(socket, sni, {
      timeoutMs: left(),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(keyType ? { cipherSuites: keyTypeOffer(keyType).helloSuites } : {}),
    });
  })();
  const [m, x] = await Promise.allSettled([main, ext]);
  if (m.status === 'rejected')
    return {
      address: label,
      error: message(m.reason),
      handshake: null,
      tlsExtSctList: null,
      tlsExtNote: null,
      servedChain: null,
      ...(keyType ? { keyType, tlsFailed: (m.reason as { code?: unknown }).code === 'PROBE_TLS' } : {}),
    };
  let tlsExtSctList: Uint8Array | null = null;
  let tlsExtNote: string | null = null;
  if (x.status === 'rejected') tlsExtNote = `TLS-extension SCTs not read: ${message(x.reason)}`;
  else if (x.value.alert)
    tlsExtNote = `TLS-extension SCTs not read: the server refused a TLS 1.2 hello (alert ${x.value.alert.description})`;
  else if (x.value.version !== 0x0303)
    tlsExtNote = 'TLS-extension SCTs not read: the server did not negotiate TLS 1.2';
  else tlsExtSctList = x.value.sctList;
  // Node rebuilds the chain (chain.ts); the raw hello saw it as sent, if it got the same leaf.
  const served = x.status === 'fulfilled' ? x.value.certificates : [];
  const leaf = m.value.chain[0];
  const servedChain = served[0] && leaf && Buffer.from(served[0]).equals(Buffer.from(leaf)) ? served : null;
  return {
    address: label,
    error: null,
    handshake: m.value,
    tlsExtSctList,
    tlsExtNote,
    servedChain,
    ...(keyType ? { keyType } : {}),
  };
}

interface PerCertificate {
  presence: CtPresence | null;
  inventory: InventoryAnswer | null;
  caa: CaaAnswer | null;
}

async function inventoryAnswer(
  store: Store,
  summary: CertSummary,
  certSha256: string,
): Promise<InventoryAnswer> {
  const [inventory, authorizations] = await Promise.all([store.listInventory(), store.listAuthorizations()]);
  const mine = inventory.find((r) => r.certSha256 === certSha256 || r.tbsSha256 === summary.tbsSha256);
  if (mine) return { ours: true, otherForNames: 0, detail: `in the inventory: ${mine.source} ${mine.path}` };
  const auth = authorizations.find((a) =>
    [certSha256, summary.tbsSha256, summary.spkiSha256].includes(a.hash),
  );
  if (auth) return { ours: true, otherForNames: 0, detail: `authorised: ${auth.note ?? auth.hash}` };
  const names = new Set(summary.dnsNames);
  const others = inventory.filter((r) => r.dnsNames.some((n) => names.has(n.toLowerCase())));
  return { ours: false, otherForNames: others.length, detail: '' };
}

async function caaAnswer(
  expect: NonNullable<EndpointCheckOptions['expectCaa']>,
  name: string,
  summary: CertSummary,
): Promise<CaaAnswer> {
  const issuerDomains = expect.issuerDomains?.length
    ? expect.issuerDomains
    : caaIdentifiersForIssuer(summary.issuer);
  if (issuerDomains.length === 0)
    return {
      decision: 'unknown-issuer',
      detail: `no CAA identifier known for issuer ${summary.issuer} (give --caa-identifier)`,
    };
  const result = await evaluateCaa({ name, issuerDomains }, expect.resolver);
  const ids = issuerDomains.join(', ');
  if (result.decision === 'allow')
    return { decision: 'allow', detail: `CAA for ${name} allows ${ids} (${result.reason})` };
  // From outside, the ACME account and validation method of an issuance are unknown: a record
  // naming this CA but binding it to an account or method (RFC 8657) still authorises the CA.
  if (result.reason === 'account-uri-missing' || result.reason === 'validation-method-missing')
    return { decision: 'allow', detail: `CAA for ${name} allows ${ids} for a bound account or method` };
  if (result.decision === 'deny')
    return {
      decision: 'deny',
      detail: `CAA for ${name} (at ${result.foundAt ?? '?'}) does not allow ${ids}: ${result.explanation}`,
    };
  return { decision: 'error', detail: `CAA for ${name} could not be evaluated: ${result.explanation}` };
}

async function perCertificate(
  options: EndpointCheckOptions,
  name: string,
  summary: CertSummary,
  certSha256: string,
  scts: SctCheck[],
  ct: { scope: CtScope; logs: LogInfo[] | null },
  deadline: number,
): Promise<PerCertificate> {
  const settings = ct.scope === 'public' ? options.ctPresence : null;
  const presence = settings
    ? lookupCtPresence({
        logs: settings.proofs ? (ct.logs ?? []) : [],
        scts: settings.proofs ? scts : [],
        certSha256,
        tbsSha256: summary.tbsSha256,
        dnsNames: summary.dnsNames,
        ...(options.store ? { store: options.store } : {}),
        crtShUrl: settings.crtShUrl,
        certSpotterUrl: settings.certSpotterUrl,
        ...(settings.certSpotterApiKey ? { certSpotterApiKey: settings.certSpotterApiKey } : {}),
        timeoutMs: Math.max(1, deadline - Date.now()),
        ...(options.signal ? { signal: options.signal } : {}),
      })
    : Promise.resolve(null);
  const inventory = options.store
    ? inventoryAnswer(options.store, summary, certSha256)
    : Promise.resolve(null);
  const caa = options.expectCaa
    ? caaAnswer(options.expectCaa, name, summary).catch((e: unknown): CaaAnswer => ({
        decision: 'error',
        detail: `CAA lookup failed: ${message(e)}`,
      }))
    : Promise.resolve(null);
  return { presence: await presence, inventory: await inventory, caa: await caa };
}

interface CtContext {
  scope: CtScope;
  /** The log list for a public chain; null when there is none (or CT does not apply). */
  logs: LogInfo[] | null;
  /** Why CT is off: `--ct-policy none` or `--min-scts 0`. */
  offBecause: 'policy-none' | 'min-scts-0';
}

function analyse(
  o: Observed,
  options: EndpointCheckOptions,
  name: string,
  now: Date,
  ct: CtContext | null,
): { result: AddressResult; leaf: Uint8Array; summary: CertSummary; certSha256: string } | AddressResult {
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
      message: `the presented certificate cannot be parsed: ${message(e)}`,
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

/**
 * Checks every address of the endpoint; never throws for a network failure (those are findings).
 * The whole check ends by `-t`: what has not answered by then becomes a finding about itself.
 */
export async function checkEndpoint(options: EndpointCheckOptions): Promise<EndpointCheckResult> {
  const now = options.now ?? new Date();
  const deadline = (options.deadline ?? Date.now() + options.timeoutMs) - marginMs(options.timeoutMs);
  const sni = options.sni ?? (/^[\d.]+$|:/.test(options.host) ? null : options.host);
  const name = options.sni ?? options.host;
  const target = hostPort(options.host, options.port);
  const base = {
    target,
    host: options.host,
    port: options.port,
    starttls: options.starttls ?? null,
    sni,
  };

  // The log list is needed only when CT applies; with the system store it surely does, so the
  // download (if due) runs alongside the handshakes instead of after them.
  const off = ctOff(options);
  let logsPromise: Promise<LogsForCheck> | null = null;
  const logsForCt = (): Promise<LogsForCheck> => {
    if (options.logs) return Promise.resolve({ logs: options.logs, note: null });
    if (!options.loadLogs) return Promise.resolve({ logs: null, note: 'no CT log list given' });
    const load = options.loadLogs;
    logsPromise ??= load(Math.min(LOG_LIST_BUDGET_MS, Math.max(1, (deadline - Date.now()) / 2))).catch(
      (e: unknown): LogsForCheck => ({ logs: null, note: `no log list: ${message(e)}` }),
    );
    return logsPromise;
  };
  if (!off && (!options.customAnchors || options.requireCt)) void logsForCt();

  let addresses: string[];
  try {
    if (options.proxy?.remoteDns && !options.connectTo) addresses = [options.host];
    else {
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
      addresses = [...new Set(resolved.flat())];
    }
  } catch (e) {
    const f: Finding = { id: 'resolve-failed', severity: 'unknown', message: message(e), address: '*' };
    return {
      ...base,
      status: 'UNKNOWN',
      summary: `${target}: ${f.message}`,
      addresses: [],
      findings: [f],
      perfdata: [],
    };
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
        ? options.keyTypes.map((k) => observe(a, options, sni, deadline, k))
        : [observe(a, options, sni, deadline)],
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
    analyse(o, options, name, now, { scope: scopes[i] ?? 'off', logs: logs?.logs ?? null, offBecause }),
  );
  const policyOutcomes = await Promise.all(policyRuns);
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

  // The slow questions, once per distinct certificate, all ending by the deadline.
  const byCert = new Map<string, Promise<PerCertificate>>();
  analysed.forEach((a, i) => {
    if (!('result' in a) || byCert.has(a.certSha256)) return;
    const scope = scopes[i] ?? 'off';
    const failed = (detail: string): PerCertificate => ({
      presence:
        scope === 'public'
          ? { found: false, sources: [{ kind: 'store', where: '-', status: 'error', detail }] }
          : null,
      inventory: null,
      caa: null,
    });
    byCert.set(
      a.certSha256,
      byDeadline(
        perCertificate(
          options,
          name,
          a.summary,
          a.certSha256,
          a.result.scts,
          {
            scope,
            logs: logs?.logs ?? null,
          },
          deadline,
        ).catch((e: unknown) => failed(message(e))),
        deadline,
        () => failed('no answer within -t'),
      ),
    );
  });

  // Revocation (probe/revocation): the staple is per connection; OCSP/CRL fetched once per certificate.
  const revocationCache = new RevocationCache();
  // An OCSP responder or CRL server that does not answer must not eat all of -t: responders
  // answer in well under a second, and "unknown" is only a WARNING.
  const revocationDeadline = Math.min(deadline, Date.now() + REVOCATION_BUDGET_MS);
  const revocation = analysed.map((a, i) => {
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

  const findings = results.flatMap((r) => r.findings);
  if (logs?.note)
    findings.push({
      id: logs.logs ? 'loglist-fallback' : 'loglist-unavailable',
      severity: logs.logs ? 'info' : 'warning',
      message: logs.note,
      address: '*',
    });
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
  const distinct = new Set(results.map((r) => r.certificate?.sha256).filter((x): x is string => !!x));
  // A dual-certificate server presents one certificate per key type, on every address alike.
  if (distinct.size > (options.keyTypes?.length || 1))
    findings.push({
      id: 'certificates-differ',
      severity: 'warning',
      message: `addresses present ${distinct.size} different certificates: ${results
        .map((r) => `${r.address} ${r.certificate?.sha256.slice(0, 16) ?? '-'}`)
        .join(', ')}`,
      address: '*',
    });
  // Which proxy the check went through (never its credentials): the path that was checked.
  if (options.proxy) findings.push(proxyFinding(options.proxy));
  const status = worstStatus([statusOfFindings(findings), ...results.map((r) => r.status)]);
  return {
    ...base,
    status,
    summary: summarize(target, status, results, findings),
    addresses: results,
    findings,
    perfdata: perfdata(results, options),
  };
}

/** Distinct addresses checked: with `--key-types` each address has one result per key type. */
function addressCount(results: readonly AddressResult[]): number {
  return new Set(results.map((r) => r.address.replace(/ \[[a-z0-9]+\]$/, ''))).size;
}

function summarize(
  target: string,
  status: PluginStatus,
  results: AddressResult[],
  findings: Finding[],
): string {
  const n = addressCount(results);
  const where = `${target}${n > 1 ? ` (${n} addresses)` : ''}`;
  if (status === 'OK') {
    const withCert = results.filter((r) => r.certificate);
    const c = withCert[0]?.certificate;
    if (!c) return `${where}: OK`;
    // The same day count as the perfdata and the expiry finding: whole days, the soonest address.
    const days = Math.min(...withCert.map((r) => wholeDays(r.certificate?.daysLeft ?? 0)));
    const ct = withCert.filter((r) => r.ctScope === 'public');
    const scts =
      ct.length > 0
        ? `, ${Math.min(...ct.map((r) => r.scts.filter((s) => s.status === 'valid').length))} valid SCTs`
        : withCert.some((r) => r.ctScope === 'private')
          ? ', private CA'
          : '';
    return `${where}: certificate for ${c.dnsNames[0] ?? c.subject} from ${c.issuer}, ${days} days left${scts}`;
  }
  const wanted = status === 'CRITICAL' ? 'critical' : status === 'UNKNOWN' ? 'unknown' : 'warning';
  const bad = findings.filter((f) => f.severity === wanted);
  const shown = bad
    .slice(0, 3)
    .map((f) => (n > 1 && f.address !== '*' ? `${f.address}: ${f.message}` : f.message));
  const more = bad.length > 3 ? ` (+${bad.length - 3} more)` : '';
  return `${where}: ${shown.join('; ')}${more}`;
}

function perfdata(results: AddressResult[], options: EndpointCheckOptions): PerfDatum[] {
  const withCert = results.filter((r) => r.certificate);
  const out: PerfDatum[] = [];
  if (withCert.length > 0) {
    const days = Math.min(...withCert.map((r) => wholeDays(r.certificate?.daysLeft ?? 0)));
    out.push({
      label: 'days',
      value: days,
      uom: '',
      warn: options.warnDays,
      crit: options.critDays,
      min: 0,
    });
    // SCTs are counted only where CT applies: a private CA's 0 is not a value worth graphing.
    const ct = withCert.filter((r) => r.ctScope === 'public');
    if (ct.length > 0) {
      const scts = Math.min(...ct.map((r) => r.scts.filter((s) => s.status === 'valid').length));
      out.push({ label: 'scts', value: scts, uom: '', min: 0 });
    }
    const ms = Math.max(...withCert.map((r) => r.handshakeMs ?? 0));
    out.push({ label: 'handshake', value: Math.round(ms) / 1000, uom: 's', min: 0 });
  }
  out.push({ label: 'addresses', value: addressCount(results), uom: '', min: 0 });
  out.push({ label: 'failed', value: addressCount(results.filter((r) => r.error)), uom: '', min: 0 });
  return out;
}
