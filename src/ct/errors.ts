/**
 * @module ct/errors
 * Every error code of the `ct` module, declared once here and added to the registry in
 * src/errors.ts, grouped by the file that throws them; and `CtError`, the shared shape of the ct
 * errors that carry nothing but a code of their group and a message (checkpoint, tile, signature,
 * Merkle): each is one line, `class XError extends CtError<XErrorCode> {}`, so the constructor and
 * `name` are written once.
 */
import { CertvigilError } from '../errors.js';
import type { ErrorCode } from '../errors.js';

/** The HTTP transport to a log (http.ts, `CtHttpError`) and the readers above it. */
interface CtHttpErrorCodes {
  /** The log answered with a status we did not want (4xx/5xx other than rate limiting). */
  CT_HTTP: 'ct';
  /** No complete answer within the request's deadline. */
  CT_TIMEOUT: 'ct';
  /** The connection failed (refused, reset, DNS of the log's host). */
  CT_NETWORK: 'ct';
  /** The body ended before its announced length. */
  CT_TRUNCATED: 'ct';
  /** The body is over the limit for its endpoint: refused unread. */
  CT_BODY_TOO_LARGE: 'ct';
  /** 429/503 with Retry-After, after the retries the policy allows. */
  CT_RATE_LIMITED: 'ct';
  /** The caller's AbortSignal fired. */
  CT_ABORTED: 'ct';
  /** An answer that is not what the API promises (not JSON, wrong entries, out of order). */
  CT_BAD_RESPONSE: 'ct';
  /** A caller asked for something the API cannot express (negative index, empty range). */
  CT_INVALID_ARGUMENT: 'ct';
  /** A log redirected outside its own origin (scheme, host, port), or too often. */
  CT_REDIRECT: 'ct';
  /** A log could not be read at all (`certvigil ct …`): the cause says why. */
  CT_UNREACHABLE: 'ct';
  /** The log broke a promise it signed (`LogMisbehaviourError`): inconsistent heads, bad proof. */
  CT_LOG_MISBEHAVIOUR: 'ct';
}

/** CT log lists (loglist.ts, loglist-source.ts). */
interface LogListErrorCodes {
  /** The list is not JSON or breaks the v3 schema. */
  LOGLIST_INVALID: 'ct';
  /** The list's detached signature does not verify with the pinned key. */
  LOGLIST_SIGNATURE: 'ct';
  /** No log list at all: the location failed and there is neither a cached copy nor a snapshot. */
  LOGLIST_UNAVAILABLE: 'ct';
}

export type CtHttpErrorCode = keyof CtHttpErrorCodes;
export type LogListErrorCode = keyof LogListErrorCodes;

/** The TLS presentation language decoder (tls.ts, RFC 8446 §3). */
interface TlsDecodeErrorCodes {
  /** A read ran past the end of the input (or of the enclosing vector). */
  TLS_TRUNCATED: 'ct';
  /** Bytes were left after the structure (or inside a vector) once it was fully read. */
  TLS_TRAILING_DATA: 'ct';
  /** A vector length outside the `<floor..ceiling>` its definition allows (RFC 8446 §3.4). */
  TLS_LENGTH_OUT_OF_RANGE: 'ct';
  /** A uint64 above 2^53 − 1, which a JavaScript number cannot hold exactly. */
  TLS_INTEGER_TOO_LARGE: 'ct';
  /** A value the structure's definition does not allow (bad enum, version, duplicate…). */
  TLS_BAD_VALUE: 'ct';
}

export type TlsDecodeErrorCode = keyof TlsDecodeErrorCodes;

/** A log's JSON answer (sth.ts, RFC 6962 §4): the typed response parsers. */
interface CtResponseErrorCodes {
  /** Not an object, a missing field, or a field of the wrong JSON type. */
  CT_RESPONSE_SHAPE: 'ct';
  /** A string that is not standard padded base64. */
  CT_RESPONSE_BASE64: 'ct';
  /** A hash (root, proof node) that is not 32 bytes. */
  CT_RESPONSE_HASH_LENGTH: 'ct';
  /** A number that is not a non-negative safe integer. */
  CT_RESPONSE_NUMBER: 'ct';
  /** `tree_head_signature` is not a well-formed TLS DigitallySigned (e.g. trailing bytes). */
  CT_RESPONSE_SIGNATURE: 'ct';
}

export type CtResponseErrorCode = keyof CtResponseErrorCodes;

/** Tiles of a static-ct-api log (tiles.ts, C2SP tlog-tiles). */
interface TileErrorCodes {
  /** A path that is not a valid tile path. */
  TILE_BAD_PATH: 'ct';
  /** A range or tile that does not exist in the tree (start > end, end > size, …). */
  TILE_BAD_RANGE: 'ct';
  /** Tile bytes that do not decode (truncated, unknown entry type, bad length…). */
  TILE_MALFORMED: 'ct';
  /** A different number of entries or hashes than the tile's width. */
  TILE_WRONG_WIDTH: 'ct';
  /** An entry whose `leaf_index` extension is missing or not its position in the log. */
  TILE_LEAF_INDEX: 'ct';
}

export type TileErrorCode = keyof TileErrorCodes;

/** Checkpoints (checkpoint.ts, C2SP tlog-checkpoint and signed-note). */
interface CheckpointErrorCodes {
  /** The text is not a signed note or its body is not a checkpoint. */
  CHECKPOINT_MALFORMED: 'ct';
  /** The origin line is not the log's (static-ct-api: the submission prefix without scheme). */
  CHECKPOINT_WRONG_ORIGIN: 'ct';
  /** Extension lines, which static-ct-api forbids with its signature type. */
  CHECKPOINT_EXTENSION_LINES: 'ct';
  /** No signature line from the log's key (name and key ID). */
  CHECKPOINT_NO_SIGNATURE: 'ct';
  /** The log's signature line is malformed or does not verify over this tree head. */
  CHECKPOINT_BAD_SIGNATURE: 'ct';
}

export type CheckpointErrorCode = keyof CheckpointErrorCodes;

/** Log entries (entry.ts, RFC 6962 §3.4 MerkleTreeLeaf, static-ct-api data tiles). */
interface EntryErrorCodes {
  /** The MerkleTreeLeaf bytes are not a well-formed TLS structure. */
  ENTRY_MALFORMED_LEAF: 'ct';
  /** Well-formed but not v1 `timestamped_entry` with entry type x509 or precert. */
  ENTRY_UNSUPPORTED_LEAF: 'ct';
  /** `extra_data` is not the chain the entry type calls for. */
  ENTRY_MALFORMED_EXTRA_DATA: 'ct';
  /** `extensions` is not a static-ct-api `CtExtensions` list, or its leaf_index is malformed. */
  ENTRY_MALFORMED_EXTENSIONS: 'ct';
}

export type EntryErrorCode = keyof EntryErrorCodes;

/** Merkle trees and proofs (merkle.ts, RFC 9162 §2.1). */
interface MerkleErrorCodes {
  /** An index, size or pair of sizes outside what the operation allows. */
  MERKLE_BAD_SIZE: 'ct';
  /** A leaf hash or saved-state hash that is not 32 bytes. */
  MERKLE_BAD_HASH_LENGTH: 'ct';
  /** The proof has more or fewer nodes than the tree shape requires. */
  MERKLE_WRONG_PROOF_LENGTH: 'ct';
  /** The proof is well-formed but leads to a different root: the log misbehaved or lied. */
  MERKLE_ROOT_MISMATCH: 'ct';
  /** A saved `CompactTree` state that does not describe a tree. */
  MERKLE_BAD_STATE: 'ct';
}

export type MerkleErrorCode = keyof MerkleErrorCodes;

/** Log signatures (signature.ts, RFC 6962 §2.1.4 DigitallySigned). */
interface SignatureErrorCodes {
  /** The DigitallySigned bytes do not parse (truncated, trailing data). */
  SIG_MALFORMED: 'ct';
  /** The key is not a parsable SubjectPublicKeyInfo. */
  SIG_BAD_KEY: 'ct';
  /** A parsable key RFC 6962 §2.1.4 does not allow (not P-256, RSA < 2048, Ed25519…). */
  SIG_UNSUPPORTED_KEY: 'ct';
  /** A hash/signature algorithm pair other than sha256 with ecdsa or rsa. */
  SIG_UNSUPPORTED_ALGORITHM: 'ct';
  /** The declared signature algorithm is not the key's (e.g. `rsa` with an EC key). */
  SIG_KEY_MISMATCH: 'ct';
  /** Well-formed, right algorithm, wrong signature: the data was not signed by this key. */
  SIG_INVALID: 'ct';
}

export type SignatureErrorCode = keyof SignatureErrorCodes;

declare module '../errors.js' {
  interface ErrorCodes
    extends
      CtHttpErrorCodes,
      LogListErrorCodes,
      TlsDecodeErrorCodes,
      CtResponseErrorCodes,
      TileErrorCodes,
      CheckpointErrorCodes,
      EntryErrorCodes,
      MerkleErrorCodes,
      SignatureErrorCodes {}
}

/** A `CertvigilError` whose `code` is narrowed to its module's union `C`; `name` is the subclass's. */
export abstract class CtError<C extends ErrorCode> extends CertvigilError {
  declare readonly code: C;

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    // The concrete class's name, so `String(err)` and logs read `CheckpointError: …`.
    this.name = new.target.name;
  }
}
