/**
 * @module lab/ca/http01
 * The http-01 challenge (RFC 8555 §8.3) for real, on both sides:
 * - `startHttp01Responder`: the requester's side, a tiny HTTP server answering
 *   `/.well-known/acme-challenge/<token>` with the key authorization its ACME client published;
 * - `Http01Validator`: the CA's side, which resolves the name's A record, GETs that URL from the
 *   address found and compares the body with the key authorization.
 *
 * Whoever answers on the address the CA connects to passes. That is the weakness the jabber.ru
 * attackers used (2023): sitting in the network path, they answered the CA's request themselves.
 */
import { createServer, request } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { sanitizeText } from '../../sanitize.js';
import { LabError } from '../errors.js';
import { TOKEN_RE } from './account.js';
import type {
  Challenge,
  ChallengeSolver,
  ChallengeValidator,
  LabResolverPort,
  ValidationOutcome,
} from './types.js';

const CHALLENGE_PATH = '/.well-known/acme-challenge/';
/** A key authorization is ~87 characters; more than this is not one (and is not read further). */
export const DEFAULT_MAX_BODY_BYTES = 1024;
/** The whole exchange (connect, headers, body), like a CA's VA deadline. */
export const DEFAULT_VALIDATION_TIMEOUT_MS = 3000;
/** Bound on published tokens: a responder is for a handful of orders, not a store. */
const MAX_TOKENS = 1000;

// ---- the requester's side -----------------------------------------------------------------------

export interface Http01Responder extends ChallengeSolver {
  readonly host: string;
  readonly port: number;
  /** Serve `keyAuthorization` at /.well-known/acme-challenge/<token>. */
  publish(token: string, keyAuthorization: string): void;
  unpublish(token: string): void;
  /** Requests answered so far (any path), for the lab's narrative. */
  readonly requests: number;
  /** Idempotent: stops listening and drops open connections. */
  close(): Promise<void>;
}

/** Starts a responder on loopback (port 0 = ephemeral). */
export async function startHttp01Responder(
  options: { host?: string; port?: number } = {},
): Promise<Http01Responder> {
  const host = options.host ?? '127.0.0.1';
  const tokens = new Map<string, string>();
  let requests = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    requests++;
    req.resume(); // a GET has no body worth reading; drain whatever comes
    const path = (req.url ?? '').split('?')[0] ?? '';
    const token = path.startsWith(CHALLENGE_PATH) ? path.slice(CHALLENGE_PATH.length) : '';
    const body = req.method === 'GET' ? tokens.get(token) : undefined;
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
  });
  server.headersTimeout = 5000;
  server.requestTimeout = 5000;
  server.keepAliveTimeout = 1000;
  server.maxHeadersCount = 50;
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error): void =>
      reject(
        new LabError('LAB_START_FAILED', `http-01 responder on ${host}: ${err.message}`, { cause: err }),
      );
    server.once('error', fail);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
  server.on('error', () => undefined); // after start: never crash the process on a socket fault
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  let closed: Promise<void> | null = null;

  const publish = (token: string, keyAuthorization: string): void => {
    if (!TOKEN_RE.test(token)) throw new LabError('LAB_INVALID_REQUEST', 'not an ACME challenge token');
    if (!tokens.has(token) && tokens.size >= MAX_TOKENS)
      throw new LabError('LAB_INVALID_REQUEST', 'too many tokens');
    tokens.set(token, keyAuthorization);
  };
  return {
    host,
    port,
    get requests() {
      return requests;
    },
    publish,
    unpublish: (token) => void tokens.delete(token),
    present: (c: Challenge) => publish(c.token, c.keyAuthorization),
    cleanup: (c: Challenge) => void tokens.delete(c.token),
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

// ---- the CA's side ------------------------------------------------------------------------------

export interface Http01ValidatorOptions {
  resolver: LabResolverPort;
  /** Where the CA connects: 80 in RFC 8555 §8.3; the unprivileged lab uses another port. */
  port: number;
  timeoutMs?: number;
  maxBodyBytes?: number;
  /**
   * Which resolved addresses the CA may connect to. Default: loopback only, so that a DNS answer
   * (outside input) can never send the lab's CA anywhere off this machine.
   */
  allowAddress?: (address: string) => boolean;
}

export function isLoopback(address: string): boolean {
  return (isIP(address) === 4 && address.startsWith('127.')) || address === '::1';
}

/** The CA's http-01 validation; other methods fail with a plain reason. */
export class Http01Validator implements ChallengeValidator {
  readonly #options: Required<Http01ValidatorOptions>;

  constructor(options: Http01ValidatorOptions) {
    this.#options = {
      timeoutMs: DEFAULT_VALIDATION_TIMEOUT_MS,
      maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
      allowAddress: isLoopback,
      ...options,
    };
  }

  async validate(challenge: Challenge): Promise<ValidationOutcome> {
    const { name } = challenge;
    const fail = (detail: string, extra: Partial<ValidationOutcome> = {}): ValidationOutcome => ({
      name,
      ok: false,
      detail: sanitizeText(detail, { maxLength: 300 }),
      ...extra,
    });
    // DEVIATION: the lab CA validates http-01 only (dns-01 needs TXT records, which the project's
    // DNS client does not decode; tls-alpn-01 needs a TLS handshake with RFC 8737 certificates).
    if (challenge.method !== 'http-01') return fail(`the lab CA does not validate ${challenge.method}`);
    // RFC 8555 §7.1.3, §8.3: wildcard names can only be validated with dns-01.
    if (name.startsWith('*.')) return fail('a wildcard name cannot be validated with http-01');
    const address = await this.#resolve(name);
    if (!address.ok) return fail(address.detail);
    const port = this.#options.port;
    if (!this.#options.allowAddress(address.address)) {
      return fail(`${name} resolves to ${address.address}, outside the lab (not contacted)`, {
        address: address.address,
        port,
      });
    }
    const got = await this.#fetch(address.address, name, challenge.token);
    const where = { address: address.address, port };
    if (!got.ok)
      return fail(`http://${name}:${port}${CHALLENGE_PATH}… from ${address.address}: ${got.detail}`, where);
    // RFC 8555 §8.3: "The server SHOULD ignore whitespace characters at the end of the body."
    const body = got.body.replace(/[ \t\r\n]+$/, '');
    if (body !== challenge.keyAuthorization) {
      return fail(`${address.address}:${port} answered, but not with the key authorization`, where);
    }
    return { name, ok: true, detail: `${address.address}:${port} served the key authorization`, ...where };
  }

  /** The first A record of the name (CNAMEs are followed by the recursive resolver). */
  async #resolve(name: string): Promise<{ ok: true; address: string } | { ok: false; detail: string }> {
    try {
      const response = await this.#options.resolver.query(name, 'A', { dnssecOk: false });
      if (response.rcode !== 'NOERROR')
        return { ok: false, detail: `A lookup for ${name}: ${response.rcode}` };
      const a = response.answers.find((r) => r.type === 'A' && typeof r.data.address === 'string');
      const address = a?.data.address;
      if (address === undefined || isIP(address) !== 4)
        return { ok: false, detail: `${name} has no A record` };
      return { ok: true, address };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      return {
        ok: false,
        detail: `A lookup for ${name} failed${typeof code === 'string' ? ` (${code})` : ''}`,
      };
    }
  }

  /** One bounded GET: no redirects, `maxBodyBytes`, one deadline for the whole exchange. */
  #fetch(
    address: string,
    name: string,
    token: string,
  ): Promise<{ ok: true; body: string } | { ok: false; detail: string }> {
    const { port, timeoutMs, maxBodyBytes } = this.#options;
    return new Promise((resolve) => {
      let settled = false;
      const done = (r: { ok: true; body: string } | { ok: false; detail: string }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        resolve(r);
      };
      const req = request(
        {
          host: address,
          port,
          path: `${CHALLENGE_PATH}${token}`,
          method: 'GET',
          // RFC 8555 §8.3: the Host header is the domain name being validated.
          headers: {
            host: port === 80 ? name : `${name}:${port}`,
            'user-agent': 'certvigil-lab-ca',
            accept: '*/*',
          },
          agent: false,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          // DEVIATION: RFC 8555 §8.3 lets the server follow redirects; the lab's CA does not need to.
          if (status !== 200) return done({ ok: false, detail: `HTTP status ${status}` });
          const declared = Number(res.headers['content-length'] ?? '0');
          if (declared > maxBodyBytes)
            return done({ ok: false, detail: `body larger than ${maxBodyBytes} bytes` });
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBodyBytes)
              return done({ ok: false, detail: `body larger than ${maxBodyBytes} bytes` });
            chunks.push(chunk);
          });
          res.on('end', () => done({ ok: true, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', (err) => done({ ok: false, detail: err.message }));
        },
      );
      const timer = setTimeout(
        () => done({ ok: false, detail: `no answer within ${timeoutMs} ms` }),
        timeoutMs,
      );
      req.on('error', (err: NodeJS.ErrnoException) => done({ ok: false, detail: err.code ?? err.message }));
      req.end();
    });
  }
}
