/**
 * @module cli/server-request
 * The client side of `certvigil serve`'s HTTP API for `inventory push` and `check internal`: the
 * server URL, the token (flag, file or environment), and one JSON request with a deadline.
 *
 * The token is a secret: it travels only in `Authorization`, never in a URL or a message, only
 * over HTTPS with verification (plain http:// only to a loopback address, or with
 * `--insecure-http`), and redirects are not followed (they would carry it elsewhere).
 */
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Command } from 'commander';
import { CertvigilError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { parseDuration } from './flags.js';

export interface ServerFlags {
  server?: string;
  token?: string;
  tokenFile?: string;
  caFile?: string;
  insecureHttp?: boolean;
}

export interface ServerTarget {
  base: URL;
  token: string;
  ca?: string;
}

/** What `Authorization: Bearer` may carry (the server's own pattern, auth/middleware.ts). */
const TOKEN_RE = /^[A-Za-z0-9._~+/=-]{1,200}$/;
const MAX_TOKEN_FILE = 4096;

export function addServerOptions(cmd: Command): Command {
  return cmd
    .option('--server <url>', 'the certvigil server (`certvigil serve`), e.g. https://certvigil.example.net')
    .option('--token <token>', 'API token (visible in ps: prefer --token-file or $CERTVIGIL_TOKEN)')
    .option('--token-file <file>', 'read the API token from this file (first line)')
    .option(
      '--ca-file <pem>',
      "trust anchors for the server's certificate (a private CA); replaces the system store",
    )
    .option('--insecure-http', 'allow http:// to a non-loopback server (sends the token in clear)');
}

function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1';
}

/** Where the token comes from: --token, else --token-file, else $CERTVIGIL_TOKEN. */
async function readToken(flags: ServerFlags): Promise<string> {
  if (flags.token !== undefined && flags.tokenFile !== undefined)
    throw new CertvigilError('USAGE', 'give --token or --token-file, not both');
  let token: string | undefined;
  let from = '--token';
  if (flags.token !== undefined) token = flags.token;
  else if (flags.tokenFile !== undefined) {
    from = '--token-file';
    let text: string;
    try {
      const buf = await readFile(flags.tokenFile);
      if (buf.length > MAX_TOKEN_FILE) throw new Error(`larger than ${MAX_TOKEN_FILE} bytes`);
      text = buf.toString('utf8');
    } catch (e) {
      throw new CertvigilError(
        'USAGE',
        `cannot read --token-file ${sanitizeText(flags.tokenFile, { maxLength: 200 })}: ${sanitizeText((e as Error).message)}`,
      );
    }
    token = (text.split(/\r?\n/)[0] ?? '').trim();
  } else if (process.env.CERTVIGIL_TOKEN !== undefined && process.env.CERTVIGIL_TOKEN !== '') {
    from = '$CERTVIGIL_TOKEN';
    token = process.env.CERTVIGIL_TOKEN.trim();
  }
  if (token === undefined)
    throw new CertvigilError('USAGE', 'give the API token: --token-file FILE, $CERTVIGIL_TOKEN or --token');
  // Never quoted back: it is a secret, and a header with a line break would be a header injection.
  if (!TOKEN_RE.test(token))
    throw new CertvigilError(
      'USAGE',
      `${from} is not an API token (1..200 characters of A-Z a-z 0-9 . _ ~ + / = -)`,
    );
  return token;
}

/** The server URL, token and trust anchors from the flags; every problem is a usage error. */
export async function serverTarget(flags: ServerFlags): Promise<ServerTarget> {
  if (flags.server === undefined || flags.server.trim() === '')
    throw new CertvigilError('USAGE', 'give --server URL (the certvigil server, https://…)');
  let base: URL;
  try {
    base = new URL(flags.server.trim());
  } catch {
    throw new CertvigilError(
      'USAGE',
      `--server ${JSON.stringify(sanitizeText(flags.server, { maxLength: 80 }))} is not a URL`,
    );
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:')
    throw new CertvigilError('USAGE', '--server must be an https:// URL');
  if (base.username !== '' || base.password !== '' || base.search !== '' || base.hash !== '')
    throw new CertvigilError('USAGE', '--server must not carry credentials, a query or a fragment');
  if (base.protocol === 'http:' && !isLoopback(base.hostname) && flags.insecureHttp !== true)
    throw new CertvigilError(
      'USAGE',
      '--server http:// to a non-loopback address would send the token in clear: use https:// (or --insecure-http)',
    );
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  let ca: string | undefined;
  if (flags.caFile !== undefined) {
    try {
      ca = await readFile(flags.caFile, 'utf8');
    } catch (e) {
      throw new CertvigilError(
        'USAGE',
        `cannot read --ca-file ${sanitizeText(flags.caFile, { maxLength: 200 })}: ${sanitizeText((e as Error).message)}`,
      );
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----'))
      throw new CertvigilError('USAGE', '--ca-file holds no PEM certificate');
  }
  return { base, token: await readToken(flags), ...(ca !== undefined ? { ca } : {}) };
}

/** `--timeout`/`-t` in seconds when bare; 1 s .. 1 h. */
export function timeoutMs(value: string, flag: string): number {
  return parseDuration(value, flag, { unit: 's', minMs: 1000, maxMs: 3_600_000 });
}

export interface ApiAnswer {
  status: number;
  body: unknown;
}

/** Answers larger than this are refused (a check answer lists at most 50 certificates). */
const MAX_ANSWER = 16 * 1024 * 1024;

/**
 * One request to the API (`path` relative to the server URL, e.g. `api/v1/hosts`), JSON both ways.
 * Resolves with any HTTP status (the caller decides); rejects with API_UNREACHABLE when no answer
 * came within `timeout` (connection, TLS verification, time) and API_REFUSED for a body that is
 * not JSON.
 */
export function apiRequest(
  target: ServerTarget,
  method: 'GET' | 'PUT',
  path: string,
  body: unknown,
  timeout: number,
): Promise<ApiAnswer> {
  const url = new URL(path, target.base);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
  const where = sanitizeText(target.base.origin, { maxLength: 200 });
  return new Promise((resolve, reject) => {
    const options = {
      method,
      headers: {
        authorization: `Bearer ${target.token}`,
        accept: 'application/json',
        ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
      },
      signal: AbortSignal.timeout(timeout),
      ...(target.ca !== undefined ? { ca: target.ca } : {}),
    };
    const req =
      url.protocol === 'https:'
        ? httpsRequest(url, { ...options, rejectUnauthorized: true })
        : httpRequest(url, options);
    req.on('error', (e: NodeJS.ErrnoException) => {
      const why = e.name === 'AbortError' ? `no answer within ${timeout / 1000} s` : e.message;
      reject(
        new CertvigilError('API_UNREACHABLE', `server ${where} unreachable: ${sanitizeText(why)}`, {
          cause: e,
        }),
      );
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER) {
          req.destroy();
          reject(
            new CertvigilError('API_REFUSED', `server ${where}: answer larger than ${MAX_ANSWER} bytes`),
          );
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (e) =>
        reject(
          new CertvigilError('API_UNREACHABLE', `server ${where}: ${sanitizeText(e.message)}`, { cause: e }),
        ),
      );
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        try {
          resolve({ status, body: text === '' ? null : (JSON.parse(text) as unknown) });
        } catch {
          reject(
            new CertvigilError(
              'API_REFUSED',
              `server ${where} answered HTTP ${status} that is not JSON (is --server a certvigil server?)`,
            ),
          );
        }
      });
    });
    req.end(payload);
  });
}

/** The `error` field of an API error answer, sanitised, or the status alone. */
export function apiError(answer: ApiAnswer): string {
  const b = answer.body;
  const msg =
    typeof b === 'object' && b !== null && 'error' in b && typeof (b as { error: unknown }).error === 'string'
      ? (b as { error: string }).error
      : '';
  const hint =
    answer.status === 401
      ? ' (token unknown, revoked or expired)'
      : answer.status === 403
        ? ' (token not allowed)'
        : '';
  return sanitizeText(`HTTP ${answer.status}${msg ? `: ${msg}` : ''}${hint}`, { maxLength: 300 });
}
