/**
 * @module probe/endpoint-types
 * The contract of `check endpoint` as a library call: what the caller asks (`EndpointCheckOptions`,
 * one field per CLI flag) and what comes back (`EndpointCheckResult`, one `AddressResult` per address
 * and key type). Types only, plus `ctOff`, the one settings decision every phase needs: whether CT
 * (RFC 6962) is checked at all, so that a private CA or `--min-scts 0` never loads the log list.
 */
import type { CaaResolverPort } from '../caa/index.js';
import type { LogInfo } from '../ct/index.js';
import type { DnsClient } from '../dns/index.js';
import type { Store } from '../store/index.js';
import type { ProxySpec } from './connect.js';
import type { CtPolicyName, CtPolicyResult } from './ct-policy.js';
import type { CtScope } from './ct-scope.js';
import type { DaneSettings } from './dane-lookup.js';
import type { ServerKeyType } from './key-types.js';
import type { RevocationSettings } from './revocation/settings.js';
import type { TlsPolicySettings } from './tls-policy.js';
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

/** `--ct-policy none` (without a count) or `--min-scts 0`: no CT work at all, not even the log list. */
export function ctOff(options: Pick<EndpointCheckOptions, 'ctPolicy' | 'minScts'>): boolean {
  return options.minScts === 0 || (options.ctPolicy === 'none' && options.minScts === undefined);
}
