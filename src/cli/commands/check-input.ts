/**
 * @module cli/commands/check-input
 * What `check endpoint` and `check endpoints` take from the user — flags, the YAML config, the
 * files they name — parsed and bounded before anything is loaded, probed or written: a bad value is
 * a `USAGE` error the command turns into one `CERTVIGIL UNKNOWN - …` line (exit 3). Outside text in
 * messages (file names, values, YAML errors) is sanitised; a YAML error never quotes its source.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import { parseEndpoint } from '../../dns/index.js';
import { CertvigilError, isCertvigilError } from '../../errors.js';
import {
  chooseProxy,
  DEFAULT_PORTS,
  hostPort,
  parseHost,
  parseHostPort,
  parseKeyTypes,
  parsePin,
  REVOCATION_MODES,
  SERVER_KEY_TYPES,
  STARTTLS_PROTOCOLS,
  UNREACHABLE_SEVERITIES,
} from '../../probe/index.js';
import type {
  ProxySpec,
  RevocationMode,
  ServerKeyType,
  StartTlsProtocol,
  UnreachableSeverity,
} from '../../probe/index.js';
import { sanitizeText } from '../../sanitize.js';
import { SQLITE_FILE_NAME } from '../../store/index.js';
import { parseDuration, positiveInt } from '../flags.js';
import { tlsPolicyFromFlags, tlsPolicySpecShape } from './check-tls-policy.js';
import type { TlsPolicyFlags } from './check-tls-policy.js';

/** Bounds of the numbers a check takes: anything outside is a typo, refused as UNKNOWN. */
export const MAX_DAYS = 3650;
export const MAX_MIN_SCTS = 100;
export const MAX_RSA_BITS = 16384;
export const MAX_CONCURRENCY = 256;
export const MIN_TIMEOUT_MS = 100;
export const MAX_TIMEOUT_MS = 3_600_000;

/** One endpoint's settings, as flags or as an entry of the `check endpoints` config file. */
const endpointSpecSchema = z
  .object({
    target: z.string().min(1),
    starttls: z.enum(STARTTLS_PROTOCOLS as [StartTlsProtocol, ...StartTlsProtocol[]]).optional(),
    sni: z.string().optional(),
    connectTo: z.array(z.string()).optional(),
    proxy: z.string().optional(),
    /** Ignore https_proxy/all_proxy (probe/proxy.ts); `proxy` still applies. */
    noProxy: z.boolean().optional(),
    family: z.union([z.literal(4), z.literal(6)]).optional(),
    caFile: z.string().optional(),
    pins: z.array(z.string()).optional(),
    expectIssuer: z.array(z.string()).optional(),
    expectCaa: z.boolean().optional(),
    caaIdentifiers: z.array(z.string()).optional(),
    ctPolicy: z.enum(['chrome', 'apple', 'none']).optional(),
    minScts: z.number().int().nonnegative().max(MAX_MIN_SCTS).optional(),
    ctProof: z.boolean().optional(),
    requireCt: z.boolean().optional(),
    crtsh: z.union([z.string(), z.boolean()]).optional(),
    certspotter: z.union([z.string(), z.boolean()]).optional(),
    warning: z.number().nonnegative().max(MAX_DAYS).optional(),
    critical: z.number().nonnegative().max(MAX_DAYS).optional(),
    minRsaBits: z.number().int().positive().max(MAX_RSA_BITS).optional(),
    /** `--revocation` and `--revocation-unreachable` (probe/revocation/settings.ts). */
    revocation: z.enum(REVOCATION_MODES).optional(),
    revocationUnreachable: z.enum(UNREACHABLE_SEVERITIES).optional(),
    /** Seconds (as `-t`). */
    timeout: z
      .number()
      .min(MIN_TIMEOUT_MS / 1000)
      .max(MAX_TIMEOUT_MS / 1000)
      .optional(),
    /** `--key-types`: one handshake per key type of a dual-certificate server. */
    keyTypes: z
      .array(z.enum(SERVER_KEY_TYPES as [ServerKeyType, ...ServerKeyType[]]))
      .min(1)
      .optional(),
    /** `--client-cert` / `--client-key`: PEM files (the key may be in the certificate file). */
    clientCert: z.string().optional(),
    clientKey: z.string().optional(),
    /** `--dane`: TLSA must exist, be DNSSEC-validated and match (src/probe/dane.ts). */
    dane: z.boolean().optional(),
    /** TLS protocol policy (check-tls-policy.ts): requireNoTls1 requireNoTls1_1 minTls weakCiphers. */
    ...tlsPolicySpecShape,
  })
  .strict();
export type EndpointSpec = z.infer<typeof endpointSpecSchema>;

const configSchema = z
  .object({
    logList: z.string().optional(),
    resolver: z.array(z.string()).optional(),
    stateDir: z.string().optional(),
    database: z.string().optional(),
    concurrency: z.number().int().positive().max(MAX_CONCURRENCY).optional(),
    defaults: endpointSpecSchema.partial().optional(),
    endpoints: z.array(endpointSpecSchema).min(1),
  })
  .strict();

export type EndpointsConfig = z.infer<typeof configSchema>;

export interface EndpointFlags extends TlsPolicyFlags {
  hostname?: string;
  port?: string;
  starttls?: string;
  sni?: string;
  connectTo?: string[];
  /** A URL, or false for `--no-proxy` (commander's negation of `--proxy`). */
  proxy?: string | false;
  resolver?: string[];
  ipv4?: boolean;
  ipv6?: boolean;
  caFile?: string;
  pin?: string[];
  expectIssuer?: string[];
  expectCaa?: boolean;
  caaIdentifier?: string[];
  logList?: string;
  ctPolicy?: string;
  minScts?: string;
  ctProof: boolean;
  requireCt?: boolean;
  crtsh?: string | boolean;
  certspotter?: string | boolean;
  stateDir?: string;
  database?: string;
  warning?: string;
  critical?: string;
  minRsaBits?: string;
  revocation?: string;
  revocationUnreachable?: string;
  timeout?: string;
  json?: boolean;
  keyTypes?: string[];
  clientCert?: string;
  clientKey?: string;
  dane?: boolean;
}

/** `-w`/`-c`: days, a non-negative number up to MAX_DAYS. */
const days = (value: string, flag: string): number => {
  const n = /^\s*\d+(\.\d+)?\s*$/.test(value) ? Number(value) : NaN;
  if (!(n >= 0 && n <= MAX_DAYS))
    throw new CertvigilError(
      'USAGE',
      `${flag} must be a number of days from 0 to ${MAX_DAYS} (got "${sanitizeText(value, { maxLength: 40 })}")`,
    );
  return n;
};

export function specFromFlags(target: string | undefined, flags: EndpointFlags): EndpointSpec {
  const hostFlag = flags.hostname;
  if (target !== undefined && hostFlag !== undefined)
    throw new CertvigilError('USAGE', 'give HOST[:PORT] or -H HOST, not both');
  if (target === undefined && hostFlag === undefined)
    throw new CertvigilError('USAGE', 'give HOST[:PORT] or -H HOST');
  let t = target ?? hostFlag ?? '';
  if (flags.port !== undefined) {
    const port = positiveInt(flags.port, '-p/--port', 65535);
    t = hostPort(parseHostPort(t, port).host, port);
  }
  if (flags.starttls !== undefined && !STARTTLS_PROTOCOLS.includes(flags.starttls as StartTlsProtocol))
    throw new CertvigilError('USAGE', `--starttls must be one of ${STARTTLS_PROTOCOLS.join(', ')}`);
  if (flags.ctPolicy !== undefined && !['chrome', 'apple', 'none'].includes(flags.ctPolicy))
    throw new CertvigilError('USAGE', '--ct-policy must be chrome, apple or none');
  const spec: EndpointSpec = { target: t };
  if (flags.starttls) spec.starttls = flags.starttls as StartTlsProtocol;
  if (flags.sni !== undefined) spec.sni = flags.sni;
  if (flags.connectTo?.length) spec.connectTo = flags.connectTo;
  if (flags.proxy === false) spec.noProxy = true;
  else if (flags.proxy !== undefined) spec.proxy = flags.proxy;
  if (flags.ipv4 && flags.ipv6) throw new CertvigilError('USAGE', '-4 and -6 exclude each other');
  if (flags.ipv4) spec.family = 4;
  if (flags.ipv6) spec.family = 6;
  if (flags.caFile !== undefined) spec.caFile = flags.caFile;
  if (flags.pin?.length) spec.pins = flags.pin;
  if (flags.expectIssuer?.length) spec.expectIssuer = flags.expectIssuer;
  if (flags.expectCaa) spec.expectCaa = true;
  if (flags.caaIdentifier?.length) spec.caaIdentifiers = flags.caaIdentifier;
  if (flags.ctPolicy) spec.ctPolicy = flags.ctPolicy as 'chrome' | 'apple' | 'none';
  if (flags.minScts !== undefined) spec.minScts = positiveOrZero(flags.minScts, '--min-scts', MAX_MIN_SCTS);
  if (!flags.ctProof) spec.ctProof = false;
  if (flags.requireCt) spec.requireCt = true;
  if (flags.crtsh !== undefined) spec.crtsh = flags.crtsh;
  if (flags.certspotter !== undefined) spec.certspotter = flags.certspotter;
  if (flags.warning !== undefined) spec.warning = days(flags.warning, '-w/--warning');
  if (flags.critical !== undefined) spec.critical = days(flags.critical, '-c/--critical');
  if (flags.minRsaBits !== undefined)
    spec.minRsaBits = positiveInt(flags.minRsaBits, '--min-rsa-bits', MAX_RSA_BITS);
  if (flags.revocation !== undefined)
    spec.revocation = oneOf(flags.revocation, '--revocation', REVOCATION_MODES);
  if (flags.revocationUnreachable !== undefined)
    spec.revocationUnreachable = oneOf(
      flags.revocationUnreachable,
      '--revocation-unreachable',
      UNREACHABLE_SEVERITIES,
    );
  if (flags.timeout !== undefined)
    spec.timeout =
      parseDuration(flags.timeout, '-t/--timeout', {
        unit: 's',
        minMs: MIN_TIMEOUT_MS,
        maxMs: MAX_TIMEOUT_MS,
      }) / 1000;
  if (flags.keyTypes?.length) spec.keyTypes = parseKeyTypes(flags.keyTypes);
  if (flags.clientCert !== undefined) spec.clientCert = flags.clientCert;
  if (flags.clientKey !== undefined) spec.clientKey = flags.clientKey;
  if (flags.dane) spec.dane = true;
  Object.assign(spec, tlsPolicyFromFlags(flags));
  return checkSpec(spec, '');
}

/** A flag value from a fixed list (`--revocation`, `--revocation-unreachable`). */
function oneOf<T extends RevocationMode | UnreachableSeverity>(
  value: string,
  flag: string,
  allowed: readonly T[],
): T {
  const found = allowed.find((a) => a === value);
  if (found === undefined)
    throw new CertvigilError(
      'USAGE',
      `${flag} must be one of ${allowed.join(', ')} (got "${sanitizeText(value, { maxLength: 40 })}")`,
    );
  return found;
}

/** A whole number from 0 to `max`. */
function positiveOrZero(value: string, flag: string, max: number): number {
  return value.trim() === '0' ? 0 : positiveInt(value, flag, max);
}

/**
 * Everything about one endpoint that can be wrong without asking the network, checked before
 * anything is loaded, opened or written (flags and `check endpoints` entries alike); returns the
 * spec with pins as hex. `where` prefixes messages (`endpoints[2]: `).
 */
export function checkSpec(spec: EndpointSpec, where: string): EndpointSpec {
  const fail = (e: unknown): never => {
    throw new CertvigilError('USAGE', `${where}${(e as Error).message}`);
  };
  const out: EndpointSpec = { ...spec };
  try {
    const { host, port } = parseHostPort(spec.target, spec.starttls ? DEFAULT_PORTS[spec.starttls] : 443);
    if (spec.sni !== undefined) out.sni = parseHost(spec.sni, '--sni', { nameOnly: true });
    if (spec.connectTo) out.connectTo = spec.connectTo.map((c) => parseHost(c, '--connect-to'));
    // --proxy, else (without --no-proxy) the environment's proxy: checked here, so a bad value is a
    // usage error (exit 3 UNKNOWN) before any connection, not a failed check.
    proxyForSpec(spec, host, port);
    if (spec.pins)
      out.pins = spec.pins.map((p) => {
        const hex = parsePin(p);
        if (hex === null)
          throw new CertvigilError(
            'USAGE',
            `--pin must be the SHA-256 of the leaf's SubjectPublicKeyInfo, as 64 hex digits or base64 of 32 bytes (got "${sanitizeText(p, { maxLength: 80 })}")`,
          );
        return hex;
      });
    // An empty --expect-issuer is found in every issuer DN: it would make the check pass for any CA.
    for (const e of spec.expectIssuer ?? [])
      if (e.trim() === '')
        throw new CertvigilError('USAGE', '--expect-issuer is empty (it would match every issuer)');
    if (spec.caaIdentifiers)
      out.caaIdentifiers = spec.caaIdentifiers.map((c) =>
        parseHost(c, '--caa-identifier', { nameOnly: true }),
      );
    for (const [flag, value] of [
      ['--crtsh', spec.crtsh],
      ['--certspotter', spec.certspotter],
    ] as const)
      if (typeof value === 'string' && !/^https?:\/\/[^\s/]+/i.test(value))
        throw new CertvigilError(
          'USAGE',
          `${flag} must be an http(s) URL (got "${sanitizeText(value, { maxLength: 80 })}")`,
        );
    if (spec.caFile !== undefined && spec.caFile === '')
      throw new CertvigilError('USAGE', '--ca-file is empty');
    if (spec.keyTypes) out.keyTypes = parseKeyTypes(spec.keyTypes);
    if (spec.clientKey !== undefined && spec.clientCert === undefined)
      throw new CertvigilError('USAGE', '--client-key needs --client-cert');
    if (spec.clientCert === '' || spec.clientKey === '')
      throw new CertvigilError('USAGE', '--client-cert/--client-key is empty');
    // RFC 6698 §3: TLSA records hang off a host name; an address has none.
    if (spec.dane && spec.sni === undefined && isIP(parseHostPort(spec.target, 443).host) !== 0)
      throw new CertvigilError('USAGE', '--dane needs a host name: give HOST, or --sni NAME with an address');
  } catch (e) {
    fail(e);
  }
  const warn = spec.warning ?? 20;
  const crit = spec.critical ?? 15;
  if (crit > warn) throw new CertvigilError('USAGE', `${where}-c (${crit}) must not exceed -w (${warn})`);
  return out;
}

/**
 * The proxy of one endpoint: `proxy`, else none with `noProxy`, else https_proxy/all_proxy unless
 * NO_PROXY exempts the host (probe/proxy.ts `chooseProxy`).
 */
export function proxyForSpec(spec: EndpointSpec, host: string, port: number): ProxySpec | undefined {
  return chooseProxy(
    { host, port, starttls: spec.starttls !== undefined },
    { flag: spec.proxy, noProxy: spec.noProxy },
  );
}

/** The resolvers of `--resolver`/`resolver:` parse (the resolver itself is built later). */
export function checkResolvers(resolvers: readonly string[] | undefined): void {
  for (const r of resolvers ?? []) for (const one of r.split(',')) parseEndpoint(one);
}

/**
 * Files named on the command line or in the config, read before the log list or the store is
 * touched: a missing, empty, directory or binary file is a usage error (UNKNOWN), and nothing
 * has been created by then.
 */
export async function readTextFile(path: string, flag: string): Promise<string> {
  const shown = `${flag} ${sanitizeText(path, { maxLength: 200 })}`;
  let text: string;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new CertvigilError('USAGE', `${shown} is a directory`);
    text = await readFile(path, 'utf8');
  } catch (e) {
    // Ours passes through; a Node error (ENOENT, EACCES) becomes a usage error with its text.
    if (isCertvigilError(e)) throw e;
    throw new CertvigilError('USAGE', `cannot read ${shown}: ${fileError(e)}`);
  }
  if (text.trim() === '') throw new CertvigilError('USAGE', `${shown} is empty`);
  if (text.includes('\u0000') || text.includes('\ufffd'))
    throw new CertvigilError('USAGE', `${shown} is not a text file`);
  return text;
}

/** A file error without Node's message, which repeats the (unsanitised) path. */
function fileError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return code ?? 'unreadable';
}

export async function checkCaFile(path: string): Promise<void> {
  const text = await readTextFile(path, '--ca-file');
  if (!text.includes('-----BEGIN CERTIFICATE-----'))
    throw new CertvigilError(
      'USAGE',
      `--ca-file ${sanitizeText(path, { maxLength: 200 })} holds no PEM certificate`,
    );
}

/**
 * `--client-cert FILE [--client-key FILE]`: PEM certificate(s), leaf first, and the leaf's private
 * key (from the key file, else from the certificate file), unencrypted. Read and matched before
 * anything is probed: a missing file, no key, an encrypted key or a key of another certificate is
 * a usage error (UNKNOWN), never a handshake that fails later as CRITICAL.
 */
export async function readClientCert(
  certFile: string,
  keyFile: string | undefined,
): Promise<{ cert: string; key: string }> {
  const cert = await readTextFile(certFile, '--client-cert');
  const shownCert = `--client-cert ${sanitizeText(certFile, { maxLength: 200 })}`;
  const first = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(cert)?.[0];
  if (!first) throw new CertvigilError('USAGE', `${shownCert} holds no PEM certificate`);
  const keyText = keyFile === undefined ? cert : await readTextFile(keyFile, '--client-key');
  const shownKey =
    keyFile === undefined ? shownCert : `--client-key ${sanitizeText(keyFile, { maxLength: 200 })}`;
  const keyPem = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]*?-----END \1-----/.exec(
    keyText,
  )?.[0];
  if (!keyPem)
    throw new CertvigilError(
      'USAGE',
      `${shownKey} holds no PEM private key${keyFile === undefined ? ' (give --client-key)' : ''}`,
    );
  if (keyPem.includes('ENCRYPTED'))
    throw new CertvigilError('USAGE', `${shownKey}: encrypted private keys are not supported`);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(first);
  } catch {
    throw new CertvigilError('USAGE', `${shownCert}: the certificate cannot be parsed`);
  }
  let matches: boolean;
  try {
    matches = x509.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    throw new CertvigilError('USAGE', `${shownKey}: the private key cannot be parsed`);
  }
  if (!matches)
    throw new CertvigilError(
      'USAGE',
      `${shownKey}: the private key does not belong to the client certificate`,
    );
  return { cert, key: keyPem };
}

/** A `--log-list` that is a file (not a URL) must be a readable, non-empty text file. */
export async function checkLogListFile(source: string | undefined): Promise<void> {
  if (source === undefined || /^https?:\/\//i.test(source)) return;
  await readTextFile(source, '--log-list');
}

/**
 * `--state-dir` is the monitor's state, read here: it must exist (a plugin never creates state;
 * a typo would otherwise leave an empty database behind and report "not in the inventory").
 */
export async function checkStateDir(stateDir: string | undefined): Promise<void> {
  if (stateDir === undefined) return;
  const dir = sanitizeText(stateDir, { maxLength: 200 });
  const st = await stat(join(stateDir, SQLITE_FILE_NAME)).catch(() => null);
  if (!st?.isFile())
    throw new CertvigilError('USAGE', `no certvigil state at ${dir} (run \`certvigil monitor\` first)`);
}

export async function readEndpointsConfig(path: string): Promise<EndpointsConfig> {
  const text = await readTextFile(path, '--config');
  const shown = sanitizeText(path, { maxLength: 200 });
  let data: unknown;
  try {
    // Loaded here: only `check endpoints` reads YAML, and `check endpoint` starts often.
    const { parse: parseYaml } = await import('yaml');
    data = parseYaml(text);
  } catch (e) {
    // Only the first line: yaml's message goes on to quote the offending source line, which may
    // hold a secret (a password, an API key) that must not reach a monitoring system's status.
    const first = ((e as Error).message.split('\n')[0] ?? '').replace(/:\s*$/, '');
    throw new CertvigilError('CONFIG_INVALID', `${shown} is not valid YAML: ${first}`);
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success)
    throw new CertvigilError(
      'CONFIG_INVALID',
      `${shown}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/** `--database` must be a PostgreSQL URL (store/open.ts), checked before the log list is loaded. */
export function checkDatabaseUrl(url: string | undefined): void {
  if (url !== undefined && !/^postgres(?:ql)?:\/\/\S+$/i.test(url))
    throw new CertvigilError(
      'USAGE',
      `--database must be a postgres:// or postgresql:// URL (got "${sanitizeText(url, { maxLength: 40 })}")`,
    );
}
