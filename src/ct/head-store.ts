/**
 * @module ct/head-store
 * The tree heads an auditor has seen, per log, in a state directory — so that the next audit can
 * check the log against them — and the evidence files written when a log misbehaves. Plain JSON,
 * written atomically (temp file + rename), so a crash never leaves a half-written state.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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

async function writeAtomically(path: string, content: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, content, { mode: 0o600 });
  await rename(tmp, path);
}

export class HeadStore {
  constructor(private readonly dir: string) {}

  private fileFor(logIdB64: string): string {
    return join(this.dir, `log-${Buffer.from(logIdB64, 'base64').toString('hex')}.json`);
  }

  /** Heads seen before for this log; an empty list when there is no state yet. */
  async load(logIdB64: string): Promise<SignedTreeHead[]> {
    let text: string;
    try {
      text = await readFile(this.fileFor(logIdB64), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const state = JSON.parse(text) as LogState;
    return state.heads.map(fromStoredHead);
  }

  /** Adds a verified head (idempotent: the same size and root are stored once). */
  async remember(logIdB64: string, description: string, sth: SignedTreeHead): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const heads = (await this.load(logIdB64)).map(toStoredHead);
    const stored = toStoredHead(sth);
    if (!heads.some((h) => h.treeSize === stored.treeSize && h.rootHash === stored.rootHash))
      heads.push(stored);
    heads.sort((a, b) => a.treeSize - b.treeSize);
    const state: LogState = { log: description, heads: heads.slice(-MAX_HEADS) };
    await writeAtomically(this.fileFor(logIdB64), `${JSON.stringify(state, null, 2)}\n`);
  }

  /** Keeps the signed heads that prove misbehaviour; returns the file written. */
  async saveEvidence(logIdB64: string, evidence: unknown): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const path = join(
      this.dir,
      `evidence-${Buffer.from(logIdB64, 'base64').toString('hex')}-${Date.now()}.json`,
    );
    await writeAtomically(path, `${JSON.stringify(evidence, null, 2)}\n`);
    return path;
  }
}
