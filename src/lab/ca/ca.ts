/**
 * @module lab/ca/ca
 * `LabAcmeCa`: the lab's ACME-like certification authority. RFC 8555's concepts (accounts with
 * account URLs, orders, authorizations proven by challenges, key authorizations) without its JWS
 * wire protocol: the lab's clients call it in-process. Each order goes
 * validation → CAA (RFC 8659, with RFC 8657 account and method binding) → issuance, the last one
 * through a CT log when the CA has one (precertificate, SCT, final certificate: RFC 6962 §3).
 *
 * @example
 * const ca = new LabAcmeCa({ issuerDomain: 'ca.lab', directoryUrl: 'https://ca.lab/acme/directory',
 *   engine, log, resolver: new StubResolver({ servers: [{ host: '127.0.0.1', port: dnsPort }] }),
 *   http01: { port: httpPort } });
 * const victim = ca.newAccount('victim');
 * const r = await ca.order({ accountUri: victim.uri, names: ['jabber.lab'], method: 'http-01', solver: responder });
 * if (r.status === 'refused') console.log(r.stage, r.reason);
 */
import type { KeyObject } from 'node:crypto';
import { evaluateCaaMany, parseIdentifier } from '../../caa/index.js';
import type { CaaResult } from '../../caa/index.js';
import { sha256Hex } from '../../hash.js';
import { sanitizeText } from '../../sanitize.js';
import { summarizeCertificate } from '../../x509/index.js';
import { LabError } from '../errors.js';
import { challengeToken, generateAccountKey, jwkThumbprint, keyAuthorization } from './account.js';
import { Http01Validator } from './http01.js';
import type { Http01ValidatorOptions } from './http01.js';
import type {
  CertificateEngine,
  ChallengeMethod,
  ChallengeSolver,
  ChallengeValidator,
  CtLogPort,
  EngineCertificate,
  EngineIssueOptions,
  LabAccount,
  LabCertificate,
  LabResolverPort,
  OrderAudit,
  OrderRequest,
  OrderResult,
  ValidationOutcome,
} from './types.js';

export interface LabAcmeCaOptions {
  /** The CA's CAA issuer domain name (RFC 8659 §4.2), e.g. 'ca.lab'. */
  issuerDomain: string;
  /** RFC 8555 §7.1.1 directory URL; account URLs live on its origin. */
  directoryUrl: string;
  engine: CertificateEngine;
  /** When given: precertificate → log → SCT embedded in the final certificate, which is logged too. */
  log?: CtLogPort;
  /** CAA and A lookups (`dns.StubResolver` fits). */
  resolver: LabResolverPort;
  /** How the CA validates; default real http-01 (`Http01Validator`) through `resolver`. */
  validator?: ChallengeValidator;
  /** Settings of the default validator; `port` default 80 (RFC 8555 §8.3). */
  http01?: Omit<Http01ValidatorOptions, 'resolver'>;
  /** Clock, for the audit list and default issuance times. */
  now?: () => Date;
}

const HOUR_MS = 3_600_000;
const MAX_NAMES = 100; // Let's Encrypt's limit of names per certificate
const MAX_AUDIT = 1000;

function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

export class LabAcmeCa {
  readonly issuerDomain: string;
  readonly directoryUrl: string;
  /** What happened, oldest first (bounded): for the lab's summary. */
  readonly orders: OrderAudit[] = [];
  readonly #engine: CertificateEngine;
  readonly #log: CtLogPort | undefined;
  readonly #resolver: LabResolverPort;
  readonly #validator: ChallengeValidator;
  readonly #now: () => Date;
  readonly #base: string;
  readonly #accounts = new Map<string, LabAccount>();

  constructor(options: LabAcmeCaOptions) {
    let url: URL;
    try {
      url = new URL(options.directoryUrl);
    } catch (err) {
      throw new LabError('LAB_INVALID_REQUEST', 'the directory URL is not a URL', { cause: err });
    }
    this.issuerDomain = options.issuerDomain;
    this.directoryUrl = options.directoryUrl;
    this.#base = url.origin;
    this.#engine = options.engine;
    this.#log = options.log;
    this.#resolver = options.resolver;
    this.#validator =
      options.validator ?? new Http01Validator({ port: 80, ...options.http01, resolver: options.resolver });
    this.#now = options.now ?? (() => new Date());
  }

  /** The issuing CA certificate (DER), e.g. for a trust store. */
  get rootDer(): Buffer {
    return this.#engine.certificate;
  }

  /** RFC 8555 §7.3 newAccount: a fresh account key and a Let's Encrypt-style account URL. */
  newAccount(label: string): LabAccount {
    const key = generateAccountKey();
    const account: LabAccount = {
      uri: `${this.#base}/acme/acct/${this.#accounts.size + 1}`,
      label,
      key: key.privateKey,
      thumbprint: jwkThumbprint(key.publicKey),
    };
    this.#accounts.set(account.uri, account);
    return account;
  }

  account(uri: string): LabAccount | undefined {
    return this.#accounts.get(uri);
  }

  /**
   * One order, start to finish. A refusal is a result (`status: 'refused'`), never an exception;
   * only a request outside the CA's world (unknown account, bad names) throws `LAB_INVALID_REQUEST`.
   */
  async order(request: OrderRequest): Promise<OrderResult> {
    const account = this.#accounts.get(request.accountUri);
    if (account === undefined) throw new LabError('LAB_INVALID_REQUEST', 'no such account at this CA');
    const names = normaliseNames(request.names);

    // (a) RFC 8555 §7.5: one authorization per name, proven by the chosen challenge.
    const validation: ValidationOutcome[] = [];
    const refuse = (stage: 'validation' | 'caa', reason: string, caa: CaaResult[]): OrderResult =>
      this.#refuse({ account, request, names }, stage, reason, caa, validation);
    for (const name of names)
      validation.push(await this.#validate(account, name, request.method, request.solver));
    const validationSucceeded = validation.every((v) => v.ok);

    // (b) RFC 8659 §3: CAA for every name, bound to this account and method (RFC 8657 §3, §4).
    const checked = await this.#checkCaa(account, names, request.method);
    if (!checked.ok) return refuse('caa', checked.reason, []);
    const caa = checked.results;

    // CAA first: its verdict does not depend on who answered the challenge, and a CAA refusal is
    // what an iodef report (RFC 8659 §4.4) is about.
    const blocked = caa.find((r) => r.decision !== 'allow');
    if (blocked !== undefined) {
      // RFC 8659 §3: "a CA MUST NOT issue" when the lookup fails (fail closed), as when it denies.
      const what = blocked.decision === 'deny' ? 'CAA forbids issuance' : 'CAA could not be checked';
      return refuse('caa', `${what} for ${blocked.name}: ${blocked.explanation}`, caa);
    }
    if (!validationSucceeded) {
      const failed = validation.find((v) => !v.ok);
      return refuse(
        'validation',
        `${request.method} validation failed for ${failed?.name}: ${failed?.detail}`,
        caa,
      );
    }

    // (c) issue.
    const certificate = this.#issue(names, request);
    this.#audit({
      ...this.#auditBase(account, request, names, caa, true),
      status: 'issued',
      serialHex: certificate.serialHex,
      notBefore: certificate.notBefore,
    });
    return { status: 'issued', certificate, caa, validation };
  }

  async #validate(
    account: LabAccount,
    name: string,
    method: ChallengeMethod,
    solver: ChallengeSolver | undefined,
  ): Promise<ValidationOutcome> {
    const token = challengeToken();
    const challenge = { method, name, token, keyAuthorization: keyAuthorization(token, account.thumbprint) };
    try {
      await solver?.present(challenge);
    } catch (err) {
      return { name, ok: false, detail: `the requester could not present the challenge: ${errorText(err)}` };
    }
    try {
      return await this.#validator.validate(challenge);
    } catch (err) {
      return { name, ok: false, detail: `validation error: ${errorText(err)}` };
    } finally {
      try {
        await solver?.cleanup?.(challenge);
      } catch {
        // The requester's clean-up is its own business; the outcome stands.
      }
    }
  }

  async #checkCaa(
    account: LabAccount,
    names: string[],
    method: ChallengeMethod,
  ): Promise<{ ok: true; results: CaaResult[] } | { ok: false; reason: string }> {
    const request = { issuerDomains: [this.issuerDomain], accountUri: account.uri, validationMethod: method };
    try {
      return { ok: true, results: await evaluateCaaMany(names, request, this.#resolver) };
    } catch (err) {
      // The engine reports lookup failures as results; anything it throws still means "not
      // checked", and RFC 8659 §3 says not to issue then (fail closed).
      return { ok: false, reason: `CAA could not be checked: ${errorText(err)}` };
    }
  }

  #issue(names: string[], request: OrderRequest): LabCertificate {
    const issuedAt =
      request.issuedAt ?? (request.notBefore ? new Date(request.notBefore.getTime() + HOUR_MS) : this.#now());
    const options: EngineIssueOptions = {
      dnsNames: names,
      // Let's Encrypt backdates notBefore by an hour against clock skew; so does the lab.
      notBefore: request.notBefore ?? new Date(issuedAt.getTime() - HOUR_MS),
    };
    if (request.notAfter !== undefined) options.notAfter = request.notAfter;
    if (request.subjectKey !== undefined) options.subjectKey = request.subjectKey;
    let cert: EngineCertificate;
    let ct: LabCertificate['ct'];
    if (this.#log === undefined) {
      cert = this.#engine.issue(options);
    } else {
      // RFC 6962 §3.1: the precertificate is logged first; its SCT goes into the final certificate.
      const added = this.#log.addPrecertificate(this.#engine, {
        ...options,
        alsoLogFinal: true,
        timestamp: issuedAt.getTime(),
      });
      cert = added.finalCert;
      ct = { precertIndex: added.index, finalIndex: added.finalIndex ?? null, sctTimestamp: added.timestamp };
    }
    return describe(cert, ct);
  }

  #refuse(
    { account, request, names }: { account: LabAccount; request: OrderRequest; names: string[] },
    stage: 'validation' | 'caa',
    reason: string,
    caa: CaaResult[],
    validation: ValidationOutcome[],
  ): OrderResult {
    const validationSucceeded = validation.every((v) => v.ok);
    const clean = sanitizeText(reason, { maxLength: 500 });
    this.#audit({
      ...this.#auditBase(account, request, names, caa, validationSucceeded),
      status: 'refused',
      stage,
      reason: clean,
    });
    return {
      status: 'refused',
      stage,
      reason: clean,
      caa,
      validation,
      validationSucceeded,
      iodef: iodefUrls(caa),
    };
  }

  #auditBase(
    account: LabAccount,
    request: OrderRequest,
    names: string[],
    caa: CaaResult[],
    validationSucceeded: boolean,
  ) {
    return {
      at: this.#now(),
      accountUri: account.uri,
      accountLabel: account.label,
      names,
      method: request.method,
      validationSucceeded,
      caa: caa.map((r) => ({ name: r.name, decision: r.decision, reason: r.reason })),
    };
  }

  #audit(entry: OrderAudit): void {
    this.orders.push(entry);
    if (this.orders.length > MAX_AUDIT) this.orders.shift();
  }
}

/** A-labels, lower case, no duplicates; a name that is not a DNS name is not an order. */
function normaliseNames(names: readonly string[]): string[] {
  if (names.length === 0 || names.length > MAX_NAMES) {
    throw new LabError('LAB_INVALID_REQUEST', `an order needs 1 to ${MAX_NAMES} names`);
  }
  const out: string[] = [];
  for (const name of names) {
    const id = parseIdentifier(name);
    if (!id.ok)
      throw new LabError('LAB_INVALID_REQUEST', `not a DNS name: ${sanitizeText(name, { maxLength: 80 })}`);
    const full = id.wildcard ? `*.${id.lookupName}` : id.lookupName;
    if (!out.includes(full)) out.push(full);
  }
  return out;
}

/** RFC 8659 §4.4 iodef property values of every name's relevant RRset, once each. */
function iodefUrls(caa: readonly CaaResult[]): string[] {
  const urls = caa.flatMap((r) =>
    r.records.filter((rec) => rec.tag.toLowerCase() === 'iodef').map((rec) => rec.value),
  );
  return [...new Set(urls)];
}

function describe(cert: EngineCertificate, ct: LabCertificate['ct']): LabCertificate {
  const summary = summarizeCertificate(cert.der);
  const chainPem = cert.chain.map((c) => pem('CERTIFICATE', c)).join('');
  const leafPem = pem('CERTIFICATE', cert.der);
  const out: LabCertificate = {
    der: cert.der,
    pem: leafPem,
    chainPem,
    fullchainPem: leafPem + chainPem,
    spkiSha256Hex: summary.spkiSha256,
    sha256Hex: sha256Hex(cert.der),
    serialHex: summary.serialHex,
    notBefore: new Date(summary.notBefore),
    notAfter: new Date(summary.notAfter),
    names: summary.dnsNames,
  };
  if (cert.privateKey !== undefined) out.keyPem = pkcs8Pem(cert.privateKey);
  if (ct !== undefined) out.ct = ct;
  return out;
}

function pkcs8Pem(key: KeyObject): string {
  return key.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function errorText(err: unknown): string {
  return sanitizeText(err instanceof Error ? err.message : String(err), { maxLength: 200 });
}
