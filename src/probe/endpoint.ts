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
import { caaIdentifiersForIssuer } from '../monitor/caa-issuers.js';
import { evaluateCaa } from '../caa/index.js';
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
} from './checks.js';
import type { CaaAnswer, CertificateExpectations, CertificateFacts, InventoryAnswer } from './checks.js';
import { hostPort, openTcp, resolveAddresses } from './connect.js';
import type { ProxySpec } from './connect.js';
import { checkCtPresence as lookupCtPresence } from './ct-presence.js';
import { evaluateCtPolicy } from './ct-policy.js';
import type { CtPolicyName, CtPolicyResult } from './ct-policy.js';
import { tlsHandshake } from './handshake.js';
import { statusOfFindings, worstStatus } from './plugin-output.js';
import { collectScts, sha256Hex } from './scts.js';
import type { SctDeliveryError } from './scts.js';
import { negotiateStartTls } from './starttls.js';
import { probeTlsExtensionScts } from './tls-hello.js';
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
  logs: LogInfo[];
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
  timeoutMs: number;
  now?: Date;
  signal?: AbortSignal;
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
  chainLength: number;
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

interface Observed {
  address: string;
  error: string | null;
  handshake: Awaited<ReturnType<typeof tlsHandshake>> | null;
  tlsExtSctList: Uint8Array | null;
  tlsExtNote: string | null;
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
): Promise<Observed> {
  const deadline = Date.now() + options.timeoutMs;
  const left = (): number => Math.max(1, deadline - Date.now());
  const main = (async () => {
    const socket = await connectAndUpgrade(address, options, deadline);
    return tlsHandshake(socket, {
      servername: sni,
      ca: options.trustAnchors,
      timeoutMs: left(),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  })();
  // RFC 6962 §3.3.1: the TLS extension is only visible to a client that asks for it, which Node
  // cannot; a second connection sends our own TLS 1.2 hello and reads the ServerHello.
  const ext = (async () => {
    const socket = await connectAndUpgrade(address, options, deadline);
    return probeTlsExtensionScts(socket, sni, {
      timeoutMs: left(),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  })();
  const [m, x] = await Promise.allSettled([main, ext]);
  if (m.status === 'rejected')
    return { address, error: message(m.reason), handshake: null, tlsExtSctList: null, tlsExtNote: null };
  let tlsExtSctList: Uint8Array | null = null;
  let tlsExtNote: string | null = null;
  if (x.status === 'rejected') tlsExtNote = `TLS-extension SCTs not read: ${message(x.reason)}`;
  else if (x.value.alert)
    tlsExtNote = `TLS-extension SCTs not read: the server refused a TLS 1.2 hello (alert ${x.value.alert.description})`;
  else if (x.value.version !== 0x0303)
    tlsExtNote = 'TLS-extension SCTs not read: the server did not negotiate TLS 1.2';
  else tlsExtSctList = x.value.sctList;
  return { address, error: null, handshake: m.value, tlsExtSctList, tlsExtNote };
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
): Promise<PerCertificate> {
  const settings = options.ctPresence;
  const presence = settings
    ? lookupCtPresence({
        logs: settings.proofs ? options.logs : [],
        scts: settings.proofs ? scts : [],
        certSha256,
        tbsSha256: summary.tbsSha256,
        dnsNames: summary.dnsNames,
        ...(options.store ? { store: options.store } : {}),
        crtShUrl: settings.crtShUrl,
        certSpotterUrl: settings.certSpotterUrl,
        ...(settings.certSpotterApiKey ? { certSpotterApiKey: settings.certSpotterApiKey } : {}),
        timeoutMs: options.timeoutMs,
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

function analyse(
  o: Observed,
  options: EndpointCheckOptions,
  name: string,
  now: Date,
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
    scts: [],
    ctPolicy: null,
    ctPresence: null,
    tlsExtension: null,
    findings: [],
  };
  const h = o.handshake;
  if (!h) {
    empty.findings.push({
      id: 'connect-failed',
      severity: 'critical',
      message: o.error ?? 'no handshake',
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
  const collected = collectScts({
    leaf,
    issuer,
    ocspResponse: h.ocspResponse,
    tlsExtensionSctList: o.tlsExtSctList,
    logs: options.logs,
  });
  const policy =
    options.ctPolicy === 'none' && options.minScts === undefined
      ? null
      : evaluateCtPolicy(collected.scts, {
          policy: options.ctPolicy,
          ...(options.minScts !== undefined ? { minScts: options.minScts } : {}),
          notBefore: summary.notBefore,
          notAfter: summary.notAfter,
          logs: options.logs,
          now,
        });
  const findings: Finding[] = [
    ...checkCertificate(facts, expect),
    ...checkExpectations(facts, expect),
    ...checkScts(o.address, collected.scts, collected.errors as SctDeliveryError[], policy),
  ];
  if (o.tlsExtNote)
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
      chainLength: h.chain.length,
      scts: collected.scts,
      ctPolicy: policy,
      ctPresence: null,
      tlsExtension: o.tlsExtNote,
      findings,
    },
  };
}

/** Checks every address of the endpoint; never throws for a network failure (those are findings). */
export async function checkEndpoint(options: EndpointCheckOptions): Promise<EndpointCheckResult> {
  const now = options.now ?? new Date();
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

  let addresses: string[];
  try {
    if (options.proxy?.remoteDns && !options.connectTo) addresses = [options.host];
    else {
      const wanted = options.connectTo && options.connectTo.length > 0 ? options.connectTo : [options.host];
      const lists = await Promise.all(
        wanted.map((h) =>
          resolveAddresses(h, {
            ...(options.resolver ? { resolver: options.resolver } : {}),
            ...(options.family ? { family: options.family } : {}),
          }),
        ),
      );
      addresses = [...new Set(lists.flat())];
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

  const observed = await Promise.all(addresses.map((a) => observe(a, options, sni)));
  const analysed = observed.map((o) => analyse(o, options, name, now));

  // The slow questions, once per distinct certificate.
  const byCert = new Map<string, Promise<PerCertificate>>();
  for (const a of analysed) {
    if (!('result' in a)) continue;
    if (!byCert.has(a.certSha256))
      byCert.set(
        a.certSha256,
        perCertificate(options, name, a.summary, a.certSha256, a.result.scts).catch(
          (e: unknown): PerCertificate => ({
            presence: {
              found: false,
              sources: [{ kind: 'store', where: '-', status: 'error', detail: message(e) }],
            },
            inventory: null,
            caa: null,
          }),
        ),
      );
  }
  // Revocation (probe/revocation): the staple is per connection; OCSP/CRL fetched once per certificate.
  const revocationCache = new RevocationCache();
  const revocationDeadline = Date.now() + options.timeoutMs;
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
  const distinct = new Set(results.map((r) => r.certificate?.sha256).filter((x): x is string => !!x));
  if (distinct.size > 1)
    findings.push({
      id: 'certificates-differ',
      severity: 'warning',
      message: `addresses present ${distinct.size} different certificates: ${results
        .map((r) => `${r.address} ${r.certificate?.sha256.slice(0, 16) ?? '-'}`)
        .join(', ')}`,
      address: '*',
    });
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

function summarize(
  target: string,
  status: PluginStatus,
  results: AddressResult[],
  findings: Finding[],
): string {
  const n = results.length;
  const where = `${target}${n > 1 ? ` (${n} addresses)` : ''}`;
  if (status === 'OK') {
    const c = results.find((r) => r.certificate)?.certificate;
    const scts = Math.min(...results.map((r) => r.scts.filter((s) => s.status === 'valid').length));
    return c
      ? `${where}: certificate for ${c.dnsNames[0] ?? c.subject} from ${c.issuer}, ${Math.floor(c.daysLeft)} days left, ${scts} valid SCTs`
      : `${where}: OK`;
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
    const days = Math.min(...withCert.map((r) => r.certificate?.daysLeft ?? 0));
    out.push({
      label: 'days',
      value: Math.floor(days),
      uom: '',
      warn: options.warnDays,
      crit: options.critDays,
      min: 0,
    });
    const scts = Math.min(...withCert.map((r) => r.scts.filter((s) => s.status === 'valid').length));
    out.push({ label: 'scts', value: scts, uom: '', min: 0 });
    const ms = Math.max(...withCert.map((r) => r.handshakeMs ?? 0));
    out.push({ label: 'handshake', value: Math.round(ms) / 1000, uom: 's', min: 0 });
  }
  out.push({ label: 'addresses', value: results.length, uom: '', min: 0 });
  out.push({ label: 'failed', value: results.filter((r) => r.error).length, uom: '', min: 0 });
  return out;
}
