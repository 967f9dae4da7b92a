/**
 * @module ct/checkpoint
 * The static-ct-api signed tree head: a c2sp.org/tlog-checkpoint body inside a c2sp.org/signed-note,
 * signed with the RFC 6962 note signature type of c2sp.org/static-ct-api §Checkpoints. Parsing is
 * strict (the note grammar, then the checkpoint grammar); verification yields the same
 * `SignedTreeHead` an RFC 6962 get-sth does, since the log signs the same §3.5 `TreeHeadSignature`.
 *
 *     rome2026h1.example.org                      ← origin
 *     300                                         ← tree size, decimal
 *     lCkHUpkmVBEms2r2T1K6Og69+wUuuN3MIEW1/ezu2v0= ← root hash, base64
 *                                                 ← blank line
 *     — rome2026h1.example.org kVB1JgAAAZtx…       ← signature line(s)
 */
import { CtError } from './errors.js';
import { createHash } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { DigitallySigned, SignedTreeHead } from './types.js';
import { HASH_SIZE } from './merkle.js';
import {
  encodeDigitallySigned,
  publicKeyFromSpki,
  readDigitallySigned,
  verifyDigitallySigned,
} from './signature.js';
import { treeHeadSignatureInput } from './sth.js';
import { decodeBase64, encodeBase64, TlsDecodeError, TlsReader, writeU64 } from './tls.js';
import type { CheckpointErrorCode } from './errors.js';

export class CheckpointError extends CtError<CheckpointErrorCode> {}

/** A signature line: `— <name> base64(uint32 key ID || signature)`. */
export interface NoteSignature {
  name: string;
  keyId: number;
  signature: Uint8Array;
}

export interface SignedNote {
  /** The signed text, including its final newline, excluding the blank separator line. */
  text: string;
  signatures: NoteSignature[];
}

/** tlog-checkpoint note text. */
export interface Checkpoint {
  origin: string;
  treeSize: number;
  rootHash: Uint8Array;
  extensions: string[];
}

const EM_DASH_SPACE = '\u2014 ';
/** signed-note asks verifiers to cap signatures while accepting at least 16. */
const MAX_SIGNATURES = 100;
// Key names "MUST NOT contain any Unicode spaces or plus (U+002B)".
const BAD_KEY_NAME = /[\s+]/u;

function malformed(message: string): never {
  throw new CheckpointError('CHECKPOINT_MALFORMED', message);
}

/**
 * c2sp.org/signed-note §Format: text ending in a newline, a blank line, then one or more lines
 * `— <key name> <base64 signature>`. UTF-8 (checked when given bytes) with no control characters
 * other than newline. The text ends at the *last* blank line. Throws `CHECKPOINT_MALFORMED`.
 */
export function parseSignedNote(note: string | Uint8Array): SignedNote {
  let s: string;
  if (typeof note === 'string') s = note;
  else {
    try {
      s = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(note);
    } catch (err) {
      throw new CheckpointError('CHECKPOINT_MALFORMED', 'note is not valid UTF-8', { cause: err });
    }
  }
  // eslint-disable-next-line no-control-regex -- the rule is exactly about control characters
  if (/[\u0000-\u0009\u000b-\u001f]/.test(s)) malformed('note contains control characters');
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s))
    malformed('note is not valid UTF-16');
  const split = s.lastIndexOf('\n\n');
  if (split < 0) malformed('no blank line before the signatures');
  const text = s.slice(0, split + 1);
  const block = s.slice(split + 2);
  if (!block.endsWith('\n')) malformed('signatures must end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) malformed(`more than ${MAX_SIGNATURES} signatures`);
  const signatures = lines.map((line): NoteSignature => {
    if (!line.startsWith(EM_DASH_SPACE)) malformed(`signature line does not start with an em dash: ${line}`);
    const parts = line.slice(EM_DASH_SPACE.length).split(' ');
    const [name = '', b64 = ''] = parts;
    if (parts.length !== 2 || name === '' || BAD_KEY_NAME.test(name))
      malformed(`bad signature line: ${line}`);
    const raw = decodeBase64(b64);
    if (raw === undefined || raw.length < 5)
      malformed(`signature of ${name} is not base64 of a key ID and a signature`);
    const keyId =
      (((raw[0] as number) << 24) |
        ((raw[1] as number) << 16) |
        ((raw[2] as number) << 8) |
        (raw[3] as number)) >>>
      0;
    return { name, keyId, signature: raw.subarray(4) };
  });
  return { text, signatures };
}

/**
 * c2sp.org/tlog-checkpoint §Note text: origin (non-empty), tree size (ASCII decimal, no leading
 * zeroes), root hash (base64; RFC 6962 SHA-256, so 32 bytes), then optional non-empty extension
 * lines. Throws `CHECKPOINT_MALFORMED`.
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) malformed('checkpoint text must end with a newline');
  const [origin = '', sizeText = '', rootText = '', ...extensions] = text.slice(0, -1).split('\n');
  if (origin === '') malformed('empty origin line');
  if (!/^(?:0|[1-9][0-9]*)$/.test(sizeText)) malformed(`bad tree size line: ${sizeText}`);
  const treeSize = Number(sizeText);
  if (!Number.isSafeInteger(treeSize)) malformed(`tree size ${sizeText} too large`);
  const rootHash = decodeBase64(rootText);
  if (rootHash?.length !== HASH_SIZE) malformed('root hash line is not base64 of 32 bytes');
  if (extensions.some((l) => l === '')) malformed('empty extension line');
  return { origin, treeSize, rootHash, extensions };
}

/** c2sp.org/signed-note signature type byte for RFC 6962 `TreeHeadSignature`s. */
export const SIGNATURE_TYPE_RFC6962 = 0x05;

/**
 * static-ct-api: key ID = first four bytes, big-endian, of
 * SHA-256(key name || 0x0A || 0x05 || LogID), where LogID is SHA-256 of the SPKI (RFC 6962 §3.2) —
 * the log ID, not the key bytes.
 */
export function rfc6962NoteKeyId(name: string, logId: Uint8Array): number {
  const d = createHash('sha256')
    .update(name, 'utf8')
    .update(new Uint8Array([0x0a, SIGNATURE_TYPE_RFC6962]))
    .update(logId)
    .digest();
  return d.readUInt32BE(0);
}

/**
 * static-ct-api `RFC6962NoteSignature { uint64 timestamp; TreeHeadSignature signature; }` where the
 * signature is a TLS `DigitallySigned`; nothing may follow. Throws `TlsDecodeError`.
 */
export function parseRfc6962NoteSignature(bytes: Uint8Array): {
  timestamp: number;
  signature: DigitallySigned;
} {
  const r = new TlsReader(bytes, 'RFC6962NoteSignature');
  const timestamp = r.u64('timestamp');
  const signature = readDigitallySigned(r);
  r.end();
  return { timestamp, signature };
}

export interface VerifyCheckpointOptions {
  /** The expected origin line; for static-ct-api the submission prefix without scheme or trailing slash. */
  origin: string;
  /** The log key: DER SPKI as in the log list, or an imported KeyObject (then give `spki` too). */
  key: Uint8Array | KeyObject;
  /**
   * The DER SPKI whose SHA-256 is the log ID (RFC 6962 §3.2), for the key ID. Defaults to `key`
   * when that is bytes; for a KeyObject without it, Node's SPKI re-encoding of the key is used.
   */
  spki?: Uint8Array;
}

/**
 * Verifies a static-ct-api checkpoint and returns its tree head. The log's signature is the line
 * whose key name is the origin and whose key ID is `rfc6962NoteKeyId(origin, logId)`; signatures
 * from other keys (witnesses, other key types) are ignored, as signed-note requires. The signed
 * message is the RFC 6962 §3.5 `TreeHeadSignature` over the note's size and root and the
 * signature's timestamp, so a size or root edited in the text fails verification.
 *
 * Throws `CheckpointError`: `CHECKPOINT_MALFORMED`, `CHECKPOINT_WRONG_ORIGIN`,
 * `CHECKPOINT_EXTENSION_LINES`, `CHECKPOINT_NO_SIGNATURE` or `CHECKPOINT_BAD_SIGNATURE`
 * (`SignatureError` as `cause`), or a `SignatureError` if `key` is not a usable log key.
 */
export function verifyCheckpoint(
  note: string | Uint8Array,
  options: VerifyCheckpointOptions,
): SignedTreeHead {
  const { text, signatures } = parseSignedNote(note);
  const cp = parseCheckpoint(text);
  if (cp.origin !== options.origin) {
    throw new CheckpointError('CHECKPOINT_WRONG_ORIGIN', `origin ${cp.origin}, expected ${options.origin}`);
  }
  // static-ct-api: "A checkpoint signed with this algorithm MUST NOT include any extension lines."
  if (cp.extensions.length > 0)
    throw new CheckpointError(
      'CHECKPOINT_EXTENSION_LINES',
      'static-ct-api checkpoints have no extension lines',
    );

  const spki =
    options.spki ??
    (options.key instanceof Uint8Array
      ? options.key
      : new Uint8Array(options.key.export({ type: 'spki', format: 'der' })));
  const key = options.key instanceof Uint8Array ? publicKeyFromSpki(options.key) : options.key;
  const keyId = rfc6962NoteKeyId(cp.origin, createHash('sha256').update(spki).digest());
  const ours = signatures.filter((s) => s.name === cp.origin && s.keyId === keyId);
  if (ours.length === 0)
    throw new CheckpointError('CHECKPOINT_NO_SIGNATURE', `no signature by ${cp.origin} with this key`);
  // Two signatures from one key could carry two timestamps for one tree head: refuse to choose.
  if (ours.length > 1) malformed(`${ours.length} signatures from the same key`);
  const sig = (ours[0] as NoteSignature).signature;

  let parsed: { timestamp: number; signature: DigitallySigned };
  try {
    parsed = parseRfc6962NoteSignature(sig);
  } catch (err) {
    if (!(err instanceof TlsDecodeError)) throw err;
    throw new CheckpointError('CHECKPOINT_BAD_SIGNATURE', `malformed RFC6962NoteSignature: ${err.message}`, {
      cause: err,
    });
  }
  const sth: SignedTreeHead = {
    treeSize: cp.treeSize,
    timestamp: parsed.timestamp,
    rootHash: cp.rootHash,
    signature: parsed.signature,
  };
  try {
    verifyDigitallySigned(key, treeHeadSignatureInput(sth), sth.signature);
  } catch (err) {
    throw new CheckpointError(
      'CHECKPOINT_BAD_SIGNATURE',
      `checkpoint signature does not verify: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  return sth;
}

/**
 * The checkpoint a static-ct-api log would serve for this (already signed) tree head: static-ct-api
 * notes that a get-sth response converts to a checkpoint, given the origin, without the private key.
 */
export function formatCheckpoint(sth: SignedTreeHead, origin: string, logId: Uint8Array): string {
  const ds = encodeDigitallySigned(sth.signature);
  const raw = new Uint8Array(4 + 8 + ds.length);
  new DataView(raw.buffer).setUint32(0, rfc6962NoteKeyId(origin, logId));
  writeU64(raw, 4, sth.timestamp);
  raw.set(ds, 12);
  return `${origin}\n${sth.treeSize}\n${encodeBase64(sth.rootHash)}\n\n${EM_DASH_SPACE}${origin} ${encodeBase64(raw)}\n`;
}
