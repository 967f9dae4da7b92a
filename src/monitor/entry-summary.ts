/**
 * @module monitor/entry-summary
 * What certvigil records about one log entry: the certificate facts a watcher matches and an
 * analyst reads, from the zero-copy DER walker. A certificate that cannot be parsed becomes a
 * `malformed` summary with its index and error — never a crash of the run.
 */
import { createHash } from 'node:crypto';
import type { MalformedEntry, RawLogEntry } from '../ct/index.js';
import { summarizeCertificate, summarizeTbs } from '../x509/index.js';

export interface EntrySummary {
  index: number;
  type: 'x509' | 'precert';
  /** Log timestamp (ms since the epoch) from the MerkleTreeLeaf. */
  timestamp: number;
  dnsNames: string[];
  ipAddresses: string[];
  subjectCommonName: string | null;
  /** SHA-256 of the TBSCertificate without CT poison/SCT extensions: one issuance, precert or final. */
  tbsSha256: string;
  /** SHA-256 of the logged certificate (x509) or of the pre-certificate (precert, when the log gave it). */
  certSha256: string | null;
  serial: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  spkiSha256: string;
  keyType: string;
}

export interface MalformedSummary {
  index: number;
  malformed: true;
  error: string;
}

const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export function summarizeEntry(entry: RawLogEntry | MalformedEntry): EntrySummary | MalformedSummary {
  if ('malformed' in entry) return { index: entry.index, malformed: true, error: entry.error };
  const { leaf } = entry;
  try {
    const isX509 = leaf.entryType === 'x509';
    const der = isX509 ? leaf.certificate : leaf.tbsCertificate;
    if (!der) throw new Error(`${leaf.entryType} entry without certificate bytes`);
    const s = isX509 ? summarizeCertificate(der) : summarizeTbs(der);
    const certBytes = isX509 ? leaf.certificate : entry.preCertificate;
    return {
      index: entry.index,
      type: leaf.entryType,
      timestamp: leaf.timestamp,
      dnsNames: s.dnsNames,
      ipAddresses: s.ipAddresses,
      subjectCommonName: s.subjectCommonName,
      tbsSha256: s.tbsSha256,
      certSha256: certBytes ? sha256Hex(certBytes) : null,
      serial: s.serialHex,
      issuer: s.issuer,
      notBefore: s.notBefore,
      notAfter: s.notAfter,
      spkiSha256: s.spkiSha256,
      keyType: s.keyType,
    };
  } catch (err) {
    return { index: entry.index, malformed: true, error: (err as Error).message };
  }
}
