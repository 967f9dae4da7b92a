/**
 * @module probe/ct-presence-proof
 * The strongest evidence that an SCT's promise was kept (RFC 6962 §3: the log "promises" to
 * incorporate the entry within the MMD): an inclusion proof from the SCT's log against a signed
 * tree head verified with the log-list key. RFC 6962 logs: §4.3 get-sth + §4.5 get-proof-by-hash,
 * verified per §2.1.1. static-ct-api logs (c2sp.org/static-ct-api): the signed checkpoint and the
 * hash tiles around the SCT's `leaf_index` (`ct/tile-proof` builds the proof). When the leaf is
 * absent, `pendingReason` tells "not yet incorporated" from "missing past the MMD".
 */
import { errorMessage } from '../errors.js';
import type { KeyObject } from 'node:crypto';
import {
  checkpointOrigin,
  CtHttpClient,
  CtHttpError,
  hashEquals,
  hashTileKey,
  inclusionProofFromTiles,
  MerkleError,
  Rfc6962LogClient,
  rootFromInclusionProof,
  StaticCtLogClient,
  tilesForInclusionProof,
  verifyCheckpoint,
  verifyInclusion,
  verifySth,
} from '../ct/index.js';
import type { LogInfo, SignedTreeHead } from '../ct/index.js';
import { guarded, isoTime } from './ct-presence-lookup.js';
import type { LookupOptions } from './ct-presence-lookup.js';
import { logKey, planProofs } from './ct-presence-plan.js';
import type { CtPresenceSource, SctCheck } from './types.js';

export interface ProofOptions extends LookupOptions {
  /** The SCT's timestamp (ms): tells "not yet incorporated" from "missing past the MMD". */
  sctTimestamp?: number;
}

function httpClient(opts: LookupOptions, signal: AbortSignal): CtHttpClient {
  // A check is interactive: retry a transient failure once, quickly, and never wait out a long
  // Retry-After; the caller may widen this through `http`.
  return new CtHttpClient({
    timeoutMs: opts.timeoutMs,
    maxAttempts: 2,
    maxRateLimitedAttempts: 2,
    backoffBaseMs: 100,
    backoffMaxMs: 1_000,
    maxRetryAfterMs: Math.min(opts.timeoutMs, 5_000),
    ...opts.http,
    signal,
  });
}

/**
 * Pure: why a leaf is absent from a signed head, from the SCT and head timestamps (RFC 6962 §3:
 * the log must incorporate the entry within the MMD of the SCT's timestamp). Null without an SCT
 * timestamp.
 */
export function pendingReason(
  mmdSeconds: number,
  headTimestamp: number,
  sctTimestamp: number | undefined,
): string | null {
  if (sctTimestamp === undefined) return null;
  if (sctTimestamp >= headTimestamp) {
    return `not yet incorporated: the SCT of ${isoTime(sctTimestamp)} is newer than the tree head`;
  }
  const due = sctTimestamp + mmdSeconds * 1000;
  if (headTimestamp < due) {
    return `not yet incorporated: the log has until ${isoTime(due)} (SCT + MMD of ${mmdSeconds} s)`;
  }
  return `missing although the MMD (${mmdSeconds} s) has passed since the SCT of ${isoTime(sctTimestamp)}`;
}

function absenceDetail(log: LogInfo, head: SignedTreeHead, sctTimestamp: number | undefined): string {
  const at = `tree head of ${isoTime(head.timestamp)}, size ${head.treeSize}`;
  const why = pendingReason(log.mmdSeconds, head.timestamp, sctTimestamp);
  return why === null ? at : `${at}; ${why}`;
}

const found = (where: string, detail: string): CtPresenceSource => ({
  kind: 'inclusion-proof',
  where,
  status: 'found',
  detail,
});
const notFound = (where: string, detail: string): CtPresenceSource => ({
  kind: 'inclusion-proof',
  where,
  status: 'not-found',
  detail,
});
const error = (where: string, detail: string): CtPresenceSource => ({
  kind: 'inclusion-proof',
  where,
  status: 'error',
  detail,
});

/**
 * Runs one proof under the lookup's deadline (`guarded`), with the log-list key and an HTTP client
 * of its own that is dropped afterwards. `refuse`, checked first (still under the deadline), names
 * an input no proof can start from.
 */
function underDeadline(
  log: LogInfo,
  opts: ProofOptions,
  prove: (key: KeyObject, http: CtHttpClient, signal: AbortSignal) => Promise<CtPresenceSource>,
  refuse: () => string | null = () => null,
): Promise<CtPresenceSource> {
  return guarded('inclusion-proof', log.url, opts, async (signal) => {
    const why = refuse();
    if (why !== null) return error(log.url, why);
    const key = logKey(log);
    const http = httpClient(opts, signal);
    try {
      return await prove(key, http, signal);
    } finally {
      await http.destroy();
    }
  });
}

/**
 * RFC 6962 §4.5 get-proof-by-hash for `leafHash` against a fresh get-sth (§4.3) whose signature
 * (§3.5) verifies with the log-list key, then §2.1.1 verification against that head's root.
 * 400/404 from get-proof-by-hash (how logs say "no such leaf") is `not-found`.
 */
export async function proveInclusionRfc6962(
  log: LogInfo,
  leafHash: Uint8Array,
  opts: ProofOptions,
): Promise<CtPresenceSource> {
  const where = log.url;
  return underDeadline(log, opts, async (key, http, signal) => {
    const client = new Rfc6962LogClient(log.url, http);
    const sth: SignedTreeHead = await client.getSth({ signal });
    try {
      verifySth(sth, key);
    } catch (err) {
      return error(
        where,
        `get-sth: the tree head signature does not verify with the log key (${errorMessage(err)})`,
      );
    }
    if (sth.treeSize === 0) return notFound(where, absenceDetail(log, sth, opts.sctTimestamp));
    let proof: { leafIndex: number; auditPath: Uint8Array[] };
    try {
      proof = await client.getProofByHash(leafHash, sth.treeSize, { signal });
    } catch (err) {
      if (
        err instanceof CtHttpError &&
        err.code === 'CT_HTTP' &&
        (err.status === 404 || err.status === 400)
      ) {
        return notFound(
          where,
          `no leaf with this hash (get-proof-by-hash: HTTP ${err.status}); ${absenceDetail(log, sth, opts.sctTimestamp)}`,
        );
      }
      throw err;
    }
    try {
      verifyInclusion(proof.leafIndex, sth.treeSize, leafHash, proof.auditPath, sth.rootHash);
    } catch (err) {
      if (!(err instanceof MerkleError)) throw err;
      return error(
        where,
        `get-proof-by-hash: the proof for leaf ${proof.leafIndex} does not verify against the signed root of size ${sth.treeSize} (${err.message})`,
      );
    }
    return found(
      where,
      `leaf ${proof.leafIndex} of the tree of size ${sth.treeSize} (signed ${isoTime(sth.timestamp)}); RFC 6962 inclusion proof verified`,
    );
  });
}

/**
 * static-ct-api: verify the checkpoint with the log-list key (origin = submission prefix), then
 * build the audit path of `leafIndex` from the hash tiles a tree of the checkpoint's size implies
 * (`ct/tile-proof`). The level-0 tile holds the leaf hash the log stored at that index: equal to
 * ours and leading to the signed root → found; different but authentic (its own proof leads to the
 * root) → not-found; anything not leading to the root → error (tiles inconsistent with the head).
 */
export async function proveInclusionStatic(
  log: LogInfo,
  leafIndex: number,
  leafHash: Uint8Array,
  opts: ProofOptions,
): Promise<CtPresenceSource> {
  const where = log.url;
  const badIndex = (): string | null =>
    !Number.isSafeInteger(leafIndex) || leafIndex < 0 ? `bad leaf_index ${leafIndex}` : null;
  return underDeadline(
    log,
    opts,
    async (key, http, signal) => {
      const client = new StaticCtLogClient(log.url, http);
      const note = await client.getCheckpoint({ signal });
      let head: SignedTreeHead;
      try {
        head = verifyCheckpoint(note, { origin: checkpointOrigin(log), key, spki: log.key });
      } catch (err) {
        return error(where, `checkpoint does not verify with the log key (${errorMessage(err)})`);
      }
      if (leafIndex >= head.treeSize) {
        // The SCT names a position the signed tree does not reach yet: by definition pending.
        const why = pendingReason(log.mmdSeconds, head.timestamp, opts.sctTimestamp);
        return notFound(
          where,
          `leaf_index ${leafIndex} not yet incorporated: the checkpoint of ${isoTime(head.timestamp)} covers ${head.treeSize} entries${why === null ? '' : ` (${why})`}`,
        );
      }
      const refs = tilesForInclusionProof(leafIndex, head.treeSize);
      const fetched = await Promise.all(
        refs.map(
          async (r) =>
            [
              hashTileKey(r.level, r.index),
              await client.getHashTile(r.level, r.index, r.width, { signal }),
            ] as const,
        ),
      );
      const proof = inclusionProofFromTiles(leafIndex, head.treeSize, new Map(fetched));
      const rootFor = (h: Uint8Array): Uint8Array =>
        rootFromInclusionProof(leafIndex, head.treeSize, h, proof.auditPath);
      const signed = `tree of size ${head.treeSize} (checkpoint signed ${isoTime(head.timestamp)})`;
      if (hashEquals(rootFor(leafHash), head.rootHash)) {
        return found(where, `leaf ${leafIndex} of the ${signed}; inclusion proof from tiles verified`);
      }
      if (!hashEquals(proof.leafHash, leafHash) && hashEquals(rootFor(proof.leafHash), head.rootHash)) {
        return notFound(
          where,
          `leaf ${leafIndex} of the ${signed} is another entry (leaf hash ${Buffer.from(proof.leafHash).toString('hex')}): the SCT's entry is not at the index it names`,
        );
      }
      return error(where, `the hash tiles do not lead to the checkpoint root of the ${signed}`);
    },
    badIndex,
  );
}

/**
 * The planned proofs (`planProofs`), one after the other, stopping at the first log that proves
 * inclusion; a plan that cannot be attempted is reported as an `error` source.
 */
export async function runProofs(
  logs: readonly LogInfo[],
  scts: readonly SctCheck[],
  base: LookupOptions,
): Promise<CtPresenceSource[]> {
  const out: CtPresenceSource[] = [];
  for (const plan of planProofs(logs, scts)) {
    if (plan.kind === 'skip') {
      out.push(error(plan.where, plan.reason));
      continue;
    }
    const opts: ProofOptions = { ...base, sctTimestamp: plan.sct.timestamp };
    const result =
      plan.kind === 'rfc6962'
        ? await proveInclusionRfc6962(plan.log, plan.leafHash, opts)
        : await proveInclusionStatic(plan.log, plan.leafIndex, plan.leafHash, opts);
    out.push(result);
    if (result.status === 'found') break;
  }
  return out;
}
