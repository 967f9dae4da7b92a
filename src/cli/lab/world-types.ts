/**
 * @module cli/lab/world-types
 * What the scenario needs of the lab's world (built by world.ts from src/lab's components): the
 * addresses, files and levers of a small copy of the jabber.ru setup. Kept apart so the scenario
 * reads as the story it tells.
 */

/** The victim's ports as the outside sees them (the hosting provider's front). */
export interface ServicePorts {
  /** HTTPS, the port the interceptor left alone (443 in 2023). */
  https: number;
  /** XMPP client-to-server with STARTTLS (5222 in 2023). */
  xmppStarttls: number;
  /** XMPP over direct TLS, XEP-0368 (5223 in 2023). */
  xmppTls: number;
}

export interface LabPaths {
  root: string;
  /** The zone file the DNS responder serves (written at every change). */
  zoneFile: string;
  /** The zone as it was with CAA bound to the victim's account (RFC 8657), before 2023 was replayed. */
  boundZoneFile: string;
  /** The lab CA's root certificate: the trust anchor of every check (`--ca-file`). */
  caRootPem: string;
  /** The CA-side reporter's state (its iodef outbox). */
  caState: string;
  /** The CT log list v3 naming the lab's log and its key. */
  logList: string;
  ctDir: string;
  /** The victim's ACME client (certbot layout): the inventory and the account `caa suggest` reads. */
  certbot: string;
  /** The victim's certvigil state: monitor store, MITM baselines. */
  victimState: string;
  /** The victim's iodef receiver's state. */
  iodefState: string;
  watchlist: string;
  monitorConfig: string;
  /** The attacker's certificate and key, once it has them. */
  attackerDir: string;
  /** Work files of the lab (the receiver's TLS files, the namespace part's certificate). */
  workDir: string;
}

/** The lab CA's answer to an order, as the scenario reports it. */
export interface OrderOutcome {
  issued: boolean;
  /** Where a refusal came from. */
  stage: 'validation' | 'caa' | null;
  reason: string;
  validationSucceeded: boolean;
  /** SHA-256 (hex) of the certified SubjectPublicKeyInfo, when issued. */
  spkiSha256: string | null;
  serialHex: string | null;
  chainPem: string | null;
  keyPem: string | null;
}

export interface LabWorld {
  paths: LabPaths;
  /** The victim's domain and the names on its certificates. */
  domain: string;
  names: string[];
  /** Where the services listen (loopback). */
  host: string;
  ports: ServicePorts;
  /** The embedded DNS responder, `host:port`, for every `--resolver`. */
  dnsEndpoint: string;
  /** The lab CA's CAA issuer domain (RFC 8659 §4.2) and its name in reports. */
  caIssuerDomain: string;
  caName: string;
  victimAccountUri: string;
  attackerAccountUri: string;
  /** The victim's (reused) key: what `--pin` expects. */
  victimSpkiSha256: string;
  /** Where the owner receives iodef reports (an https: URL, RFC 6546). */
  iodefUrl: string;
  /** Replaces the CAA RRset of the domain (presentation values, e.g. `0 issue "ca.lab"`). */
  setCaa(records: readonly string[]): Promise<void>;
  /** Copies the zone as it is now to `path` (the RFC 8657 records, kept for `caa evaluate`). */
  snapshotZone(path: string): Promise<void>;
  /** The attacker, from its interception point, orders a certificate with its own account and key. */
  orderAsAttacker(): Promise<OrderOutcome>;
  /** The interceptor starts terminating TLS on the XMPP ports with this certificate. */
  intercept(chainPem: string, keyPem: string): Promise<void>;
  /** Signs a new tree head over everything logged so far (the log's MMD has passed). */
  publishLog(): void;
  /** Saves what is only in memory (the CT log, the CA) under paths.root, for `--keep`. */
  save(): Promise<void>;
  close(): Promise<void>;
}
