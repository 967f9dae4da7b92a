/**
 * @module
 * What {@link LabCtLog.save} keeps of a log, and the checks {@link LabCtLog.load} makes before it
 * serves it again: `ct-log.key.pem` (the log's ECDSA P-256 key, PKCS#8) and `ct-log.json` (settings,
 * accepted roots, known issuers, every entry's timestamp and bodies, every published STH).
 *
 * A loaded log must serve byte for byte what the saved one served, and monitors that saw it before
 * hold its STHs: so nothing is re-signed on load. The tree is rebuilt from the entries and every kept
 * STH must match it (RFC 6962 §3.5: root and size) and verify under the kept key; a file that was
 * truncated or edited, or a key from another log, fails these checks with a LabError instead of a
 * log that would contradict its own signed heads.
 */
import { createPrivateKey, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import type { EntryBody, SignedTreeHead } from './log.js';
import { invalidState, parseJsonFile, readLabFile, writeLabFiles } from './state.js';
import type { MerkleTree } from './tree.js';
import { HASH_SHA256, SIG_ECDSA, treeHeadSignatureInput } from './wire.js';

export const LOG_FILES = { key: 'ct-log.key.pem', state: 'ct-log.json' } as const;

const FORMAT = 'certvigil-lab-ct-log';

/** Everything of a log that is not derived: what save writes and load returns. */
export interface LogSnapshot {
  name: string;
  origin: string | undefined;
  staticCtApi: boolean;
  mmd: number;
  temporalInterval: { startInclusive: Date; endExclusive: Date };
  createdAt: Date;
  logId: Buffer;
  roots: Buffer[];
  issuers: Buffer[];
  /** Entry i is (timestamps[i], bodies[i]); bodies may be shared between entries (bulk logs). */
  timestamps: ArrayLike<number>;
  bodies: readonly EntryBody[];
  sths: readonly SignedTreeHead[];
}

const b64 = (b: Buffer): string => b.toString('base64');
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const bytes = z
  .string()
  .regex(BASE64, 'not base64')
  .transform((s) => Buffer.from(s, 'base64'));
/** Milliseconds; the leaf encoder writes timestamps in 6 bytes (they are uint64, always < 2^48). */
const millis = z
  .number()
  .int()
  .min(0)
  .max(2 ** 48 - 1);
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const stateSchema = z.object({
  format: z.literal(FORMAT),
  version: z.literal(1),
  name: z.string().max(1000),
  origin: z.string().max(1000).optional(),
  staticCtApi: z.boolean(),
  mmd: count,
  temporalInterval: z.object({ startInclusive: millis, endExclusive: millis }),
  createdAt: millis,
  logId: bytes,
  roots: z.array(bytes),
  issuers: z.array(bytes),
  /** [entry_type || signed_entry, extra_data, TileLeaf tail] */
  bodies: z.array(z.tuple([bytes, bytes, bytes])),
  /** [timestamp, index into bodies] */
  entries: z.array(z.tuple([millis, count])),
  sths: z.array(z.object({ treeSize: count, timestamp: millis, rootHash: bytes, signature: bytes })).min(1),
});

/** Writes the key, then the state (both atomically): see the module comment. */
export async function saveLogState(dir: string, privateKey: KeyObject, log: LogSnapshot): Promise<void> {
  const bodyIndex = new Map<EntryBody, number>();
  const bodies: [string, string, string][] = [];
  const entries: [number, number][] = [];
  for (let i = 0; i < log.bodies.length; i++) {
    const body = log.bodies[i] as EntryBody;
    let at = bodyIndex.get(body);
    if (at === undefined) {
      at = bodies.push([b64(body.signedEntry), b64(body.extraData), b64(body.tileTail)]) - 1;
      bodyIndex.set(body, at);
    }
    entries.push([log.timestamps[i] ?? 0, at]);
  }
  const state = {
    format: FORMAT,
    version: 1,
    name: log.name,
    ...(log.origin === undefined ? {} : { origin: log.origin }),
    staticCtApi: log.staticCtApi,
    mmd: log.mmd,
    temporalInterval: {
      startInclusive: log.temporalInterval.startInclusive.getTime(),
      endExclusive: log.temporalInterval.endExclusive.getTime(),
    },
    createdAt: log.createdAt.getTime(),
    logId: b64(log.logId),
    roots: log.roots.map(b64),
    issuers: log.issuers.map(b64),
    bodies,
    entries,
    sths: log.sths.map((s) => ({ ...s, rootHash: b64(s.rootHash), signature: b64(s.signature) })),
  };
  await writeLabFiles(dir, [
    [LOG_FILES.key, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()],
    [LOG_FILES.state, `${JSON.stringify(state)}\n`],
  ]);
}

/** Reads and parses what {@link saveLogState} wrote; the tree is checked later ({@link checkRestored}). */
export async function loadLogState(dir: string): Promise<{ privateKey: KeyObject; snapshot: LogSnapshot }> {
  const keyText = await readLabFile(dir, LOG_FILES.key, 'lab CT log key');
  const stateText = await readLabFile(dir, LOG_FILES.state, 'lab CT log state');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: keyText, format: 'pem' });
  } catch (err) {
    throw invalidState(dir, LOG_FILES.key, 'not a PEM private key', err);
  }
  if (privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw invalidState(dir, LOG_FILES.key, 'not an ECDSA P-256 key');
  const parsed = stateSchema.safeParse(parseJsonFile(dir, LOG_FILES.state, stateText));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? '' : `${issue.path.join('.')}: ${issue.message}`;
    throw invalidState(dir, LOG_FILES.state, `unexpected content (${where})`, parsed.error);
  }
  const s = parsed.data;
  const bodies: EntryBody[] = s.bodies.map(([signedEntry, extraData, tileTail]) => ({
    signedEntry,
    extraData,
    tileTail,
  }));
  const entryBodies: EntryBody[] = [];
  const timestamps: number[] = [];
  for (const [timestamp, at] of s.entries) {
    const body = bodies[at];
    if (body === undefined) throw invalidState(dir, LOG_FILES.state, `entry body ${at} does not exist`);
    entryBodies.push(body);
    timestamps.push(timestamp);
  }
  return {
    privateKey,
    snapshot: {
      name: s.name,
      origin: s.origin,
      staticCtApi: s.staticCtApi,
      mmd: s.mmd,
      temporalInterval: {
        startInclusive: new Date(s.temporalInterval.startInclusive),
        endExclusive: new Date(s.temporalInterval.endExclusive),
      },
      createdAt: new Date(s.createdAt),
      logId: s.logId,
      roots: s.roots,
      issuers: s.issuers,
      timestamps,
      bodies: entryBodies,
      sths: s.sths,
    },
  };
}

/**
 * Checks a log rebuilt from a snapshot before it is served: the key is the log's (same LogID), and
 * every kept STH covers entries that exist, has the root the rebuilt tree has at its size, and is
 * signed by the key (RFC 6962 §3.5 TreeHeadSignature, §2.1.4 DigitallySigned with ECDSA/SHA-256).
 */
export function checkRestored(
  dir: string,
  rebuilt: { logId: Buffer; publicKey: KeyObject; tree: MerkleTree },
  snapshot: LogSnapshot,
): void {
  if (!rebuilt.logId.equals(snapshot.logId))
    throw invalidState(dir, LOG_FILES.key, 'the key is not the one of the kept log (another log ID)');
  for (const sth of snapshot.sths) {
    const what = `the signed tree head of size ${sth.treeSize} at ${sth.timestamp}`;
    if (sth.treeSize > rebuilt.tree.size)
      throw invalidState(dir, LOG_FILES.state, `${what} covers entries that are not there`);
    if (!rebuilt.tree.root(sth.treeSize).equals(sth.rootHash))
      throw invalidState(dir, LOG_FILES.state, `${what} does not match the entries`);
    if (!signatureValid(rebuilt.publicKey, sth))
      throw invalidState(dir, LOG_FILES.state, `${what} is not signed by the log key`);
  }
}

function signatureValid(publicKey: KeyObject, sth: SignedTreeHead): boolean {
  const sig = sth.signature;
  if (
    sig.length < 4 ||
    sig[0] !== HASH_SHA256 ||
    sig[1] !== SIG_ECDSA ||
    sig.readUInt16BE(2) !== sig.length - 4
  )
    return false;
  try {
    return verify(
      'sha256',
      treeHeadSignatureInput(sth.timestamp, sth.treeSize, sth.rootHash),
      { key: publicKey, dsaEncoding: 'der' },
      sig.subarray(4),
    );
  } catch {
    return false;
  }
}
