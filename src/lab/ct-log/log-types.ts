/**
 * @module
 * The types of {@link LabCtLog} (log.ts): its options, an entry's pre-encoded parts, a signed tree
 * head, what adding an entry returns.
 */
import type { KeyObject } from 'node:crypto';
import type { IssuedCertificate } from './ca.js';
import type { Sct } from './wire.js';

export interface LabCtLogOptions {
  /** Log list `description`; default 'certvigil test log'. */
  name?: string;
  /**
   * Checkpoint origin line. Default: derived at serve time from the static-ct-api submission URL
   * (`127.0.0.1:PORT/prefix`), as c2sp.org/static-ct-api requires.
   */
  origin?: string;
  /**
   * Put the static-ct-api `leaf_index` extension into every SCT and leaf (required to serve this log
   * through the static API; RFC 6962 logs leave extensions empty). Default false.
   */
  staticCtApi?: boolean;
  /** Maximum merge delay for the log list, seconds; default 86400. */
  mmd?: number;
  /** Log list temporal_interval; default Jan 1 of last year to Jan 1 two years ahead. */
  temporalInterval?: { startInclusive: Date; endExclusive: Date };
  /** The log's ECDSA P-256 key; default a fresh one. */
  privateKey?: KeyObject;
  /** Clock for timestamps (ms); default Date.now. */
  now?: () => number;
  /** When the log started (log list `state.usable`); default now. {@link LabCtLog.load} sets it. */
  createdAt?: Date;
}

/** Pre-encoded, shareable parts of one entry. */
export interface EntryBody {
  /** `entry_type || signed_entry` of the TimestampedEntry. */
  signedEntry: Buffer;
  /** RFC 6962 §4.6 extra_data. */
  extraData: Buffer;
  /** static-ct-api TileLeaf after the TimestampedEntry ([pre_certificate] || fingerprints). */
  tileTail: Buffer;
}

export interface SignedTreeHead {
  treeSize: number;
  timestamp: number;
  rootHash: Buffer;
  /** DigitallySigned(TreeHeadSignature), RFC 6962 §3.5. */
  signature: Buffer;
}

export interface AddedEntry {
  index: number;
  timestamp: number;
  leafHash: Buffer;
  sct: Sct;
}

export interface AddedPrecertificate extends AddedEntry {
  precert: IssuedCertificate;
  finalCert: IssuedCertificate;
  /** Index of the final certificate's x509_entry when `alsoLogFinal` was set. */
  finalIndex?: number;
}
