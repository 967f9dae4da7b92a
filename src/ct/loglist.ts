/**
 * @module ct/loglist
 * CT log lists, schema v3 (https://www.gstatic.com/ct/log_list/v3/log_list_schema.json): Google's
 * all-logs and Chrome lists, Apple's list (same shape plus `state.*.version` and `tls_only`), and a
 * single sunlight `log.v3.json` entry. RFC 6962 logs come from `operators[].logs` (`url`), static-
 * ct-api logs from `operators[].tiled_logs` (`monitoring_url`, `submission_url`).
 *
 * Structure is validated with zod and a list that breaks it is refused (`LOGLIST_INVALID`): the
 * list decides which logs a monitor trusts. Oddities that do not stop a log being used — a log ID
 * that is not SHA-256 of the key, an unknown or ambiguous state, a key that is not even a valid
 * SubjectPublicKeyInfo (ctgo's "Racketeer") — become warnings, so one bad entry never hides the
 * others; only building a verifier for that log will fail later.
 */
import crypto from 'node:crypto';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { CertvigilError, hasErrorCode, isCertvigilError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { CtHttpClient } from './http.js';
import { RESPONSE_LIMITS } from './http-limits.js';
import { decodeBase64 } from './tls.js';
import type { LogInfo, LogKind, LogState } from './types.js';

/** Google's list of every log it knows of, in every state (the default source). */
export const GOOGLE_ALL_LOGS_LIST_URL = 'https://www.gstatic.com/ct/log_list/v3/all_logs_list.json';
/** Where `loadLogList` reads by default (and the CLI's `--log-list` default). */
export const DEFAULT_LOG_LIST_URL = GOOGLE_ALL_LOGS_LIST_URL;
/** Google's Chrome list: only logs that are qualified, usable, readonly or retired. */
export const GOOGLE_LOG_LIST_URL = 'https://www.gstatic.com/ct/log_list/v3/log_list.json';
/** Lists under this prefix are signed; `loadLogList` checks them with Google's key by default. */
const GOOGLE_LIST_PREFIX = 'https://www.gstatic.com/ct/log_list/v3/';

/**
 * Google's log-list signing key (RSA 4096), https://www.gstatic.com/ct/log_list/v3/log_list_pubkey.pem;
 * byte-identical to test/vectors/data/loglist-google-pubkey.pem (a test asserts it).
 */
export const GOOGLE_LOG_LIST_PUBLIC_KEY_PEM = `-----BEGIN PUBLIC KEY-----
MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAsu0BHGnQ++W2CTdyZyxv
HHRALOZPlnu/VMVgo2m+JZ8MNbAOH2cgXb8mvOj8flsX/qPMuKIaauO+PwROMjiq
fUpcFm80Kl7i97ZQyBDYKm3MkEYYpGN+skAR2OebX9G2DfDqFY8+jUpOOWtBNr3L
rmVcwx+FcFdMjGDlrZ5JRmoJ/SeGKiORkbbu9eY1Wd0uVhz/xI5bQb0OgII7hEj+
i/IPbJqOHgB8xQ5zWAJJ0DmG+FM6o7gk403v6W3S8qRYiR84c50KppGwe4YqSMkF
bLDleGQWLoaDSpEWtESisb4JiLaY4H+Kk0EyAhPSb+49JfUozYl+lf7iFN3qRq/S
IXXTh6z0S7Qa8EYDhKGCrpI03/+qprwy+my6fpWHi6aUIk4holUCmWvFxZDfixox
K0RlqbFDl2JXMBquwlQpm8u5wrsic1ksIv9z8x9zh4PJqNpCah0ciemI3YGRQqSe
/mRRXBiSn9YQBUPcaeqCYan+snGADFwHuXCd9xIAdFBolw9R9HTedHGUfVXPJDiF
4VusfX6BRR/qaadB+bqEArF/TzuDUr6FvOR4o8lUUxgLuZ/7HO+bHnaPFKYHHSm+
+z1lVDhhYuSZ8ax3T0C3FZpb7HMjZtpEorSV5ElKJEJwrhrBCMOD8L01EoSPrGlS
1w22i9uGHMn/uGQKo28u7AsCAwEAAQ==
-----END PUBLIC KEY-----
`;

export interface ParsedLogList {
  logs: LogInfo[];
  /** `version` of the list ("89.25" for Google, "511" for Apple). */
  version?: string;
  /** `log_list_timestamp` (absent from Apple's list). */
  timestamp?: string;
  /** Per-log oddities that did not stop the list loading, one sentence each. */
  warnings: string[];
}

// ---- Schema -------------------------------------------------------------------------------------

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;

const base64 = z.string().refine((s) => decodeBase64(s) !== undefined, 'not standard padded base64');
const sha256Base64 = z
  .string()
  .refine((s) => decodeBase64(s)?.length === 32, 'not the base64 of a 32-byte SHA-256 value');
const dateTime = z
  .string()
  .refine((s) => RFC3339.test(s) && !Number.isNaN(Date.parse(s)), 'not an RFC 3339 date-time');
const httpUrl = z.string().refine((s) => {
  try {
    const u = new URL(s);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}, 'not an http(s) URL');
const treeSize = z.number().int().nonnegative();

const finalTreeHeadSchema = z.object({ sha256_root_hash: sha256Base64, tree_size: treeSize });

/** One value of the `state` object; Apple adds `version`, which is ignored. */
const stateValueSchema = z.object({
  timestamp: dateTime.optional(),
  final_tree_head: finalTreeHeadSchema.optional(),
});

const commonLogFields = {
  description: z.string().optional(),
  key: base64,
  log_id: sha256Base64,
  mmd: z.number().int().nonnegative(),
  state: z.record(z.string(), stateValueSchema).optional(),
  temporal_interval: z.object({ start_inclusive: dateTime, end_exclusive: dateTime }).optional(),
  log_type: z.string().optional(),
  // sunlight's own log.v3.json (cmd/skylight/testdata/tree) states the state flat, not as an object.
  status: z.string().optional(),
  final_tree_head: finalTreeHeadSchema.optional(),
};

const rfc6962LogSchema = z.object({ ...commonLogFields, url: httpUrl });
const tiledLogSchema = z.object({ ...commonLogFields, submission_url: httpUrl, monitoring_url: httpUrl });
type RawLog = z.output<typeof rfc6962LogSchema> | z.output<typeof tiledLogSchema>;

const operatorSchema = z.object({
  name: z.string().min(1),
  email: z.array(z.string()).optional(),
  logs: z.array(rfc6962LogSchema).default([]),
  tiled_logs: z.array(tiledLogSchema).default([]),
});

const logListSchema = z.object({
  version: z.string().optional(),
  log_list_timestamp: dateTime.optional(),
  operators: z.array(operatorSchema),
});

const KNOWN_STATES: ReadonlySet<string> = new Set([
  'pending',
  'qualified',
  'usable',
  'readonly',
  'retired',
  'rejected',
]);

// ---- Parsing ------------------------------------------------------------------------------------

function invalid(error: z.ZodError, what: string): CertvigilError {
  // Paths and messages can carry the list's own keys: escape them before they reach a terminal.
  const issues = sanitizeText(
    error.issues
      .slice(0, 5)
      .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
      .join('; '),
    { maxLength: 500 },
  );
  return new CertvigilError('LOGLIST_INVALID', `${what} does not match the v3 log list schema: ${issues}`, {
    cause: error,
  });
}

function toJson(input: unknown): unknown {
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) return input;
  try {
    const text = typeof input === 'string' ? input : new TextDecoder('utf-8', { fatal: true }).decode(input);
    return JSON.parse(text) as unknown;
  } catch (cause) {
    throw new CertvigilError('LOGLIST_INVALID', 'the log list is not JSON', { cause });
  }
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

function pickState(
  raw: RawLog,
  label: string,
  warnings: string[],
): Pick<LogInfo, 'state' | 'finalTreeHead'> & { since?: string } {
  let name: string | undefined;
  let value: z.output<typeof stateValueSchema> | undefined;
  if (raw.state !== undefined) {
    // Schema v3: "state" holds exactly one of pending/qualified/usable/readonly/retired/rejected.
    const keys = Object.keys(raw.state);
    if (keys.length !== 1) {
      warnings.push(
        `${label}: state object has ${keys.length} keys (${keys.join(', ')}), expected one; state unknown`,
      );
      return { state: 'unknown' };
    }
    name = keys[0] as string;
    value = raw.state[name];
  } else if (raw.status !== undefined) {
    // DEVIATION: not in the v3 schema. sunlight's log.v3.json says `"status": "readonly"` with a
    // top-level final_tree_head; reading it lets `certvigil` take a log's own self-description.
    name = raw.status;
    value = { final_tree_head: raw.final_tree_head };
  } else {
    // Google lists logs with no state at all (test logs, tiled shards not yet applied for).
    return { state: 'unknown' };
  }
  if (!KNOWN_STATES.has(name)) {
    warnings.push(`${label}: unknown state "${name}"; state unknown`);
    return { state: 'unknown' };
  }
  const state = name as LogState;
  const out: Pick<LogInfo, 'state' | 'finalTreeHead'> & { since?: string } = { state };
  if (value?.timestamp !== undefined) out.since = value.timestamp;
  const fth = value?.final_tree_head;
  if (fth !== undefined)
    out.finalTreeHead = { treeSize: fth.tree_size, sha256RootHash: fth.sha256_root_hash };
  else if (state === 'readonly') warnings.push(`${label}: readonly without final_tree_head`);
  return out;
}

function toLogInfo(raw: RawLog, kind: LogKind, operator: string, warnings: string[]): LogInfo {
  const url = withSlash('url' in raw ? raw.url : raw.monitoring_url);
  const label = `${raw.description ?? url} (${operator})`;
  const key = decodeBase64(raw.key) as Uint8Array; // validated by the schema
  // RFC 6962 §3.2: "The ID of the log is the SHA-256 hash of the log's public key".
  const expectedId = crypto.createHash('sha256').update(key).digest('base64');
  if (expectedId !== raw.log_id) {
    warnings.push(`${label}: log_id ${raw.log_id} is not SHA-256 of its key (${expectedId})`);
  }
  const { state, finalTreeHead, since } = pickState(raw, label, warnings);
  const info: LogInfo = {
    kind,
    description: raw.description ?? url,
    operator,
    logId: raw.log_id,
    key,
    url,
    mmdSeconds: raw.mmd,
    state,
  };
  if ('submission_url' in raw) info.submissionUrl = withSlash(raw.submission_url);
  if (since !== undefined) info.stateTimestamp = since;
  if (finalTreeHead !== undefined) info.finalTreeHead = finalTreeHead;
  if (raw.log_type !== undefined) info.logType = raw.log_type;
  const ti = raw.temporal_interval;
  if (ti !== undefined) {
    info.temporalInterval = { startInclusive: ti.start_inclusive, endExclusive: ti.end_exclusive };
    if (Date.parse(ti.end_exclusive) <= Date.parse(ti.start_inclusive)) {
      warnings.push(`${label}: temporal_interval ends before it starts`);
    }
  }
  return info;
}

/**
 * Parses a v3 log list (an object, its JSON text or its bytes) into `LogInfo`s, RFC 6962 logs then
 * tiled logs per operator, in list order. Throws `LOGLIST_INVALID` when the structure is wrong.
 */
export function parseLogList(input: unknown): ParsedLogList {
  const parsed = logListSchema.safeParse(toJson(input));
  if (!parsed.success) throw invalid(parsed.error, 'the log list');
  const list = parsed.data;
  const warnings: string[] = [];
  const logs: LogInfo[] = [];
  for (const op of list.operators) {
    for (const raw of op.logs) logs.push(toLogInfo(raw, 'rfc6962', op.name, warnings));
    for (const raw of op.tiled_logs) logs.push(toLogInfo(raw, 'static-ct-api', op.name, warnings));
  }
  const seen = new Map<string, string>();
  for (const log of logs) {
    const other = seen.get(log.logId);
    if (other !== undefined) warnings.push(`${log.description}: same log_id as ${other}`);
    else seen.set(log.logId, log.description);
  }
  const out: ParsedLogList = { logs, warnings };
  if (list.version !== undefined) out.version = list.version;
  if (list.log_list_timestamp !== undefined) out.timestamp = list.log_list_timestamp;
  return out;
}

/**
 * Parses one log entry outside a list (e.g. sunlight's `log.v3.json`). The kind follows from the
 * fields: `url` → RFC 6962, `monitoring_url` → static-ct-api.
 */
export function parseLogEntry(input: unknown, operator = ''): { log: LogInfo; warnings: string[] } {
  const json = toJson(input);
  const tiled = typeof json === 'object' && json !== null && 'monitoring_url' in json;
  const schema = tiled ? tiledLogSchema : rfc6962LogSchema;
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw invalid(parsed.error, 'the log entry');
  const warnings: string[] = [];
  return { log: toLogInfo(parsed.data, tiled ? 'static-ct-api' : 'rfc6962', operator, warnings), warnings };
}

/**
 * Google's detached list signature: RSA PKCS#1 v1.5 with SHA-256 over the exact bytes of the JSON
 * file (what `openssl dgst -sha256 -verify key.pem -signature list.sig list.json` checks). Returns
 * whether it verifies; throws `LOGLIST_SIGNATURE` when the key is not an RSA public key.
 */
export function verifyLogListSignature(
  bytes: Uint8Array,
  signature: Uint8Array,
  publicKeyPem: string | Uint8Array,
): boolean {
  let key: crypto.KeyObject;
  try {
    key = crypto.createPublicKey(typeof publicKeyPem === 'string' ? publicKeyPem : Buffer.from(publicKeyPem));
  } catch (cause) {
    throw new CertvigilError('LOGLIST_SIGNATURE', 'the log list signing key is not a PEM public key', {
      cause,
    });
  }
  if (key.asymmetricKeyType !== 'rsa') {
    throw new CertvigilError(
      'LOGLIST_SIGNATURE',
      `log lists are signed with RSA PKCS#1 v1.5; the key is ${key.asymmetricKeyType ?? 'unknown'}`,
    );
  }
  try {
    return crypto.verify('sha256', bytes, { key, padding: crypto.constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false; // e.g. a signature of the wrong length
  }
}

export interface LoadLogListOptions {
  /**
   * Check a detached signature before parsing. Default: for lists under
   * `https://www.gstatic.com/ct/log_list/v3/`, Google's key and the `.sig` beside the `.json`;
   * otherwise no check. `false` turns the check off.
   */
  verify?: false | { publicKeyPem: string | Uint8Array; signatureSource?: string };
  /** Client for https sources; one is created (and closed) when absent. */
  http?: CtHttpClient;
  signal?: AbortSignal;
}

export interface LoadedLogList extends ParsedLogList {
  source: string;
  signatureVerified: boolean;
  /** The list as read (for caching it). */
  bytes: Uint8Array;
  /** The detached signature that verified it (kept with a cached copy, to check it again). */
  signature?: Uint8Array;
}

/** The signature check `loadLogList` applies to `source` when none is given (see `verify`). */
export function defaultVerify(source: string): NonNullable<LoadLogListOptions['verify']> {
  return source.startsWith(GOOGLE_LIST_PREFIX) ? { publicKeyPem: GOOGLE_LOG_LIST_PUBLIC_KEY_PEM } : false;
}

/**
 * Refuses, before any I/O, a location `loadLogList` could never read: a URL that is neither https
 * nor loopback http, or an empty one. Throws `CONFIG_INVALID`.
 */
export function checkLogListLocation(source: string): void {
  if (source.trim() === '') throw new CertvigilError('CONFIG_INVALID', 'the log list location is empty');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source) && !/^(https?|file):\/\//i.test(source))
    throw new CertvigilError(
      'CONFIG_INVALID',
      `log list ${sanitizeText(source, { maxLength: 200 })}: only https:// URLs (or loopback http://) and files`,
    );
  if (/^http:\/\//i.test(source)) {
    let url: URL;
    try {
      url = new URL(source);
    } catch {
      throw new CertvigilError(
        'CONFIG_INVALID',
        `log list ${sanitizeText(source, { maxLength: 200 })}: not a URL`,
      );
    }
    if (!isLoopback(url))
      throw new CertvigilError(
        'CONFIG_INVALID',
        `log list ${sanitizeText(source, { maxLength: 200 })}: only https:// URLs (or loopback http://)`,
      );
  }
}

function isLoopback(url: URL): boolean {
  return url.hostname === '127.0.0.1' || url.hostname === '[::1]' || url.hostname === 'localhost';
}

async function readSource(
  source: string,
  http: CtHttpClient | undefined,
  signal: AbortSignal | undefined,
  maxBytes: number,
): Promise<Uint8Array> {
  if (/^https?:\/\//i.test(source)) {
    const url = new URL(source);
    // DEVIATION from "https only": plain http is allowed to loopback (tests, a local mirror).
    if (url.protocol !== 'https:' && !isLoopback(url)) {
      throw new CertvigilError(
        'CONFIG_INVALID',
        `log list ${source}: only https:// URLs (or loopback http://)`,
      );
    }
    const client = http ?? new CtHttpClient({ maxConcurrency: 2 });
    try {
      return (await client.get(url, { signal, maxBytes })).body;
    } finally {
      if (http === undefined) await client.close();
    }
  }
  const path = source.startsWith('file:') ? fileURLToPath(source) : source;
  return readLocalFile(path, maxBytes, signal);
}

/**
 * A local log list or signature, read at most `maxBytes` (+1 to notice more): `/dev/zero` or a
 * runaway file must not be read into memory whole. A directory, an empty file and an unreadable
 * one are one-line `CONFIG_INVALID` errors naming the file.
 */
async function readLocalFile(path: string, maxBytes: number, signal?: AbortSignal): Promise<Uint8Array> {
  const shown = sanitizeText(path, { maxLength: 200 });
  const fail = (why: string, cause?: unknown): CertvigilError =>
    new CertvigilError('CONFIG_INVALID', `cannot read log list ${shown}: ${why}`, { cause });
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw fail(code === 'ENOENT' ? 'no such file' : sanitizeText((cause as Error).message), cause);
  }
  try {
    if ((await handle.stat()).isDirectory()) throw fail('it is a directory');
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      if (signal?.aborted) throw fail('cancelled');
      const chunk = Buffer.alloc(64 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw fail(`larger than ${maxBytes} bytes`);
      chunks.push(chunk.subarray(0, bytesRead));
    }
    if (total === 0) throw fail('the file is empty');
    return Buffer.concat(chunks, total);
  } catch (cause) {
    // Any coded error (ours, or Node's: EIO, EISDIR) passes through as it always has; only an
    // uncoded one is wrapped.
    if (hasErrorCode(cause)) throw cause;
    throw fail(sanitizeText((cause as Error).message), cause);
  } finally {
    await handle.close();
  }
}

/**
 * Loads a log list from a file path or an https URL (default: Google's all-logs list), checks its
 * signature when asked (see `LoadLogListOptions.verify`; failure is `LOGLIST_SIGNATURE`) and parses
 * it. Transport failures are the `CtHttpError`s of `ct/http`.
 */
export async function loadLogList(
  source: string = DEFAULT_LOG_LIST_URL,
  options: LoadLogListOptions = {},
): Promise<LoadedLogList> {
  const verify = options.verify ?? defaultVerify(source);
  const bytes = await readSource(source, options.http, options.signal, RESPONSE_LIMITS.logList);
  let signatureVerified = false;
  let signature: Uint8Array | undefined;
  if (verify !== false) {
    const sigSource = verify.signatureSource ?? source.replace(/\.json$/i, '.sig');
    if (sigSource === source) {
      throw new CertvigilError(
        'CONFIG_INVALID',
        `log list ${source}: name the signature file (no .json to replace)`,
      );
    }
    let sig: Uint8Array;
    try {
      sig = await readSource(sigSource, options.http, options.signal, RESPONSE_LIMITS.logListSignature);
    } catch (cause) {
      if (isCertvigilError(cause) && cause.code === 'CT_ABORTED') throw cause;
      throw new CertvigilError('LOGLIST_SIGNATURE', `cannot fetch the log list signature ${sigSource}`, {
        cause,
      });
    }
    if (!verifyLogListSignature(bytes, sig, verify.publicKeyPem)) {
      throw new CertvigilError(
        'LOGLIST_SIGNATURE',
        `log list ${source} does not match its signature ${sigSource}`,
      );
    }
    signatureVerified = true;
    signature = sig;
  }
  try {
    return { ...parseLogList(bytes), source, signatureVerified, bytes, ...(signature ? { signature } : {}) };
  } catch (err) {
    // Name the list: "the log list is not JSON" alone does not say which of several.
    if (isCertvigilError(err) && err.code === 'LOGLIST_INVALID')
      throw new CertvigilError(
        'LOGLIST_INVALID',
        `${sanitizeText(source, { maxLength: 200 })}: ${err.message}`,
        { cause: err },
      );
    throw err;
  }
}

/**
 * The log whose RFC 6962 `url` or static-ct-api `monitoring_url` is `url`, compared exactly except
 * for a trailing slash (what a `--log` argument names). Undefined when none.
 */
export function findLog(
  list: readonly LogInfo[] | { logs: readonly LogInfo[] },
  url: string,
): LogInfo | undefined {
  const wanted = withSlash(url.trim());
  const logs = 'logs' in list ? list.logs : list;
  return logs.find((log) => log.url === wanted);
}
