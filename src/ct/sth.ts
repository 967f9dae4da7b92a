/**
 * @module ct/sth
 * RFC 6962 §4 JSON responses, validated strictly from `unknown` (the HTTP client's `JSON.parse`
 * output), and the §3.5 signed tree head: its JSON form, the exact bytes the log signs, and their
 * verification. Binary fields are standard padded base64 (RFC 6962 §4: "base64 encoded"); hashes
 * must be 32 bytes; integers must be non-negative safe integers.
 *
 * Parsing here stops at the JSON: `leaf_input`/`extra_data` stay opaque bytes for `ct/entry`, so a
 * get-entries batch with one bad leaf can still be reported entry by entry.
 */
import { CertvigilError } from '../errors.js';
import type { KeyObject } from 'node:crypto';
import type { DigitallySigned, SignedTreeHead } from './types.js';
import { HASH_SIZE } from './merkle.js';
import { parseDigitallySigned, SignatureError, verifyDigitallySigned } from './signature.js';
import { decodeBase64, writeU64 } from './tls.js';
import type { CtResponseErrorCode } from './errors.js';

/** A log response does not have the shape RFC 6962 §4 defines; `field` names the culprit. */
export class CtResponseError extends CertvigilError {
  declare readonly code: CtResponseErrorCode;
  readonly field: string;

  constructor(code: CtResponseErrorCode, field: string, message: string, options?: { cause?: unknown }) {
    super(code, `${field}: ${message}`, options);
    this.name = 'CtResponseError';
    this.field = field;
  }
}

type Json = Record<string, unknown>;

function object(value: unknown, field: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CtResponseError('CT_RESPONSE_SHAPE', field, 'expected a JSON object');
  }
  return value as Json;
}

function array(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) throw new CtResponseError('CT_RESPONSE_SHAPE', field, 'expected a JSON array');
  return value;
}

function uint(value: unknown, field: string): number {
  if (typeof value !== 'number') throw new CtResponseError('CT_RESPONSE_SHAPE', field, 'expected a number');
  // JSON.parse has already rounded anything above 2^53; refuse it rather than trust a rounded size.
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new CtResponseError('CT_RESPONSE_NUMBER', field, `${value} is not a non-negative safe integer`);
  }
  return value;
}

function bytes(value: unknown, field: string): Uint8Array {
  if (typeof value !== 'string')
    throw new CtResponseError('CT_RESPONSE_SHAPE', field, 'expected a base64 string');
  const out = decodeBase64(value);
  if (out === undefined) throw new CtResponseError('CT_RESPONSE_BASE64', field, 'not standard padded base64');
  return out;
}

function hash(value: unknown, field: string): Uint8Array {
  const out = bytes(value, field);
  if (out.length !== HASH_SIZE) {
    throw new CtResponseError(
      'CT_RESPONSE_HASH_LENGTH',
      field,
      `hash is ${out.length} bytes, not ${HASH_SIZE}`,
    );
  }
  return out;
}

function hashList(value: unknown, field: string): Uint8Array[] {
  return array(value, field).map((v, i) => hash(v, `${field}[${i}]`));
}

/**
 * RFC 6962 §4.3 get-sth: `{ tree_size, timestamp, sha256_root_hash, tree_head_signature }`.
 * The signature is parsed (strictly: no trailing bytes) but not verified; see `verifySth`.
 */
export function parseSthJson(value: unknown): SignedTreeHead {
  const o = object(value, 'get-sth');
  const treeSize = uint(o.tree_size, 'tree_size');
  const timestamp = uint(o.timestamp, 'timestamp');
  const rootHash = hash(o.sha256_root_hash, 'sha256_root_hash');
  const sigBytes = bytes(o.tree_head_signature, 'tree_head_signature');
  let signature: DigitallySigned;
  try {
    signature = parseDigitallySigned(sigBytes);
  } catch (err) {
    if (!(err instanceof SignatureError)) throw err;
    throw new CtResponseError('CT_RESPONSE_SIGNATURE', 'tree_head_signature', err.message, { cause: err });
  }
  return { treeSize, timestamp, rootHash, signature };
}

/** RFC 6962 §3.5 `Version.v1` and `SignatureType.tree_hash`. */
const V1 = 0;
const TREE_HASH = 1;

/**
 * The exact bytes a log signs for a tree head, RFC 6962 §3.5 `TreeHeadSignature`:
 * `version(0) || signature_type(1 = tree_hash) || uint64 timestamp || uint64 tree_size ||
 * sha256_root_hash[32]` — 50 bytes. static-ct-api checkpoints sign the same structure.
 */
export function treeHeadSignatureInput(
  sth: Pick<SignedTreeHead, 'treeSize' | 'timestamp' | 'rootHash'>,
): Uint8Array {
  if (sth.rootHash.length !== HASH_SIZE) throw new RangeError(`root hash must be ${HASH_SIZE} bytes`);
  const out = new Uint8Array(2 + 8 + 8 + HASH_SIZE);
  out[0] = V1;
  out[1] = TREE_HASH;
  writeU64(out, 2, sth.timestamp);
  writeU64(out, 10, sth.treeSize);
  out.set(sth.rootHash, 18);
  return out;
}

/** Verifies the tree head's signature with the log's key; throws `SignatureError` on failure. */
export function verifySth(sth: SignedTreeHead, key: KeyObject): void {
  verifyDigitallySigned(key, treeHeadSignatureInput(sth), sth.signature);
}

/** RFC 6962 §4.4 get-sth-consistency: `{ consistency: [b64 hash…] }`, oldest-level node first. */
export function parseConsistencyProofJson(value: unknown): Uint8Array[] {
  return hashList(object(value, 'get-sth-consistency').consistency, 'consistency');
}

/** RFC 6962 §4.5 get-proof-by-hash: `{ leaf_index, audit_path: [b64 hash…] }`. */
export function parseProofByHashJson(value: unknown): { leafIndex: number; auditPath: Uint8Array[] } {
  const o = object(value, 'get-proof-by-hash');
  return { leafIndex: uint(o.leaf_index, 'leaf_index'), auditPath: hashList(o.audit_path, 'audit_path') };
}

/** One get-entries item, bytes still undecoded (`ct/entry` parses them). */
export interface RawEntryJson {
  index: number;
  leafInput: Uint8Array;
  extraData: Uint8Array;
}

/**
 * RFC 6962 §4.6 get-entries: `{ entries: [{ leaf_input, extra_data }…] }`, numbered from `start`
 * (the request's `start`; the log returns entries in order from there, possibly fewer than asked).
 */
export function parseGetEntriesJson(value: unknown, start: number): RawEntryJson[] {
  if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`bad start index ${start}`);
  const entries = array(object(value, 'get-entries').entries, 'entries');
  return entries.map((item, i) => {
    const e = object(item, `entries[${i}]`);
    return {
      index: start + i,
      leafInput: bytes(e.leaf_input, `entries[${i}].leaf_input`),
      extraData: bytes(e.extra_data, `entries[${i}].extra_data`),
    };
  });
}

/** RFC 6962 §4.8 get-entry-and-proof: `{ leaf_input, extra_data, audit_path }`. */
export function parseEntryAndProofJson(value: unknown): {
  leafInput: Uint8Array;
  extraData: Uint8Array;
  auditPath: Uint8Array[];
} {
  const o = object(value, 'get-entry-and-proof');
  return {
    leafInput: bytes(o.leaf_input, 'leaf_input'),
    extraData: bytes(o.extra_data, 'extra_data'),
    auditPath: hashList(o.audit_path, 'audit_path'),
  };
}

/** RFC 6962 §4.7 get-roots: `{ certificates: [b64 DER…] }`. Certificates are not parsed here. */
export function parseGetRootsJson(value: unknown): Uint8Array[] {
  return array(object(value, 'get-roots').certificates, 'certificates').map((c, i) => {
    const der = bytes(c, `certificates[${i}]`);
    if (der.length === 0)
      throw new CtResponseError('CT_RESPONSE_SHAPE', `certificates[${i}]`, 'empty certificate');
    return der;
  });
}
