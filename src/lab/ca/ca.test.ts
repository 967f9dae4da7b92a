/**
 * The lab CA end to end on loopback: real issuance through the CT fixtures (TestCa = engine,
 * TestLog = RFC 6962 log), real CAA through src/caa over a dns-packet answerer and the project's
 * StubResolver, real http-01 against the victim's responder.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TestCa, TestLog } from '../../../test/fixtures/ct-log/index.js';
import { embeddedScts, signedEntryForChain, verifySct } from '../../ct/index.js';
import { summarizeCertificate } from '../../x509/index.js';
import { LabError } from '../errors.js';
import { LabAcmeCa } from './ca.js';
import { startDnsAnswerer } from './dns-answerer.fixture.js';
import type { DnsAnswerer } from './dns-answerer.fixture.js';
import { startHttp01Responder } from './http01.js';
import type { Http01Responder } from './http01.js';
import type { LabAccount } from './types.js';

const run = promisify(execFile);
const NAME = 'jabber.lab';
let engine: TestCa;
let dns: DnsAnswerer;
let victimHttp: Http01Responder;
let log: TestLog;
let ca: LabAcmeCa;
let victim: LabAccount;
let attacker: LabAccount;

beforeAll(async () => {
  engine = await TestCa.create({ commonName: 'Lab CA R1' });
  dns = await startDnsAnswerer();
  victimHttp = await startHttp01Responder();
});
afterAll(async () => {
  await victimHttp.close();
  await dns.close();
});
beforeEach(() => {
  dns.a.clear();
  dns.caa.clear();
  dns.servfail.clear();
  dns.silent.clear();
  dns.a.set(NAME, '127.0.0.1');
  dns.a.set(`xmpp.${NAME}`, '127.0.0.1');
  log = new TestLog({ name: 'lab log' });
  ca = new LabAcmeCa({
    issuerDomain: 'ca.lab',
    directoryUrl: 'https://ca.lab/acme/directory',
    engine,
    log,
    resolver: dns.resolver(),
    http01: { port: victimHttp.port },
  });
  victim = ca.newAccount('victim');
  attacker = ca.newAccount('attacker');
});

const order = (account: LabAccount, extra: Partial<Parameters<LabAcmeCa['order']>[0]> = {}) =>
  ca.order({
    accountUri: account.uri,
    names: [NAME, `xmpp.${NAME}`],
    method: 'http-01',
    solver: victimHttp,
    ...extra,
  });

describe('LabAcmeCa', () => {
  it('gives Let’s Encrypt-style account URLs on the directory’s origin', () => {
    expect(victim.uri).toBe('https://ca.lab/acme/acct/1');
    expect(attacker.uri).toBe('https://ca.lab/acme/acct/2');
    expect(victim.thumbprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(ca.account(victim.uri)?.label).toBe('victim');
  });

  it('issues with no CAA records: precertificate logged, SCT embedded and verifiable, final certificate logged', async () => {
    const r = await order(victim);
    if (r.status !== 'issued') throw new Error(`refused: ${r.reason}`);
    expect(r.caa.map((c) => c.reason)).toEqual(['no-caa-records', 'no-caa-records']);
    expect(r.validation.every((v) => v.ok && v.address === '127.0.0.1')).toBe(true);
    const cert = r.certificate;
    expect(cert.names).toEqual([NAME, `xmpp.${NAME}`]);
    expect(cert.ct).toEqual({ precertIndex: 0, finalIndex: 1, sctTimestamp: expect.any(Number) });
    expect(log.size).toBe(2);
    // RFC 6962 §3.3: the SCT list extension carries the log's SCT over the precertificate entry.
    const scts = embeddedScts(cert.der);
    const [sct] = scts;
    if (scts.length !== 1 || sct === undefined) throw new Error('expected one embedded SCT');
    expect(Buffer.from(sct.logId).equals(log.logId)).toBe(true);
    expect(() =>
      verifySct(sct, log.publicKey, signedEntryForChain(cert.der, engine.certificate, true)),
    ).not.toThrow();
    const summary = summarizeCertificate(cert.der);
    expect(summary.hasEmbeddedScts).toBe(true);
    expect(summary.serialHex).toBe(cert.serialHex);
    expect(cert.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(new X509Certificate(cert.pem).verify(new X509Certificate(engine.certificate).publicKey)).toBe(
      true,
    );
    expect(cert.fullchainPem).toBe(cert.pem + cert.chainPem);
    expect(ca.orders.at(-1)).toMatchObject({
      status: 'issued',
      accountLabel: 'victim',
      serialHex: cert.serialHex,
    });
  });

  it('openssl reads the embedded SCT list', async () => {
    const r = await order(victim);
    if (r.status !== 'issued') throw new Error(r.reason);
    const dir = await mkdtemp(join(tmpdir(), 'lab-ca-'));
    try {
      await writeFile(join(dir, 'c.pem'), r.certificate.pem);
      const { stdout } = await run('openssl', ['x509', '-noout', '-text', '-in', join(dir, 'c.pem')]);
      expect(stdout).toContain('CT Precertificate SCTs');
      expect(stdout).toContain('DNS:jabber.lab');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('certifies the requester’s own key and replays a backdated renewal', async () => {
    const own = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const notBefore = new Date('2023-04-18T03:00:00Z');
    const r = await order(victim, { subjectKey: own.publicKey, notBefore });
    if (r.status !== 'issued') throw new Error(r.reason);
    expect(r.certificate.keyPem).toBeUndefined();
    expect(r.certificate.notBefore).toEqual(notBefore);
    expect(r.certificate.notAfter).toEqual(new Date('2023-07-17T03:00:00Z'));
    expect(r.certificate.ct?.sctTimestamp).toBe(notBefore.getTime() + 3_600_000);
    const spki = own.publicKey.export({ type: 'spki', format: 'der' });
    expect(
      new X509Certificate(r.certificate.der).publicKey.export({ type: 'spki', format: 'der' }).equals(spki),
    ).toBe(true);
  });

  it('issues without a log: no SCT, nothing logged', async () => {
    const plain = new LabAcmeCa({
      issuerDomain: 'ca.lab',
      directoryUrl: 'https://ca.lab/acme/directory',
      engine,
      resolver: dns.resolver(),
      http01: { port: victimHttp.port },
    });
    const acct = plain.newAccount('v');
    const r = await plain.order({
      accountUri: acct.uri,
      names: [NAME],
      method: 'http-01',
      solver: victimHttp,
    });
    if (r.status !== 'issued') throw new Error(r.reason);
    expect(r.certificate.ct).toBeUndefined();
    expect(summarizeCertificate(r.certificate.der).hasEmbeddedScts).toBe(false);
  });

  describe('CAA (RFC 8659, RFC 8657)', () => {
    it('refuses another account when accounturi binds the victim’s, and issues to the victim', async () => {
      dns.caa.set(NAME, [
        { tag: 'issue', value: `ca.lab; accounturi=${victim.uri}; validationmethods=http-01` },
      ]);
      // The attacker in the path answers the challenge: validation succeeds, CAA still refuses.
      const before = log.size;
      const r = await order(attacker);
      expect(r).toMatchObject({ status: 'refused', stage: 'caa', validationSucceeded: true });
      if (r.status !== 'refused') return;
      expect(r.caa.map((c) => c.reason)).toEqual(['account-uri-mismatch', 'account-uri-mismatch']);
      expect(r.reason).toMatch(/^CAA forbids issuance for jabber\.lab: /);
      expect(r.iodef).toEqual([]);
      expect(log.size).toBe(before);
      expect(ca.orders.at(-1)).toMatchObject({ status: 'refused', stage: 'caa', accountLabel: 'attacker' });
      expect((await order(victim)).status).toBe('issued');
    });

    it('refuses a validation method the records do not allow', async () => {
      dns.caa.set(NAME, [
        { tag: 'issue', value: `ca.lab; accounturi=${victim.uri}; validationmethods=dns-01` },
      ]);
      const r = await order(victim);
      expect(r).toMatchObject({ status: 'refused', stage: 'caa' });
      expect(r.caa[0]?.reason).toBe('validation-method-not-allowed');
    });

    it('refuses when the CA is not listed, and names the iodef URL to report to', async () => {
      dns.caa.set(NAME, [
        { tag: 'issue', value: 'letsencrypt.org' },
        { tag: 'iodef', value: 'https://iodef.jabber.lab/report' },
      ]);
      const r = await order(victim);
      expect(r.caa[0]?.reason).toBe('issuer-not-authorized');
      expect(r).toMatchObject({ status: 'refused', iodef: ['https://iodef.jabber.lab/report'] });
    });

    it('issues to anyone under a plain issue "ca.lab" (the 2023 situation)', async () => {
      dns.caa.set(NAME, [{ tag: 'issue', value: 'ca.lab' }]);
      const r = await order(attacker);
      expect(r.status).toBe('issued');
      expect(r.caa[0]?.reason).toBe('authorized');
    });

    it('fails closed on SERVFAIL', async () => {
      dns.servfail.add(`${NAME}/CAA`);
      const r = await order(victim);
      expect(r).toMatchObject({ status: 'refused', stage: 'caa', validationSucceeded: true });
      expect(r.caa[0]).toMatchObject({ decision: 'error', reason: 'dns-servfail' });
      expect(r.status === 'refused' && r.reason).toMatch(/CAA could not be checked for jabber\.lab/);
      expect(log.size).toBe(0);
    });

    it('fails closed when the resolver gets no answer', async () => {
      ca = new LabAcmeCa({
        issuerDomain: 'ca.lab',
        directoryUrl: 'https://ca.lab/acme/directory',
        engine,
        log,
        resolver: dns.resolver(300),
        http01: { port: victimHttp.port },
      });
      const acct = ca.newAccount('v');
      dns.silent.add(`${NAME}/CAA`);
      const r = await ca.order({
        accountUri: acct.uri,
        names: [NAME],
        method: 'http-01',
        solver: victimHttp,
      });
      expect(r).toMatchObject({ status: 'refused', stage: 'caa' });
      expect(r.caa[0]).toMatchObject({ decision: 'error', reason: 'dns-timeout' });
      expect(log.size).toBe(0);
    });

    it('fails closed when the resolver itself fails', async () => {
      const broken = new LabAcmeCa({
        issuerDomain: 'ca.lab',
        directoryUrl: 'https://ca.lab/acme/directory',
        engine,
        log,
        resolver: {
          query: () => Promise.reject(Object.assign(new Error('network down'), { code: 'DNS_NETWORK' })),
        },
        validator: { validate: async (c) => ({ name: c.name, ok: true, detail: 'stub' }) },
      });
      const acct = broken.newAccount('v');
      const r = await broken.order({ accountUri: acct.uri, names: [NAME], method: 'http-01' });
      expect(r).toMatchObject({ status: 'refused', stage: 'caa', validationSucceeded: true });
      expect(r.caa[0]?.decision).toBe('error');
      expect(log.size).toBe(0);
    });
  });

  describe('validation', () => {
    it('refuses when nobody answers the challenge (404)', async () => {
      const r = await order(victim, { solver: undefined });
      expect(r).toMatchObject({ status: 'refused', stage: 'validation', validationSucceeded: false });
      expect(r.status === 'refused' && r.reason).toMatch(
        /http-01 validation failed for jabber\.lab: .*HTTP status 404/,
      );
      expect(log.size).toBe(0);
    });

    it('refuses methods the lab CA does not validate', async () => {
      const r = await order(victim, { method: 'dns-01' });
      expect(r).toMatchObject({ status: 'refused', stage: 'validation' });
      expect(r.validation[0]?.detail).toBe('the lab CA does not validate dns-01');
    });

    it('uses a validator it is given', async () => {
      const custom = new LabAcmeCa({
        issuerDomain: 'ca.lab',
        directoryUrl: 'https://ca.lab/acme/directory',
        engine,
        resolver: dns.resolver(),
        validator: { validate: async (c) => ({ name: c.name, ok: c.method === 'dns-01', detail: 'stub' }) },
      });
      const acct = custom.newAccount('v');
      const r = await custom.order({ accountUri: acct.uri, names: ['*.jabber.lab'], method: 'dns-01' });
      expect(r.status).toBe('issued');
      expect(r.status === 'issued' && r.certificate.names).toEqual(['*.jabber.lab']);
    });

    it('throws LAB_INVALID_REQUEST for an unknown account or a name that is not one', async () => {
      await expect(
        ca.order({ accountUri: 'https://ca.lab/acme/acct/99', names: [NAME], method: 'http-01' }),
      ).rejects.toMatchObject({
        code: 'LAB_INVALID_REQUEST',
      });
      await expect(order(victim, { names: ['bad name!'] })).rejects.toBeInstanceOf(LabError);
      await expect(order(victim, { names: [] })).rejects.toBeInstanceOf(LabError);
    });
  });
});
