/**
 * @module ct/types
 * Data shared by the Certificate Transparency modules: tree heads of both log kinds, log entries
 * and log descriptions. Binary values are `Uint8Array`/`Buffer`; hashes are 32 bytes.
 */

/** RFC 6962 §5 `HashAlgorithm` / `SignatureAlgorithm` numbers as they appear on the wire. */
export interface DigitallySigned {
  /** RFC 5246 §7.4.1.4.1: 4 = sha256. */
  hashAlgorithm: number;
  /** 1 = rsa, 3 = ecdsa. */
  signatureAlgorithm: number;
  signature: Uint8Array;
}

/** RFC 6962 §3.5 signed tree head, from get-sth or from a static-ct-api checkpoint. */
export interface SignedTreeHead {
  treeSize: number;
  /** Milliseconds since the epoch. */
  timestamp: number;
  rootHash: Uint8Array;
  signature: DigitallySigned;
}

/** RFC 6962 §3.4 `LogEntryType`. */
export type EntryType = 'x509' | 'precert';

/** RFC 6962 §3.4 `MerkleTreeLeaf` (v1 / timestamped_entry), parsed without copying. */
export interface MerkleTreeLeaf {
  timestamp: number;
  entryType: EntryType;
  /** x509: the DER certificate. */
  certificate?: Uint8Array;
  /** precert: SHA-256 of the issuer's SubjectPublicKeyInfo. */
  issuerKeyHash?: Uint8Array;
  /** precert: the TBSCertificate (poison removed, issuer possibly rewritten, RFC 6962 §3.2). */
  tbsCertificate?: Uint8Array;
  extensions: Uint8Array;
}

/** One entry as downloaded from a log of either kind, before certificate parsing. */
export interface RawLogEntry {
  index: number;
  /** The exact MerkleTreeLeaf bytes whose SHA-256(0x00 || …) is the leaf hash. */
  leafInput: Uint8Array;
  leaf: MerkleTreeLeaf;
  /**
   * The issuer chain as the log delivered it (RFC 6962 `extra_data`, leaf excluded); empty for
   * static-ct-api entries, which carry `chainFingerprints` instead.
   */
  chain: Uint8Array[];
  /** RFC 6962 only: the `extra_data` bytes as served (for hook scripts' ENTRY_FILENAME). */
  extraData?: Uint8Array;
  /** static-ct-api only: SHA-256 fingerprints of the chain certificates. */
  chainFingerprints?: Uint8Array[];
  /** Precert entries of both kinds: the pre_certificate as submitted to the log. */
  preCertificate?: Uint8Array;
}

/** RFC 6962 logs use `url`; static-ct-api (tiled) logs use `monitoringUrl` + `submissionUrl`. */
export type LogKind = 'rfc6962' | 'static-ct-api';

export type LogState = 'pending' | 'qualified' | 'usable' | 'readonly' | 'retired' | 'rejected' | 'unknown';

export interface LogInfo {
  kind: LogKind;
  description: string;
  operator: string;
  /** base64 of SHA-256(SPKI), as in the list. */
  logId: string;
  /** DER SubjectPublicKeyInfo (may fail to parse: keep the list loading anyway). */
  key: Uint8Array;
  /** RFC 6962 URL prefix (with trailing slash) or static-ct-api monitoring prefix. */
  url: string;
  submissionUrl?: string;
  mmdSeconds: number;
  state: LogState;
  /** For readonly/retired logs, when given. */
  finalTreeHead?: { treeSize: number; sha256RootHash: string };
  temporalInterval?: { startInclusive: string; endExclusive: string };
  /** When the log entered `state` (the state object's `timestamp`), when given. */
  stateTimestamp?: string;
  /** Google's `log_type` when present: `test` or `monitoring_only` (absent for production logs). */
  logType?: string;
}
