/**
 * @module probe/ct-presence-plan
 * From the SCTs a server presents to the inclusion proofs worth asking for: which log-list entry
 * each SCT names (by URL, else by RFC 6962 §3.2 LogID, always of the SCT's kind), that log's
 * public key, and the leaf to prove (the SCT's RFC 6962 §3.4 leaf hash, and for a static-ct-api
 * log the `leaf_index` extension, c2sp.org/static-ct-api). Pure apart from parsing the key.
 */
import type { KeyObject } from 'node:crypto';
import { findLog, publicKeyFromSpki } from '../ct/index.js';
import type { LogInfo } from '../ct/index.js';
import { CertvigilError, errorMessage } from '../errors.js';
import type { SctCheck } from './types.js';

/** Pure: 32 bytes from 64 hex digits (an SCT's leaf hash as `SctCheck` carries it), else null. */
function parseHexHash(hex: string): Uint8Array | null {
  return /^[0-9a-fA-F]{64}$/.test(hex) ? new Uint8Array(Buffer.from(hex, 'hex')) : null;
}

/** The log's public key from the log list (RFC 6962 §3.2 / static-ct-api: SubjectPublicKeyInfo). */
export function logKey(log: LogInfo): KeyObject {
  try {
    return publicKeyFromSpki(log.key);
  } catch (err) {
    throw new CertvigilError(
      'SIG_BAD_KEY',
      `the log list key of ${log.description} is not a usable public key (${errorMessage(err)})`,
      { cause: err },
    );
  }
}

/** A proof to attempt: the SCT's log and leaf, or why it cannot be attempted. */
export type ProofPlan =
  | { kind: 'rfc6962'; log: LogInfo; leafHash: Uint8Array; sct: SctCheck }
  | { kind: 'static-ct-api'; log: LogInfo; leafIndex: number; leafHash: Uint8Array; sct: SctCheck }
  | { kind: 'skip'; where: string; reason: string };

/** Pure: the log-list entry an SCT names (by URL and kind, else by log ID and kind). */
function logFor(logs: readonly LogInfo[], sct: SctCheck): LogInfo | undefined {
  const sameKind = logs.filter((l) => l.kind === sct.logKind);
  const byUrl = sct.logUrl === null ? undefined : findLog(sameKind, sct.logUrl);
  return byUrl ?? sameKind.find((l) => l.logId === sct.logId);
}

/**
 * Pure: the proofs to try, one per distinct (log, leaf), SCTs with a verified signature first.
 * SCTs whose log is unknown need nothing (no log to ask); a known log without what a proof needs
 * (a static-ct-api SCT without `leaf_index`, a malformed leaf hash) is reported as skipped.
 */
export function planProofs(logs: readonly LogInfo[], scts: readonly SctCheck[]): ProofPlan[] {
  const order = (s: SctCheck): number => (s.status === 'valid' ? 0 : s.status === 'unknown-log' ? 1 : 2);
  const plans: ProofPlan[] = [];
  const seen = new Set<string>();
  for (const sct of [...scts].sort((a, b) => order(a) - order(b))) {
    if (sct.logKind === null) continue;
    const log = logFor(logs, sct);
    if (log === undefined) continue;
    const key = `${log.kind} ${log.url} ${sct.leafHash.toLowerCase()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const leafHash = parseHexHash(sct.leafHash);
    if (leafHash === null) {
      plans.push({
        kind: 'skip',
        where: log.url,
        reason: `the SCT's leaf hash "${sct.leafHash}" is not hex SHA-256`,
      });
    } else if (log.kind === 'rfc6962') {
      plans.push({ kind: 'rfc6962', log, leafHash, sct });
    } else if (sct.leafIndex === undefined) {
      plans.push({
        kind: 'skip',
        where: log.url,
        reason: 'the SCT of this static-ct-api log carries no leaf_index extension',
      });
    } else {
      plans.push({ kind: 'static-ct-api', log, leafIndex: sct.leafIndex, leafHash, sct });
    }
  }
  return plans;
}
