/**
 * @module ct
 * Certificate Transparency: log lists, RFC 6962 and static-ct-api clients behind one `LogReader`,
 * signed tree heads and checkpoints, Merkle proofs, entry and tile parsing, SCTs, and the auditor
 * that rebuilds a log's tree and checks it against every head seen before.
 */
export type * from './types.js';
export { auditLog } from './audit.js';
export type { AuditFinding, AuditOptions, AuditResult } from './audit.js';
export { checkpointOrigin, createLogReader, isMalformed, LogMisbehaviourError } from './log-reader.js';
export type { EntryBatch, LogReader, MalformedEntry, ReaderOptions } from './log-reader.js';
export { HeadStore, fromStoredHead, toStoredHead } from './head-store.js';
export type { StoredHead } from './head-store.js';
export { CtHttpClient, CtHttpError } from './http.js';
export type { CtHttpOptions } from './http.js';
export { bypassesProxy, proxyConfigFromEnv, proxyFor } from './proxy.js';
export type { ProxyConfig } from './proxy.js';
export {
  DEFAULT_LOG_LIST_URL,
  GOOGLE_ALL_LOGS_LIST_URL,
  GOOGLE_LOG_LIST_URL,
  findLog,
  loadLogList,
  parseLogList,
  verifyLogListSignature,
} from './loglist.js';
export { loadLogListCached } from './loglist-cache.js';
export {
  APPLE_LOG_LIST_URL,
  createLogListSource,
  DEFAULT_GRACE_MS,
  DEFAULT_LOG_LIST_PARTS,
  DEFAULT_LOG_STATES,
  DEFAULT_MAX_AGE_MS,
  isLogListUnavailable,
  mergeLogs,
  SHIPPED_SNAPSHOT_DIR,
} from './loglist-source.js';
export type {
  LogListOrigin,
  LogListPart,
  LogListSource,
  LogListSourceOptions,
  LogListState,
} from './loglist-source.js';
export type { CachedLogList, LogListCacheOptions } from './loglist-cache.js';
export { Rfc6962LogClient } from './rfc6962-client.js';
export { StaticCtLogClient } from './static-client.js';
export {
  CompactTree,
  EMPTY_ROOT,
  hashEquals,
  leafHash,
  MerkleError,
  nodeHash,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from './merkle.js';
export { logIdOf, parseDigitallySigned, publicKeyFromSpki, verifyDigitallySigned } from './signature.js';
export { treeHeadSignatureInput, verifySth } from './sth.js';
export { parseCheckpoint, verifyCheckpoint } from './checkpoint.js';
export { parseExtraData, parseMerkleTreeLeaf, parseRawEntry } from './entry.js';
export { parseDataTile, parseHashTile, tilePath } from './tiles.js';
export { parseSct, parseSctList, sctSignatureInput, verifySct } from './sct.js';
export type { Sct, SignedEntry } from './sct.js';
export { embeddedScts, leafHashForSct, merkleTreeLeafForSct, signedEntryForChain } from './sct-entry.js';
export { leafIndexExtension } from './entry.js';
export { hashTileKey, inclusionProofFromTiles, tilesForInclusionProof } from './tile-proof.js';
export type {
  CheckpointErrorCode,
  CtHttpErrorCode,
  CtResponseErrorCode,
  EntryErrorCode,
  LogListErrorCode,
  MerkleErrorCode,
  SignatureErrorCode,
  TileErrorCode,
  TlsDecodeErrorCode,
} from './errors.js';
