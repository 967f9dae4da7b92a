/**
 * @module monitor/entry-summary
 * What certvigil records about one log entry: the certificate facts a watcher matches and an
 * analyst reads, from the zero-copy DER walker. A certificate that cannot be parsed becomes a
 * `malformed` summary with its index and error — never a crash of the run.
 */
import { sha256Hex } from '../hash.js';
import type { MalformedEntry, RawLogEntry } from '../ct/index.js';
import type { LoggedCertificate } from '../store/index.js';
import { certificateFacts, summarizeCertificate, summarizeTbs, tbsFacts } from '../x509/index.js';

/**
 * The certificate record of one log entry (`LoggedCertificate`, store/types.ts: `tbsSha256` is one
 * issuance, precert or final; `certSha256` the logged certificate, or the pre-certificate when the
 * log gave it; `timestamp` the MerkleTreeLeaf's), with its position and subject CN.
 */
export interface EntrySummary extends LoggedCertificate {
  index: number;
  subjectCommonName: string | null;
}

export interface MalformedSummary {
  index: number;
  malformed: true;
  error: string;
}

/** The summary of an entry the log reader could not decode: its index and why. */
export function malformedSummary(entry: MalformedEntry): MalformedSummary {
  return { index: entry.index, malformed: true, error: entry.error };
}

/** The certificate bytes a decoded entry's summary is read from (RFC 6962 §3.4 x509/precert). */
function certificateOf(entry: RawLogEntry): Uint8Array {
  const { leaf } = entry;
  const der = leaf.entryType === 'x509' ? leaf.certificate : leaf.tbsCertificate;
  if (!der) throw new Error(`${leaf.entryType} entry without certificate bytes`);
  return der;
}

/**
 * The names of a decoded entry, or why it is malformed: every check `summarizeEntry` makes, with
 * the same error for the same entry, but none of its three SHA-256 digests. The monitor asks this
 * of every entry and `summarizeEntry` only of the ~1 % it watches.
 */
export function entryNames(entry: RawLogEntry): { dnsNames: string[] } | MalformedSummary {
  try {
    const der = certificateOf(entry);
    const facts = entry.leaf.entryType === 'x509' ? certificateFacts(der) : tbsFacts(der);
    return { dnsNames: facts.dnsNames };
  } catch (err) {
    return { index: entry.index, malformed: true, error: (err as Error).message };
  }
}

/**
 * Summarises a decoded entry. An entry the reader already found malformed never gets here: the
 * monitor records those before matching, `ct entries` shows them with `malformedSummary`.
 */
export function summarizeEntry(entry: RawLogEntry): EntrySummary | MalformedSummary {
  const { leaf } = entry;
  try {
    const isX509 = leaf.entryType === 'x509';
    const der = certificateOf(entry);
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
