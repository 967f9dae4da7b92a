/**
 * A fake `LogReader` for the sync tests: `size` opaque entries (each malformed: no certificate to
 * parse, but hashable), a head over them that can be corrupted, failures on demand, and an
 * optional delay per batch so that several workers interleave.
 */
import type { EntryBatch, LogReader, MalformedEntry } from '../ct/log-reader.js';
import { CompactTree, leafHash } from '../ct/merkle.js';
import type { LogInfo, SignedTreeHead } from '../ct/types.js';

export const LOG: LogInfo = {
  kind: 'rfc6962',
  description: 'fake log',
  operator: 'test',
  logId: Buffer.alloc(32, 7).toString('base64'),
  key: new Uint8Array(),
  url: 'https://fake.example/log/',
  mmdSeconds: 86_400,
  state: 'usable',
};

export const leaf = (i: number): Uint8Array => new Uint8Array(Buffer.from(`leaf ${i}`));

/** A log of `size` opaque entries (each reported malformed: no certificate to parse). */
export class FakeLog implements LogReader {
  readonly log = LOG;
  size = 0;
  /** Serve a head whose root has one bit flipped (validly "signed": the fake checks nothing). */
  flipRoot = false;
  /** Thrown by treeHead / entries instead of answering. */
  headError: unknown = null;
  entriesError: unknown = null;
  entriesRequested: number[] = [];
  /** Before each batch: wait this long (ms; a function for random delays), so workers interleave. */
  delayMs: number | (() => number) = 0;

  root(size: number): Uint8Array {
    const t = new CompactTree();
    for (let i = 0; i < size; i++) t.append(leafHash(leaf(i)));
    return t.root();
  }

  async treeHead(): Promise<SignedTreeHead> {
    if (this.headError !== null) throw this.headError;
    const rootHash = new Uint8Array(this.root(this.size));
    if (this.flipRoot) rootHash[0] = (rootHash[0] ?? 0) ^ 1;
    return {
      treeSize: this.size,
      timestamp: 1_700_000_000_000 + this.size,
      rootHash,
      signature: { hashAlgorithm: 4, signatureAlgorithm: 3, signature: new Uint8Array([1, 2, 3]) },
    };
  }

  async *entries(start: number, end: number): AsyncIterable<EntryBatch> {
    this.entriesRequested.push(start);
    if (this.entriesError !== null) throw this.entriesError;
    const delay = typeof this.delayMs === 'function' ? this.delayMs() : this.delayMs;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const entries: MalformedEntry[] = [];
    for (let i = start; i < end; i++)
      entries.push({ index: i, malformed: true, error: 'opaque', leafInput: leaf(i) });
    if (entries.length > 0) yield { start, entries };
  }

  async compactTreeAt(sth: SignedTreeHead): Promise<CompactTree> {
    const t = new CompactTree();
    for (let i = 0; i < sth.treeSize; i++) t.append(leafHash(leaf(i)));
    return t;
  }
}
