/**
 * @module ct/audit
 * Never trust a log's word: fetch its signed tree head, download every entry, rebuild the Merkle
 * tree (RFC 6962 §2.1) and compare with the signed root — as certspotter does — and check that
 * every tree head seen before is consistent with the new one. Two signed heads that cannot both be
 * true are kept together as evidence of misbehaviour.
 */
import { CertvigilError } from '../errors.js';
import { CompactTree, hashEquals, leafHash, verifyConsistency } from './merkle.js';
import { isMalformed, LogMisbehaviourError } from './log-reader.js';
import type { LogReader } from './log-reader.js';
import type { RawLogEntry, SignedTreeHead } from './types.js';

export type AuditFinding =
  | { kind: 'bad-signature'; message: string; heads: SignedTreeHead[] }
  | { kind: 'root-mismatch'; message: string; heads: SignedTreeHead[]; computedRoot: Uint8Array }
  | { kind: 'inconsistent-heads'; message: string; heads: SignedTreeHead[] }
  | { kind: 'bad-consistency-proof'; message: string; heads: SignedTreeHead[] };

export interface AuditResult {
  /** consistent: everything verified; misbehaving: proven bad (see findings); unverifiable: could not check. */
  status: 'consistent' | 'misbehaving' | 'unverifiable';
  treeHead: SignedTreeHead | null;
  entriesVerified: number;
  malformedEntries: { index: number; error: string }[];
  malformedCount: number;
  /** Previously seen heads this audit proved consistent with the current one. */
  consistentWith: number;
  findings: AuditFinding[];
  /** Why the log could not be checked (status unverifiable). */
  error: string | null;
  elapsedMs: number;
}

export interface AuditOptions {
  /** Signed heads seen in earlier audits (from the state directory). */
  knownHeads: readonly SignedTreeHead[];
  /** Called after every batch with entries done and the total. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Optional: RFC 6962 get-sth-consistency, used to prove heads larger than the current one. */
  consistencyProof?: (first: number, second: number) => Promise<Uint8Array[]>;
  /** How many malformed entries to list individually (all are counted). */
  maxMalformedListed?: number;
  /**
   * Checks what this layer does not parse, the certificate inside an entry (the caller's x509
   * summary, as `ct entries` prints it): returns why it is malformed, or null. Such an entry is
   * counted and listed like one whose leaf cannot be read, so `ct audit` and `ct entries` agree;
   * its leaf is hashed all the same (the tree covers bytes, not certificates).
   */
  checkEntry?: (entry: RawLogEntry) => string | null;
}

const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');

export async function auditLog(reader: LogReader, options: AuditOptions): Promise<AuditResult> {
  const started = performance.now();
  const result: AuditResult = {
    status: 'consistent',
    treeHead: null,
    entriesVerified: 0,
    malformedEntries: [],
    malformedCount: 0,
    consistentWith: 0,
    findings: [],
    error: null,
    elapsedMs: 0,
  };
  const done = (): AuditResult => {
    result.elapsedMs = Math.round(performance.now() - started);
    if (result.findings.length > 0) result.status = 'misbehaving';
    return result;
  };

  let sth: SignedTreeHead;
  try {
    sth = await reader.treeHead();
  } catch (err) {
    if (err instanceof LogMisbehaviourError) {
      result.findings.push({ kind: 'bad-signature', message: err.message, heads: err.heads });
    } else {
      result.status = 'unverifiable';
      result.error = (err as Error).message;
    }
    return done();
  }
  result.treeHead = sth;

  // Two heads of the same size with different roots cannot both be right: a fork.
  for (const known of options.knownHeads) {
    if (known.treeSize === sth.treeSize && !hashEquals(known.rootHash, sth.rootHash)) {
      result.findings.push({
        kind: 'inconsistent-heads',
        message: `two signed tree heads of size ${sth.treeSize} with different roots (${b64(known.rootHash)} and ${b64(sth.rootHash)})`,
        heads: [known, sth],
      });
    }
  }

  // Known heads of smaller trees are checked against the rebuilt tree as it passes their size.
  const pending = new Map<number, SignedTreeHead[]>();
  for (const known of options.knownHeads) {
    if (known.treeSize > 0 && known.treeSize < sth.treeSize) {
      pending.set(known.treeSize, [...(pending.get(known.treeSize) ?? []), known]);
    }
  }
  const maxListed = options.maxMalformedListed ?? 1000;
  const tree = new CompactTree();
  try {
    for await (const batch of reader.entries(0, sth.treeSize, sth.treeSize, options.signal)) {
      if (batch.start !== tree.size) {
        throw new CertvigilError(
          'CT_BAD_RESPONSE',
          `entries arrived out of order: expected ${tree.size}, got ${batch.start}`,
        );
      }
      for (const entry of batch.entries) {
        const problem = isMalformed(entry) ? entry.error : (options.checkEntry?.(entry) ?? null);
        if (problem !== null) {
          result.malformedCount++;
          if (result.malformedEntries.length < maxListed)
            result.malformedEntries.push({ index: entry.index, error: problem });
        }
        if (!entry.leafInput)
          throw new CertvigilError('CT_BAD_RESPONSE', `entry ${entry.index} has no readable leaf input`);
        tree.append(leafHash(entry.leafInput));
        const heads = pending.get(tree.size);
        if (heads) checkKnownHeads(heads, tree.root(), sth, result);
      }
      options.onProgress?.(tree.size, sth.treeSize);
    }
  } catch (err) {
    // Reading entries proves nothing against the log by itself (LogReader.entries throws no
    // LogMisbehaviourError): a failure here means "cannot check"; the verdict is the root below.
    result.status = 'unverifiable';
    result.error = `after ${tree.size} of ${sth.treeSize} entries: ${(err as Error).message}`;
    result.entriesVerified = 0;
    return done();
  }

  if (tree.size !== sth.treeSize) {
    result.status = 'unverifiable';
    result.error = `read ${tree.size} entries, the tree head says ${sth.treeSize}`;
    return done();
  }
  const computed = tree.root();
  if (!hashEquals(computed, sth.rootHash)) {
    // The log signed a root that its own entries do not produce (RFC 6962 §3.5).
    result.findings.push({
      kind: 'root-mismatch',
      message: `the ${sth.treeSize} entries hash to ${b64(computed)}, but the log signed ${b64(sth.rootHash)}`,
      heads: [sth],
      computedRoot: computed,
    });
    return done();
  }
  result.entriesVerified = tree.size;
  result.consistentWith += options.knownHeads.filter(
    (k) => k.treeSize === sth.treeSize && hashEquals(k.rootHash, sth.rootHash),
  ).length;

  // Heads of larger trees seen before (the log now shows an older head): prove with the log's proof.
  for (const known of options.knownHeads.filter((k) => k.treeSize > sth.treeSize)) {
    if (!options.consistencyProof) continue;
    try {
      const proof = await options.consistencyProof(sth.treeSize, known.treeSize);
      verifyConsistency(sth.treeSize, known.treeSize, sth.rootHash, known.rootHash, proof);
      result.consistentWith++;
    } catch (err) {
      result.findings.push({
        kind: 'inconsistent-heads',
        message: `the current head (size ${sth.treeSize}) cannot be proved consistent with a head seen before (size ${known.treeSize}): ${(err as Error).message}`,
        heads: [sth, known],
      });
    }
  }
  return done();
}

function checkKnownHeads(
  heads: SignedTreeHead[],
  root: Uint8Array,
  current: SignedTreeHead,
  result: AuditResult,
): void {
  for (const known of heads) {
    if (hashEquals(root, known.rootHash)) {
      result.consistentWith++;
    } else {
      // The log once signed a root for this size that its current entries contradict: a fork.
      result.findings.push({
        kind: 'inconsistent-heads',
        message: `a head seen before (size ${known.treeSize}, root ${b64(known.rootHash)}) is not a prefix of the current tree (its first ${known.treeSize} entries hash to ${b64(root)})`,
        heads: [known, current],
      });
    }
  }
}
