/**
 * @module probe/types
 * Shared types of the external check (`certvigil check endpoint`): what we observed on the wire
 * for one address, the findings drawn from it, and the monitoring-plugins status they add up to.
 * Types only; the modules of `probe/` exchange nothing else.
 */

/** Protocols whose plaintext dialogue upgrades to TLS on the same connection. */
export type StartTlsProtocol =
  | 'smtp'
  | 'submission'
  | 'lmtp'
  | 'imap'
  | 'pop3'
  | 'ftp'
  | 'ldap'
  | 'xmpp'
  | 'xmpp-server'
  | 'sieve'
  | 'postgres'
  | 'mysql'
  | 'irc'
  | 'nntp';

export const STARTTLS_PROTOCOLS: readonly StartTlsProtocol[] = [
  'smtp',
  'submission',
  'imap',
  'pop3',
  'ftp',
  'ldap',
  'xmpp',
  'xmpp-server',
  'sieve',
  'postgres',
  'lmtp',
  'mysql',
  'irc',
  'nntp',
];

/** Monitoring-plugins statuses in their exit-code order (0 OK … 3 UNKNOWN). */
export type PluginStatus = 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';

export const PLUGIN_EXIT: Record<PluginStatus, 0 | 1 | 2 | 3> = {
  OK: 0,
  WARNING: 1,
  CRITICAL: 2,
  UNKNOWN: 3,
};

/** Where the SCT came from (RFC 6962 §3.3: three ways to deliver the same list). */
export type SctSource = 'embedded' | 'ocsp' | 'tls-extension';

/** One SCT as checked against the log list. */
export interface SctCheck {
  source: SctSource;
  /** base64 log ID. */
  logId: string;
  /** Log description and operator from the log list; null when the log is not in it. */
  logName: string | null;
  operator: string | null;
  logState: string | null;
  logKind: 'rfc6962' | 'static-ct-api' | null;
  logUrl: string | null;
  /** ms since the epoch. */
  timestamp: number;
  /** valid: signature verified; unknown-log: no key to verify with; invalid: bad signature or version. */
  status: 'valid' | 'unknown-log' | 'invalid';
  error?: string;
  /** static-ct-api leaf_index extension (RFC 6962 §3.2 CtExtensions; c2sp.org/static-ct-api). */
  leafIndex?: number;
  /** Hex SHA-256 of the MerkleTreeLeaf the log promised to include (for inclusion proofs). */
  leafHash: string;
}

/** The outcome of the CT-presence lookups for one certificate. */
export interface CtPresence {
  /** Where it was looked for and what each source said. */
  sources: CtPresenceSource[];
  /** True when at least one source proved or reported that the certificate is logged. */
  found: boolean;
}

export interface CtPresenceSource {
  /** 'store' | 'inclusion-proof' | 'crtsh' | 'certspotter' */
  kind: 'store' | 'inclusion-proof' | 'crtsh' | 'certspotter';
  /** Log URL, API base URL or store kind. */
  where: string;
  status: 'found' | 'not-found' | 'error';
  detail: string;
}

export type FindingSeverity = 'ok' | 'info' | 'warning' | 'critical' | 'unknown';

/** One line of the long output, with a stable id that tests and JSON consumers branch on. */
export interface Finding {
  id: string;
  severity: FindingSeverity;
  message: string;
  /** The address the finding is about ("*" when it concerns every address alike). */
  address: string;
}

export interface PerfDatum {
  label: string;
  value: number;
  uom: '' | 's' | 'ms' | 'd';
  warn?: number;
  crit?: number;
  min?: number;
}
