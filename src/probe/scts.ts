/**
 * @module probe/scts
 * Every SCT a client receives for a certificate, from all three deliveries of RFC 6962 §3.3 (the
 * certificate's own SCT-list extension, a stapled OCSP response's extension, the TLS
 * `signed_certificate_timestamp` extension), each verified against the key of the log that the log
 * list names for its log ID.
 *
 * check_ssl_cert only looks for the extension's OID: a certificate with a forged or foreign SCT
 * passes it. Here an SCT counts only when its signature verifies over the entry the log was given
 * (RFC 6962 §3.2): a precertificate entry for embedded SCTs, the certificate itself otherwise.
 */
import { errorMessage } from '../errors.js';
import {
  leafHashForSct,
  leafIndexExtension,
  parseSctList,
  publicKeyFromSpki,
  signedEntryForChain,
  verifySct,
} from '../ct/index.js';
import type { LogInfo, Sct, SignedEntry } from '../ct/index.js';
import { embeddedSctList, sctListsFromOcspResponse } from '../x509/index.js';
import type { SctCheck, SctSource } from './types.js';

/** A delivery whose bytes could not be read at all (reported, never thrown). */
export interface SctDeliveryError {
  source: SctSource;
  error: string;
}

export interface CollectedScts {
  scts: SctCheck[];
  errors: SctDeliveryError[];
}

export interface SctInputs {
  leaf: Uint8Array;
  /** The certificate that issued the leaf, needed for the precertificate entry of embedded SCTs. */
  issuer: Uint8Array | null;
  ocspResponse: Uint8Array | null;
  tlsExtensionSctList: Uint8Array | null;
  logs: readonly LogInfo[];
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

/**
 * The static-ct-api `leaf_index` (CtExtensions type 0, a uint40) from an SCT's `extensions`
 * (c2sp.org/static-ct-api), or null when absent or malformed: a bad extension makes no proof
 * possible, it does not make the SCT unreadable.
 */
export function sctLeafIndex(extensions: Uint8Array): number | null {
  try {
    return leafIndexExtension(extensions) ?? null;
  } catch {
    return null;
  }
}

/** Logs by base64 log ID; the key object is parsed once per log. */
function logIndex(logs: readonly LogInfo[]): Map<string, LogInfo> {
  return new Map(logs.map((l) => [l.logId, l]));
}

function checkOne(
  sct: Sct,
  source: SctSource,
  entry: SignedEntry | null,
  logs: Map<string, LogInfo>,
): SctCheck {
  const logId = b64(sct.logId);
  const log = logs.get(logId);
  const base: SctCheck = {
    source,
    logId,
    logName: log?.description ?? null,
    operator: log?.operator ?? null,
    logState: log?.state ?? null,
    logKind: log?.kind ?? null,
    logUrl: log?.url ?? null,
    timestamp: sct.timestamp,
    status: 'unknown-log',
    leafHash: entry ? hex(leafHashForSct(sct, entry)) : '',
  };
  const leafIndex = sctLeafIndex(sct.extensions);
  if (leafIndex !== null) base.leafIndex = leafIndex;
  if (sct.version !== 0)
    return { ...base, status: 'invalid', error: `unsupported SCT version ${sct.version}` };
  if (!log) return base;
  if (!entry) return { ...base, status: 'invalid', error: 'the issuing certificate was not presented' };
  try {
    verifySct(sct, publicKeyFromSpki(log.key), entry);
    return { ...base, status: 'valid' };
  } catch (e) {
    return { ...base, status: 'invalid', error: errorMessage(e) };
  }
}

function parseDelivery(source: SctSource, read: () => Uint8Array[], errors: SctDeliveryError[]): Sct[] {
  try {
    return read().flatMap((list) => parseSctList(list));
  } catch (e) {
    errors.push({ source, error: errorMessage(e) });
    return [];
  }
}

/** Collects and verifies the SCTs of every delivery; malformed deliveries become `errors`. */
export function collectScts(input: SctInputs): CollectedScts {
  const logs = logIndex(input.logs);
  const errors: SctDeliveryError[] = [];
  const out: SctCheck[] = [];

  const embedded = parseDelivery(
    'embedded',
    () => {
      const list = embeddedSctList(input.leaf);
      return list ? [list] : [];
    },
    errors,
  );
  if (embedded.length > 0) {
    const entry = input.issuer ? signedEntryForChain(input.leaf, input.issuer, true) : null;
    for (const sct of embedded) out.push(checkOne(sct, 'embedded', entry, logs));
  }

  // OCSP and TLS deliveries cover the final certificate: an x509_entry (RFC 6962 §3.3). The
  // issuer is only needed should the leaf itself be a precertificate, which no server should send.
  const finalEntry = (): SignedEntry | null =>
    input.issuer
      ? signedEntryForChain(input.leaf, input.issuer, false)
      : { type: 'x509', certificate: input.leaf };
  if (input.ocspResponse) {
    const ocsp = input.ocspResponse;
    const scts = parseDelivery('ocsp', () => sctListsFromOcspResponse(ocsp).map((l) => l.sctList), errors);
    const entry = finalEntry();
    for (const sct of scts) out.push(checkOne(sct, 'ocsp', entry, logs));
  }
  if (input.tlsExtensionSctList) {
    const list = input.tlsExtensionSctList;
    const scts = parseDelivery('tls-extension', () => [list], errors);
    const entry = finalEntry();
    for (const sct of scts) out.push(checkOne(sct, 'tls-extension', entry, logs));
  }
  return { scts: out, errors };
}
