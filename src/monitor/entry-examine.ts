/**
 * @module monitor/entry-examine
 * The per-entry work of a CT catch-up that needs only the leaf bytes: the RFC 6962 §2.1 leaf hash
 * and the certificate's names (or why it is malformed), for a batch of entries packed into one
 * buffer. Pure; the same function runs in the entry worker thread (entry-worker.ts) and, when no
 * worker is available, in the calling thread (entry-pool.ts), so both give the same answers.
 */
import { leafHash, parseMerkleTreeLeaf } from '../ct/index.js';
import type { RawLogEntry } from '../ct/index.js';
import { entryNames } from './entry-summary.js';

const HASH = 32;

/** A batch's leaf inputs, back to back in `bytes`; entry i is `bytes[offsets[i], offsets[i+1])`. */
export interface PackedLeaves {
  /** Index of the batch's first entry (entry i is `first + i`). */
  first: number;
  bytes: Uint8Array;
  /** `count + 1` offsets. */
  offsets: Uint32Array;
}

/**
 * Per entry: its DNS names; a string, why its certificate is malformed (`entryNames`' error); or
 * null when its MerkleTreeLeaf does not parse (the log reader has reported that entry already).
 */
export type ExaminedNames = readonly string[] | string | null;

export interface Examined {
  /** 32 bytes per entry, in order. */
  hashes: Uint8Array;
  names: ExaminedNames[];
}

export function packLeaves(first: number, leafInputs: readonly Uint8Array[]): PackedLeaves {
  let total = 0;
  for (const l of leafInputs) total += l.length;
  const bytes = new Uint8Array(total);
  const offsets = new Uint32Array(leafInputs.length + 1);
  let at = 0;
  leafInputs.forEach((l, i) => {
    bytes.set(l, at);
    at += l.length;
    offsets[i + 1] = at;
  });
  return { first, bytes, offsets };
}

/** The leaves of a packed batch, as views of its buffer. */
export function unpackLeaves(packed: PackedLeaves): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i + 1 < packed.offsets.length; i++)
    out.push(packed.bytes.subarray(packed.offsets[i], packed.offsets[i + 1]));
  return out;
}

/** Examines entries `first`, `first + 1`, … from their leaf inputs. */
export function examineLeaves(first: number, leafInputs: readonly Uint8Array[]): Examined {
  const count = leafInputs.length;
  const hashes = new Uint8Array(count * HASH);
  const names: ExaminedNames[] = new Array<ExaminedNames>(count);
  for (let i = 0; i < count; i++) {
    const leafInput = leafInputs[i] as Uint8Array;
    hashes.set(leafHash(leafInput), i * HASH);
    const index = first + i;
    let entry: RawLogEntry;
    try {
      entry = { index, leafInput, leaf: parseMerkleTreeLeaf(leafInput, index), chain: [] };
    } catch {
      names[i] = null;
      continue;
    }
    const n = entryNames(entry);
    names[i] = 'malformed' in n ? n.error : n.dnsNames;
  }
  return { hashes, names };
}
