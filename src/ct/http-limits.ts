/**
 * @module ct/http-limits
 * How much a CT log may send: the per-client default ceiling, the per-endpoint ceilings
 * (`RESPONSE_LIMITS`) and the per-request options that carry them. Kept apart from the client so the
 * log clients (`rfc6962-client`, `static-client`, `loglist`) can cap each call without reaching
 * into the transport.
 *
 * Why ceilings at all: without one, a 66 MB get-sth is buffered and JSON-parsed whole (3.4 GB of
 * RSS). The numbers come from the wire formats (RFC 6962 §2.1, §4; c2sp.org/static-ct-api) with
 * wide margins, so a real log never meets them.
 */

const KIB = 1024;
const MIB = 1024 * KIB;

/** Largest body a client accepts by default, after decompression. */
export const DEFAULT_MAX_BODY_BYTES = 64 * MIB;

/**
 * Response ceilings per endpoint, in decoded bytes, each far above what a real log sends and far
 * below what would hurt: without one, a 66 MB get-sth is buffered and JSON-parsed whole (3.4 GB of RSS).
 * The client's own `maxBodyBytes` still applies on top (the smaller one wins).
 */
export const RESPONSE_LIMITS = {
  /** get-sth JSON is ~300 bytes; a checkpoint with a few dozen cosignatures a few KiB. */
  treeHead: 64 * KIB,
  /**
   * get-sth-consistency / get-proof-by-hash: a proof in a tree of < 2^64 leaves holds at most 64
   * (audit path) or 2·64 (consistency) hashes of 44 base64 characters (RFC 6962 §2.1.1, §2.1.2);
   * 64 bytes per hash leaves room for quotes, commas and whitespace.
   */
  proof: 4 * KIB + 128 * 64,
  /** One get-entries item (leaf_input + extra_data, base64): chains of large certificates fit. */
  entryJson: 256 * KIB,
  /** The JSON around the entries of one get-entries answer. */
  entriesOverhead: 64 * KIB,
  /** One TileLeaf of a static-ct-api data tile (binary, so smaller than its JSON form). */
  dataTileEntry: 128 * KIB,
  /** static-ct-api: "Full tiles MUST be exactly 256 hashes wide, or 8,192 bytes". */
  hashTileHash: 32,
  /** One DER issuer certificate (static-ct-api `issuer/<fingerprint>`). */
  issuer: 256 * KIB,
  /** get-roots: a few hundred root certificates in base64. */
  roots: 16 * MIB,
  /** A CT log list (Google's all-logs list is ~200 KB). */
  logList: 8 * MIB,
  /** A detached log list signature (512 bytes for RSA-4096). */
  logListSignature: 64 * KIB,
} as const;

export interface CtGetOptions {
  signal?: AbortSignal;
  /**
   * After HTTP decoding, gunzip the body again if it still starts with the gzip magic 1f 8b
   * (static-ct-api data tiles stored gzip'ed and served without `Content-Encoding`). Only for
   * bodies that cannot legitimately start with those bytes: never for hash tiles.
   */
  sniffGzip?: boolean;
  /**
   * Largest body accepted for this request, after decoding (the client's `maxBodyBytes` still
   * applies when smaller): a per-endpoint cap from `RESPONSE_LIMITS`, checked while streaming.
   */
  maxBytes?: number;
}

/** `options` with `maxBytes` lowered to `cap` (a caller's smaller cap is kept). */
export function withCap(options: CtGetOptions, cap: number): CtGetOptions {
  return { ...options, maxBytes: Math.min(options.maxBytes ?? cap, cap) };
}
