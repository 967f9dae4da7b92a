/**
 * @module ct/head-store
 * The tree heads an auditor has seen, per log, in a state directory — so that the next audit can
 * check the log against them — and the evidence files written when a log misbehaves. Plain JSON,
 * written atomically (temp file + rename), so a crash never leaves a half-written state.
 *
 * The directory is private (0700, ours, not group/world-writable) and no file in it is read or
 * written through a symlink (`state-files`): a planted head could make a forked log look
 * consistent, and a planted link would make the auditor overwrite a file of someone's choosing.
 */
import { join } from 'node:path';
import { CertvigilError } from '../errors.js';
import { checkStateDir, ensureStateDir, readStateFile, writeStateFile } from '../state-files.js';
import { encodeDigitallySigned, parseDigitallySigned } from './signature.js';
import type { SignedTreeHead } from './types.js';

/** JSON form of a signed tree head: enough to re-verify the log's signature later. */
export interface StoredHead {
  treeSize: number;
  timestamp: number;
  rootHash: string;
  treeHeadSignature: string;
}

export function toStoredHead(sth: SignedTreeHead): StoredHead {
  return {
    treeSize: sth.treeSize,
    timestamp: sth.timestamp,
    rootHash: Buffer.from(sth.rootHash).toString('base64'),
    treeHeadSignature: Buffer.from(encodeDigitallySigned(sth.signature)).toString('base64'),
  };
}

export function fromStoredHead(s: StoredHead): SignedTreeHead {
  return {
    treeSize: s.treeSize,
    timestamp: s.timestamp,
    rootHash: new Uint8Array(Buffer.from(s.rootHash, 'base64')),
    signature: parseDigitallySigned(new Uint8Array(Buffer.from(s.treeHeadSignature, 'base64'))),
  };
}

interface LogState {
  log: string;
  heads: StoredHead[];
}

/** How many distinct heads to remember per log (the newest are kept). */
const MAX_HEADS = 64;

export class HeadStore {
  constructor(private readonly dir: string) {}

  private fileFor(logIdB64: string): string {
    return join(this.dir, `log-${Buffer.from(logIdB64, 'base64').toString('hex')}.json`);
  }

  /**
   * Checks the directory if it exists (refusing one others can write); creates nothing. Call it
   * before any network work, so a bad directory fails fast.
   */
  async check(): Promise<void> {
    await checkStateDir(this.dir);
  }

  /** Heads seen before for this log; an empty list when there is no state yet. */
  async load(logIdB64: string): Promise<SignedTreeHead[]> {
    if (!(await checkStateDir(this.dir))) return [];
    const path = this.fileFor(logIdB64);
    const text = await readStateFile(path);
    if (text === null) return [];
    try {
      const state = JSON.parse(text) as LogState;
      return state.heads.map(fromStoredHead);
    } catch (cause) {
      throw new CertvigilError(
        'STORE_UNAVAILABLE',
        `${path} is not a tree head file: ${(cause as Error).message}`,
        {
          cause,
        },
      );
    }
  }

  /** Adds a verified head (idempotent: the same size and root are stored once). */
  async remember(logIdB64: string, description: string, sth: SignedTreeHead): Promise<void> {
    await ensureStateDir(this.dir);
    const heads = (await this.load(logIdB64)).map(toStoredHead);
    const stored = toStoredHead(sth);
    if (!heads.some((h) => h.treeSize === stored.treeSize && h.rootHash === stored.rootHash))
      heads.push(stored);
    heads.sort((a, b) => a.treeSize - b.treeSize);
    const state: LogState = { log: description, heads: heads.slice(-MAX_HEADS) };
    await writeStateFile(this.fileFor(logIdB64), `${JSON.stringify(state, null, 2)}\n`);
  }

  /** Keeps the signed heads that prove misbehaviour; returns the file written. */
  async saveEvidence(logIdB64: string, evidence: unknown): Promise<string> {
    await ensureStateDir(this.dir);
    const path = join(
      this.dir,
      `evidence-${Buffer.from(logIdB64, 'base64').toString('hex')}-${Date.now()}.json`,
    );
    await writeStateFile(path, `${JSON.stringify(evidence, null, 2)}\n`);
    return path;
  }
}
