/**
 * @module ct/entry
 * RFC 6962 log entries as bytes: the §3.4 `MerkleTreeLeaf` a log hashes, the §4.6 `extra_data`
 * chain beside it, and the `CtExtensions` list that c2sp.org/static-ct-api gives structure to.
 * Zero-copy (every byte field is a view into the input) and total: any malformed input ends in an
 * `EntryError`, never in another exception, so a monitor can report a bad entry and move on
 * (certspotter's `NotifyMalformedEntry`). Certificates themselves are left to `x509`.
 */
import { CertvigilError } from '../errors.js';
import type { EntryType, MerkleTreeLeaf, RawLogEntry } from './types.js';
import { TlsDecodeError, TlsReader } from './tls.js';
import type { EntryErrorCode } from './errors.js';

export class EntryError extends CertvigilError {
  declare readonly code: EntryErrorCode;
  /** The log index of the entry, when the caller knew it. */
  readonly index: number | undefined;

  constructor(code: EntryErrorCode, message: string, options?: { cause?: unknown; index?: number }) {
    super(code, options?.index === undefined ? message : `entry ${options.index}: ${message}`, options);
    this.name = 'EntryError';
    this.index = options?.index;
  }
}

/** RFC 6962 §3.1 `ASN.1Cert`: `opaque ASN.1Cert<1..2^24-1>`. */
export function readAsn1Cert(r: TlsReader, field = 'ASN.1Cert'): Uint8Array {
  return r.opaque(3, field, 1);
}

/** RFC 6962 §3.4 `LogEntryType` (uint16). */
const ENTRY_TYPES: Record<number, EntryType> = { 0: 'x509', 1: 'precert' };

/** RFC 6962 §3.2 `issuer_key_hash[32]`. */
const ISSUER_KEY_HASH_SIZE = 32;

/**
 * Reads an RFC 6962 §3.4 `TimestampedEntry`:
 * `uint64 timestamp; LogEntryType entry_type; select (entry_type) { x509_entry: ASN.1Cert;
 * precert_entry: PreCert { opaque issuer_key_hash[32]; TBSCertificate<1..2^24-1> } };
 * CtExtensions extensions<0..2^16-1>`. Shared by `MerkleTreeLeaf` and the static-ct-api `TileLeaf`.
 * Throws `TlsDecodeError` (`TLS_BAD_VALUE` for an unknown entry type).
 */
export function readTimestampedEntry(r: TlsReader): MerkleTreeLeaf {
  const timestamp = r.u64('timestamp');
  const typeNumber = r.u16('entry_type');
  const entryType = ENTRY_TYPES[typeNumber];
  if (entryType === undefined) r.fail(`unknown entry_type ${typeNumber}`);
  if (entryType === 'x509') {
    const certificate = readAsn1Cert(r, 'x509_entry');
    return { timestamp, entryType, certificate, extensions: r.opaque(2, 'extensions') };
  }
  const issuerKeyHash = r.fixed(ISSUER_KEY_HASH_SIZE, 'issuer_key_hash');
  const tbsCertificate = r.opaque(3, 'tbs_certificate', 1);
  return { timestamp, entryType, issuerKeyHash, tbsCertificate, extensions: r.opaque(2, 'extensions') };
}

/**
 * Parses RFC 6962 §3.4 `MerkleTreeLeaf` bytes (get-entries `leaf_input`):
 * `Version version (v1 = 0); MerkleLeafType leaf_type (timestamped_entry = 0); TimestampedEntry`,
 * with nothing after it. Throws `EntryError`.
 */
export function parseMerkleTreeLeaf(leafInput: Uint8Array, index?: number): MerkleTreeLeaf {
  const r = new TlsReader(leafInput, 'MerkleTreeLeaf');
  try {
    const version = r.u8('version');
    const leafType = r.u8('leaf_type');
    if (version !== 0 || leafType !== 0) {
      throw new EntryError(
        'ENTRY_UNSUPPORTED_LEAF',
        `version ${version} leaf_type ${leafType} is not v1 timestamped_entry`,
        {
          index,
        },
      );
    }
    const leaf = readTimestampedEntry(r);
    r.end();
    return leaf;
  } catch (err) {
    if (!(err instanceof TlsDecodeError)) throw err;
    const code = err.code === 'TLS_BAD_VALUE' ? 'ENTRY_UNSUPPORTED_LEAF' : 'ENTRY_MALFORMED_LEAF';
    throw new EntryError(code, err.message, { cause: err, index });
  }
}

/** `extra_data` decoded: the precert's submitted pre_certificate, and the issuer chain. */
export interface ExtraData {
  preCertificate?: Uint8Array;
  chain: Uint8Array[];
}

function readChain(r: TlsReader, field: string): Uint8Array[] {
  const v = r.vector(3, field);
  const chain: Uint8Array[] = [];
  while (v.remaining > 0) chain.push(readAsn1Cert(v, `${field}[${chain.length}]`));
  return chain;
}

/**
 * Parses RFC 6962 §4.6 `extra_data`: for x509 entries the `certificate_chain` of an
 * `X509ChainEntry` (`ASN.1Cert certificate_chain<0..2^24-1>`), for precerts the whole
 * `PrecertChainEntry` (`ASN.1Cert pre_certificate; ASN.1Cert precertificate_chain<0..2^24-1>`).
 * Throws `EntryError` (`ENTRY_MALFORMED_EXTRA_DATA`).
 */
export function parseExtraData(entryType: EntryType, bytes: Uint8Array, index?: number): ExtraData {
  const r = new TlsReader(bytes, entryType === 'x509' ? 'X509ChainEntry' : 'PrecertChainEntry');
  try {
    let out: ExtraData;
    if (entryType === 'x509') {
      out = { chain: readChain(r, 'certificate_chain') };
    } else {
      const preCertificate = readAsn1Cert(r, 'pre_certificate');
      out = { preCertificate, chain: readChain(r, 'precertificate_chain') };
    }
    r.end();
    return out;
  } catch (err) {
    if (!(err instanceof TlsDecodeError)) throw err;
    throw new EntryError('ENTRY_MALFORMED_EXTRA_DATA', err.message, { cause: err, index });
  }
}

/**
 * One get-entries item → `RawLogEntry`. As for static-ct-api entries, a precert's submitted
 * pre_certificate goes to `preCertificate` and `chain` holds only the issuers. Throws `EntryError`.
 */
export function parseRawEntry(index: number, leafInput: Uint8Array, extraData: Uint8Array): RawLogEntry {
  const leaf = parseMerkleTreeLeaf(leafInput, index);
  const extra = parseExtraData(leaf.entryType, extraData, index);
  const entry: RawLogEntry = { index, leafInput, leaf, chain: extra.chain };
  if (extra.preCertificate !== undefined) entry.preCertificate = extra.preCertificate;
  return entry;
}

/** One static-ct-api `Extension`: `ExtensionType extension_type (u8); opaque extension_data<0..2^16-1>`. */
export interface CtExtension {
  type: number;
  data: Uint8Array;
}

/** static-ct-api `ExtensionType.leaf_index`. */
export const EXTENSION_LEAF_INDEX = 0;

/**
 * Parses the contents of a `CtExtensions` field as c2sp.org/static-ct-api structures it
 * (`Extension CtExtensions<0..2^16-1>`; pass the field's contents, i.e. `leaf.extensions`).
 * RFC 6962 leaves it opaque and its logs send it empty, which parses to `[]`. Duplicate types are
 * refused ("MUST NOT be included"). Throws `EntryError` (`ENTRY_MALFORMED_EXTENSIONS`).
 */
export function parseCtExtensions(extensions: Uint8Array): CtExtension[] {
  const r = new TlsReader(extensions, 'CtExtensions');
  const out: CtExtension[] = [];
  try {
    while (r.remaining > 0) {
      const type = r.u8('extension_type');
      const data = r.opaque(2, 'extension_data');
      if (out.some((e) => e.type === type)) r.fail(`duplicate extension ${type}`);
      out.push({ type, data });
    }
  } catch (err) {
    if (!(err instanceof TlsDecodeError)) throw err;
    throw new EntryError('ENTRY_MALFORMED_EXTENSIONS', err.message, { cause: err });
  }
  return out;
}

/**
 * The static-ct-api `leaf_index` extension (a big-endian uint40) from a `CtExtensions` field, or
 * `undefined` when absent. Throws `EntryError` if the list or the value is malformed.
 */
export function leafIndexExtension(extensions: Uint8Array): number | undefined {
  const ext = parseCtExtensions(extensions).find((e) => e.type === EXTENSION_LEAF_INDEX);
  if (ext === undefined) return undefined;
  if (ext.data.length !== 5) {
    throw new EntryError(
      'ENTRY_MALFORMED_EXTENSIONS',
      `leaf_index is ${ext.data.length} bytes, not 5 (uint40)`,
    );
  }
  return new TlsReader(ext.data).u40();
}
