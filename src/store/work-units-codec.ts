/**
 * @module store/work-units-codec
 * The pure half of work units (issue 18), shared by both engines: the argument checks, how a
 * range is cut into units, the rows a completion writes, and the contiguous run of done units the
 * fold reads. The engines keep only their SQL (`sqlite/work-units.ts`, `postgres/work-units.ts`).
 */
import { checkLimit, checkPosition, entryRows } from './codec.js';
import type { BatchRows } from './codec.js';
import { invalidArgument } from './errors.js';
import type { DoneUnit, TreeState, UnitCompletion } from './types.js';

/** RFC 6962 §2.1: a Merkle tree hash, here a leaf hash, is SHA-256 (32 bytes). */
export const LEAF_HASH_BYTES = 32;

/** Units per INSERT statement when planning, to bound one statement's size. */
export const PLAN_CHUNK = 10_000;

/** The `state` column. */
export type UnitState = 'open' | 'claimed' | 'done';

/**
 * A worker ID names a process in `status` and the dashboard: 1 to 200 characters, no control
 * characters (they would reach a terminal; PostgreSQL text cannot hold U+0000 at all).
 */
export function checkWorkerId(workerId: string): void {
  if (typeof workerId !== 'string' || !/^[^\p{Cc}]{1,200}$/u.test(workerId))
    throw invalidArgument('a worker ID must be 1 to 200 characters, none of them a control character');
}

export function checkLeaseMs(leaseMs: number): void {
  if (!Number.isSafeInteger(leaseMs) || leaseMs < 1)
    throw invalidArgument(`leaseMs must be a positive integer, got ${leaseMs}`);
}

export function checkPlan(upTo: number, unitSize: number, treeSize: number): void {
  checkPosition('upTo', upTo);
  checkPosition('treeSize', treeSize);
  if (!Number.isSafeInteger(unitSize) || unitSize < 1)
    throw invalidArgument(`unitSize must be a positive integer, got ${unitSize}`);
  // A unit must be readable under the head it was planned with (static-ct-api tiles need it).
  if (upTo > treeSize) throw invalidArgument(`upTo ${upTo} is beyond the tree size ${treeSize}`);
}

/**
 * The units covering [start, upTo): each ends at the next multiple of `unitSize` (a static-ct-api
 * tile boundary when `unitSize` is a multiple of 256, static-ct-api §"Log Entries"), or at
 * `upTo`. A partial last unit [k·size + a, upTo) is followed, once planned further, by
 * [upTo, (k+1)·size), so later units stay aligned. The caller bounds `upTo - start` (one row per
 * unit is written in one transaction).
 */
export function planRanges(start: number, upTo: number, unitSize: number): { first: number; last: number }[] {
  const out: { first: number; last: number }[] = [];
  for (let first = start; first < upTo;) {
    const last = Math.min(upTo, (Math.floor(first / unitSize) + 1) * unitSize);
    out.push({ first, last });
    first = last;
  }
  return out;
}

/**
 * Checks a completion against its unit [first, last) and turns it into rows; throws
 * STORE_INVALID_ARGUMENT (the engines call it inside the transaction, which then writes nothing).
 */
export function completionRows(
  completion: UnitCompletion,
  first: number,
  last: number,
): Omit<BatchRows, 'tree'> {
  const want = (last - first) * LEAF_HASH_BYTES;
  if (!(completion.leafHashes instanceof Uint8Array) || completion.leafHashes.byteLength !== want)
    throw invalidArgument(
      `unit [${first}, ${last}) needs ${want} bytes of leaf hashes, got ${String(completion.leafHashes?.byteLength)}`,
    );
  return entryRows({ what: 'unit', logId: completion.logId, first, last }, completion);
}

export function checkCompletion(completion: UnitCompletion): void {
  checkPosition('first', completion.first);
  checkWorkerId(completion.workerId);
}

/** The bytes as a Buffer over the same memory, which both drivers bind as a BLOB / bytea. */
export function leafHashParam(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function checkFold(expectedPosition: number, newPosition: number, tree: TreeState): void {
  checkPosition('expectedPosition', expectedPosition);
  checkPosition('newPosition', newPosition);
  if (newPosition < expectedPosition)
    throw invalidArgument(`newPosition ${newPosition} is before ${expectedPosition}`);
  // types.ts: the tree holds entries [0, position), as in commitBatch.
  if (tree.size !== newPosition)
    throw invalidArgument(`tree size ${tree.size} does not match newPosition ${newPosition}`);
}

export function checkDoneFrom(position: number, limit: number): void {
  checkPosition('position', position);
  checkLimit(limit);
}

/**
 * The run the fold may use: units read in order of `first` from `position` on, kept while each
 * starts where the previous ended (the first at `position`) and is done. A unit that straddles
 * `position`, a gap, or a unit not done yet ends the run.
 */
export function contiguousDone(
  units: readonly (DoneUnit & { state: UnitState })[],
  position: number,
  limit: number,
): DoneUnit[] {
  const out: DoneUnit[] = [];
  let next = position;
  for (const u of units) {
    if (out.length >= limit || u.first !== next || u.state !== 'done') break;
    out.push({ first: u.first, last: u.last, leafHashes: u.leafHashes });
    next = u.last;
  }
  return out;
}
