/**
 * @module ct/merkle
 * RFC 6962 §2.1 Merkle Tree Hash (identical in RFC 9162 §2.1 and c2sp.org/merkle-tree): hashing,
 * inclusion and consistency proof verification, and an incremental compact tree. Pure functions
 * over 32-byte SHA-256 values; no I/O.
 *
 * Verification follows RFC 9162 §2.1.3.2 / §2.1.4.2 plus the input rules of the Go verifier
 * (transparency-dev/merkle `proof/verify.go`), which `test/vectors/ct/merkle` encodes: an index
 * outside the tree, a leaf hash that is not 32 bytes, a proof of the wrong length, a consistency
 * proof from the empty tree — all are errors, not "false".
 *
 * Indices and sizes are JavaScript numbers (safe integers). Real logs already exceed 2^31 entries,
 * so the tree arithmetic never uses the 32-bit bitwise operators: proofs use BigInt (a handful of
 * steps per proof), and the compact tree uses division by two.
 */
import { CtError } from './errors.js';
import crypto from 'node:crypto';
import { decodeBase64, encodeBase64 } from './tls.js';
import type { MerkleErrorCode } from './errors.js';

/** SHA-256 output size; every node of an RFC 6962 tree is this long. */
export const HASH_SIZE = 32;

/** A proof did not verify, or its inputs were invalid. Branch on `code`. */
export class MerkleError extends CtError<MerkleErrorCode> {}

// `crypto.hash` (Node ≥ 20.12) skips the Hash object: ~1.5× faster than createHash for 65-byte
// node inputs on this machine kind (bench/merkle.ts). Fall back for older Node 20 releases.
const sha256: (data: Uint8Array) => Uint8Array =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha256', data, 'buffer')
    : (data) => crypto.createHash('sha256').update(data).digest();

/** RFC 6962 §2.1: MTH({}) = SHA-256() — the root of the empty tree. */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

// Reused input buffer for nodeHash: hashing is synchronous, so one scratch is safe (and the
// digest is a fresh buffer, never a view of the scratch).
const nodeInput = new Uint8Array(1 + 2 * HASH_SIZE);
nodeInput[0] = 0x01;

// Reused input buffer for leafHash: saves an allocation and its zero-fill per entry (≈ 20% of a
// 540-byte leaf hash, bench/merkle.ts). Leaves beyond the cap get a one-off buffer instead, so one
// huge entry does not pin memory.
const LEAF_SCRATCH_MAX = 64 * 1024;
let leafInputScratch = new Uint8Array(4096);

/** RFC 6962 §2.1: MTH({d(0)}) = SHA-256(0x00 || d(0)). */
export function leafHash(leafInput: Uint8Array): Uint8Array {
  const n = leafInput.length + 1;
  if (n > leafInputScratch.length && n <= LEAF_SCRATCH_MAX) {
    leafInputScratch = new Uint8Array(Math.min(LEAF_SCRATCH_MAX, Math.max(n, 2 * leafInputScratch.length)));
  }
  const buf = n <= leafInputScratch.length ? leafInputScratch : new Uint8Array(n);
  buf[0] = 0x00; // the leaf domain-separation prefix
  buf.set(leafInput, 1);
  return sha256(buf.subarray(0, n));
}

/** RFC 6962 §2.1: SHA-256(0x01 || left || right). Inputs of any length (the vectors use 4-byte ones). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length === HASH_SIZE && right.length === HASH_SIZE) {
    nodeInput.set(left, 1);
    nodeInput.set(right, 1 + HASH_SIZE);
    return sha256(nodeInput);
  }
  const buf = new Uint8Array(1 + left.length + right.length);
  buf[0] = 0x01;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return sha256(buf);
}

/** Byte equality of two hashes. Not constant-time: every value compared here is public. */
export function hashEquals(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function checkSize(value: number, what: string): bigint {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new MerkleError('MERKLE_BAD_SIZE', `${what} must be a non-negative safe integer, got ${value}`);
  }
  return BigInt(value);
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

function popCount(n: bigint): number {
  let c = 0;
  for (; n > 0n; n >>= 1n) if (n & 1n) c++;
  return c;
}

/**
 * Chains `seed` through `proof` as RFC 9162 §2.1.3.2 step 4 does, for a path whose first `inner`
 * nodes sit below the point where `index`'s path and the right border of the tree meet (siblings
 * on either side, by the bits of `index`), and whose remaining nodes are border siblings, all on
 * the left. This split is Go's `decompInclProof`; it is the RFC loop with its shifts precomputed.
 */
function chain(seed: Uint8Array, index: bigint, inner: number, proof: readonly Uint8Array[]): Uint8Array {
  let r = seed;
  for (let i = 0; i < proof.length; i++) {
    const p = proof[i] as Uint8Array;
    if (i < inner && ((index >> BigInt(i)) & 1n) === 0n) r = nodeHash(r, p);
    else r = nodeHash(p, r);
  }
  return r;
}

/**
 * RFC 9162 §2.1.3.2: the root that `proof` (the audit path, leaf to root) implies for a leaf hash
 * at `leafIndex` in a tree of `treeSize` leaves. Throws `MERKLE_BAD_SIZE` when the index is not in
 * the tree, `MERKLE_BAD_HASH_LENGTH`, or `MERKLE_WRONG_PROOF_LENGTH`.
 */
export function rootFromInclusionProof(
  leafIndex: number,
  treeSize: number,
  leafHashValue: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  const index = checkSize(leafIndex, 'leaf index');
  const size = checkSize(treeSize, 'tree size');
  // RFC 9162 §2.1.3.2 step 1.
  if (index >= size)
    throw new MerkleError('MERKLE_BAD_SIZE', `leaf index ${leafIndex} >= tree size ${treeSize}`);
  if (leafHashValue.length !== HASH_SIZE) {
    throw new MerkleError(
      'MERKLE_BAD_HASH_LENGTH',
      `leaf hash is ${leafHashValue.length} bytes, not ${HASH_SIZE}`,
    );
  }
  const inner = bitLength(index ^ (size - 1n));
  const border = popCount(index >> BigInt(inner));
  if (proof.length !== inner + border) {
    throw new MerkleError(
      'MERKLE_WRONG_PROOF_LENGTH',
      `inclusion proof for ${leafIndex} in ${treeSize} needs ${inner + border} nodes, got ${proof.length}`,
    );
  }
  return chain(leafHashValue, index, inner, proof);
}

/**
 * RFC 9162 §2.1.3.2: verifies that `leafHash` is leaf `leafIndex` of the tree of `treeSize` leaves
 * whose root is `root`. Returns nothing on success; throws `MerkleError` otherwise
 * (`MERKLE_ROOT_MISMATCH` when the proof is well-formed but does not lead to `root`).
 */
export function verifyInclusion(
  leafIndex: number,
  treeSize: number,
  leafHashValue: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  const computed = rootFromInclusionProof(leafIndex, treeSize, leafHashValue, proof);
  if (!hashEquals(computed, root)) {
    throw new MerkleError(
      'MERKLE_ROOT_MISMATCH',
      `inclusion proof for ${leafIndex} in ${treeSize} leads to another root`,
    );
  }
}

/**
 * RFC 9162 §2.1.4.2: verifies that the tree of `size1` leaves with root `root1` is a prefix of the
 * tree of `size2` leaves with root `root2`. Throws `MerkleError` on any failure.
 *
 * Edge cases, as the Go verifier and its vectors define them:
 * - `size2 < size1`: error.
 * - `size1 == 0`, even when `size2 == 0`: error — every tree extends the empty tree, so such a
 *   "proof" proves nothing and a caller asking for one has a bug.
 * - `size1 == size2`: the proof must be empty and the roots equal, compared as bytes. No length
 *   check: the vector `sizes-are-equal-one-and-proof-is-empty` passes 12-byte roots and succeeds.
 * - otherwise the proof must have exactly the length the two sizes imply.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): void {
  const s1 = checkSize(size1, 'size1');
  const s2 = checkSize(size2, 'size2');
  if (s2 < s1) throw new MerkleError('MERKLE_BAD_SIZE', `size2 ${size2} < size1 ${size1}`);
  // Checked before the equal-sizes case: the vectors reject (0, 0) even with equal roots.
  if (s1 === 0n) {
    throw new MerkleError('MERKLE_BAD_SIZE', 'consistency proof from the empty tree is meaningless');
  }
  if (s1 === s2) {
    if (proof.length !== 0) {
      throw new MerkleError(
        'MERKLE_WRONG_PROOF_LENGTH',
        `sizes are equal but the proof has ${proof.length} nodes`,
      );
    }
    if (!hashEquals(root1, root2))
      throw new MerkleError('MERKLE_ROOT_MISMATCH', `different roots at size ${size1}`);
    return;
  }
  // RFC 9162 §2.1.4.2 step 1.
  if (proof.length === 0) throw new MerkleError('MERKLE_WRONG_PROOF_LENGTH', 'empty consistency proof');

  // The proof is the inclusion path of the last leaf of tree 1 in tree 2, starting at the largest
  // perfect subtree that ends at size1 (its `shift` lowest levels are implied). When size1 is a
  // power of two that subtree is tree 1 itself and its hash, root1, is not sent (step 2).
  const shift = bitLength(s1 & -s1) - 1; // trailing zeros of size1
  const index = (s1 - 1n) >> BigInt(shift);
  const size = ((s2 - 1n) >> BigInt(shift)) + 1n;
  const inner = bitLength(index ^ (size - 1n));
  const border = popCount(index >> BigInt(inner));
  const seeded = s1 === 1n << BigInt(shift);
  const start = seeded ? 0 : 1;
  if (proof.length !== start + inner + border) {
    throw new MerkleError(
      'MERKLE_WRONG_PROOF_LENGTH',
      `consistency proof ${size1}→${size2} needs ${start + inner + border} nodes, got ${proof.length}`,
    );
  }
  const seed = seeded ? root1 : (proof[0] as Uint8Array);
  const path = proof.slice(start);

  // Step 6: tree 2's root chains through every node; tree 1's root only through the left siblings
  // (those where the bit of `index` is set, and all border nodes).
  let r1 = seed;
  for (let i = 0; i < path.length; i++) {
    const p = path[i] as Uint8Array;
    if (i >= inner || ((index >> BigInt(i)) & 1n) === 1n) r1 = nodeHash(p, r1);
  }
  const r2 = chain(seed, index, inner, path);
  // Step 7.
  if (!hashEquals(r1, root1))
    throw new MerkleError('MERKLE_ROOT_MISMATCH', `proof does not lead to root1 at ${size1}`);
  if (!hashEquals(r2, root2))
    throw new MerkleError('MERKLE_ROOT_MISMATCH', `proof does not lead to root2 at ${size2}`);
}

/** Saved state of a `CompactTree`: its size and the roots of its perfect subtrees, base64. */
export interface CompactTreeState {
  size: number;
  /** Left to right: one per set bit of `size`, largest subtree first. */
  hashes: string[];
}

/**
 * The "compact range" / frontier of a tree: the roots of the perfect subtrees that make up
 * `[0, size)`, one per set bit of `size` (RFC 9162 §2.1.1's recursion split at powers of two).
 * O(log n) state, one SHA-256 per merge on append, root in O(log n). An auditor downloading a log
 * appends every leaf hash and compares `root()` with the signed tree head; `toJSON()`/`fromJSON()`
 * let it resume after a restart without re-reading the log.
 *
 * @example
 * const t = new CompactTree();
 * for (const e of entries) t.append(leafHash(e.leafInput));
 * if (!hashEquals(t.root(), sth.rootHash)) throw …;
 */
export class CompactTree {
  private n = 0;
  /** Perfect subtree roots, largest (leftmost) first; `hashes.length === popcount(n)`. */
  private readonly hashes: Uint8Array[] = [];

  get size(): number {
    return this.n;
  }

  /** Appends one leaf hash (`leafHash(leafInput)`). */
  append(leafHashValue: Uint8Array): void {
    this.appendSubtree(leafHashValue, 0);
  }

  appendMany(leafHashes: Iterable<Uint8Array>): void {
    for (const h of leafHashes) this.appendSubtree(h, 0);
  }

  /**
   * Appends the root of a perfect subtree of 2^height leaves, e.g. an entry of a full level-1
   * static-ct-api tile (height 8). The tree size must be a multiple of 2^height: a subtree can only
   * be appended where it is aligned in the final tree.
   */
  appendSubtree(hash: Uint8Array, height: number): void {
    if (hash.length !== HASH_SIZE) {
      throw new MerkleError('MERKLE_BAD_HASH_LENGTH', `hash is ${hash.length} bytes, not ${HASH_SIZE}`);
    }
    const width = 2 ** height;
    if (!Number.isInteger(height) || height < 0 || height > 52 || this.n % width !== 0) {
      throw new MerkleError('MERKLE_BAD_SIZE', `cannot append a height-${height} subtree at size ${this.n}`);
    }
    if (!Number.isSafeInteger(this.n + width)) throw new MerkleError('MERKLE_BAD_SIZE', 'tree too large');
    let h = hash;
    // Merge with the subtree to the left while it has the same height: one per set bit of
    // n / 2^height, counting from the bottom — exactly the carries of the binary addition.
    let s = this.n / width;
    while (s % 2 === 1) {
      h = nodeHash(this.hashes.pop() as Uint8Array, h);
      s = (s - 1) / 2;
    }
    this.hashes.push(h);
    this.n += width;
  }

  /** RFC 6962 §2.1 MTH of the leaves so far; `EMPTY_ROOT` for none. */
  root(): Uint8Array {
    const last = this.hashes.length - 1;
    if (last < 0) return EMPTY_ROOT.slice(); // a copy: callers may keep and mutate what they get
    let r = this.hashes[last] as Uint8Array;
    for (let i = last - 1; i >= 0; i--) r = nodeHash(this.hashes[i] as Uint8Array, r);
    return r;
  }

  clone(): CompactTree {
    const t = new CompactTree();
    t.n = this.n;
    t.hashes.push(...this.hashes);
    return t;
  }

  toJSON(): CompactTreeState {
    return { size: this.n, hashes: this.hashes.map(encodeBase64) };
  }

  /** Restores a saved state; throws `MERKLE_BAD_STATE` unless it is exactly what `toJSON` gives. */
  static fromJSON(state: unknown): CompactTree {
    const s = state as Partial<CompactTreeState> | null;
    if (typeof s !== 'object' || s === null || !Number.isSafeInteger(s.size) || (s.size as number) < 0) {
      throw new MerkleError('MERKLE_BAD_STATE', 'state needs a non-negative integer size');
    }
    const size = s.size as number;
    if (!Array.isArray(s.hashes) || s.hashes.length !== popCount(BigInt(size))) {
      throw new MerkleError(
        'MERKLE_BAD_STATE',
        `a tree of size ${size} has ${popCount(BigInt(size))} subtree hashes`,
      );
    }
    const t = new CompactTree();
    for (const item of s.hashes as unknown[]) {
      const h = typeof item === 'string' ? decodeBase64(item) : undefined;
      if (h?.length !== HASH_SIZE)
        throw new MerkleError('MERKLE_BAD_STATE', 'subtree hashes must be base64 of 32 bytes');
      t.hashes.push(h);
    }
    t.n = size;
    return t;
  }
}

/** RFC 6962 §2.1 MTH of the leaves whose hashes are given, in order (e.g. a level-0 tile's). */
export function rootFromLeafHashes(leafHashes: Iterable<Uint8Array>): Uint8Array {
  const t = new CompactTree();
  t.appendMany(leafHashes);
  return t.root();
}
