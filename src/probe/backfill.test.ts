/**
 * `runBackfill` (issue 18) against the loopback stand-ins of crt.sh and the Cert Spotter API
 * (test/fixtures/ct-apis), with certificates from the lab CA: what is imported (each TBS hash once,
 * a precertificate and its certificate one issuance, the hash x509 computes as the monitor does),
 * paging, subdomains, --since, the bound on certificates, waits on 429 with Retry-After, and every
 * way a source can fail — a coded error, never a crash, and hostile text cleaned.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startCertSpotterServer } from '../../test/fixtures/ct-apis/certspotter.js';
import type { CertSpotterServer } from '../../test/fixtures/ct-apis/certspotter.js';
import { startCrtShServer } from '../../test/fixtures/ct-apis/crtsh.js';
import type { CrtShServer } from '../../test/fixtures/ct-apis/crtsh.js';
import { TestCa, TestLog } from '../../test/fixtures/ct-log/index.js';
import type { IssuedCertificate } from '../../test/fixtures/ct-log/index.js';
import type { ImportedIssuance, ImportResult } from '../store/index.js';
import { summarizeCertificate } from '../x509/index.js';
import { runBackfill } from './backfill.js';
import type { BackfillOptions } from './backfill.js';

const ca = await TestCa.create();
const DAY = 86_400_000;
const now = Date.now();
const www = ca.issue({ dnsNames: ['www.example.test', 'example.test'], notBefore: new Date(now - 40 * DAY) });
const mail = ca.issue({ dnsNames: ['mail.example.test'], notBefore: new Date(now - 10 * DAY) });
const deep = ca.issue({ dnsNames: ['a.b.example.test'], notBefore: new Date(now - 5 * DAY) });
const other = ca.issue({ dnsNames: ['www.other.test'] });
const pre = new TestLog({ name: 'unit' }).addPrecertificate(ca, {
  dnsNames: ['api.example.test'],
  notBefore: new Date(now - 2 * DAY),
});
const tbs = (der: Uint8Array): string => summarizeCertificate(der).tbsSha256;

class Importer {
  readonly calls: { source: string; records: ImportedIssuance[] }[] = [];
  readonly stored = new Set<string>();
  async importIssuances(source: string, records: readonly ImportedIssuance[]): Promise<ImportResult> {
    this.calls.push({ source, records: [...records] });
    let added = 0;
    for (const r of records) {
      if (this.stored.has(r.tbsSha256)) continue;
      this.stored.add(r.tbsSha256);
      added++;
    }
    return { added, known: records.length - added };
  }
  get records(): ImportedIssuance[] {
    return this.calls.flatMap((c) => c.records);
  }
}

const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function crtshCert(
  c: IssuedCertificate | { der: Buffer; dnsNames: string[]; notBefore: Date; notAfter: Date; serial: Buffer },
) {
  return { der: c.der, dnsNames: c.dnsNames, notBefore: c.notBefore, notAfter: c.notAfter, serial: c.serial };
}

async function crtsh(): Promise<CrtShServer> {
  const s = await startCrtShServer();
  servers.push(s);
  for (const c of [www, mail, deep, other, pre.finalCert]) s.add(crtshCert(c));
  s.add({ ...crtshCert(pre.finalCert), der: pre.precert.der });
  return s;
}

async function certspotter(options: { apiKey?: string; pageSize?: number } = {}): Promise<CertSpotterServer> {
  const s = await startCertSpotterServer([], options);
  servers.push(s);
  for (const c of [www, mail, deep, other])
    s.add({
      der: c.der,
      tbsSha256: tbs(c.der),
      dnsNames: c.dnsNames,
      notBefore: c.notBefore,
      notAfter: c.notAfter,
    });
  return s;
}

const waits: number[] = [];
const base = (over: Partial<BackfillOptions>): BackfillOptions => ({
  source: 'crtsh',
  domain: 'example.test',
  subdomains: false,
  baseUrl: 'http://127.0.0.1:1',
  since: null,
  timeoutMs: 10_000,
  sleep: async (ms) => void waits.push(ms),
  ...over,
});

describe('crt.sh', () => {
  it('imports each certificate of the name once, keyed by the TBS hash the monitor computes', async () => {
    const s = await crtsh();
    const store = new Importer();
    const summary = await runBackfill(base({ baseUrl: s.url }), store);
    expect(summary).toMatchObject({ source: 'backfill:crtsh', listed: 1, imported: 1, added: 1, known: 0 });
    expect(store.records).toEqual([
      expect.objectContaining({
        tbsSha256: tbs(www.der),
        certSha256: www.sha256,
        dnsNames: ['www.example.test', 'example.test'],
        serial: summarizeCertificate(www.der).serialHex,
      }),
    ]);
    expect(store.calls[0]?.source).toBe('backfill:crtsh');
  });

  it('with subdomains: the name and %.name; a precertificate and its certificate are one issuance', async () => {
    const s = await crtsh();
    const store = new Importer();
    const summary = await runBackfill(base({ baseUrl: s.url, subdomains: true }), store);
    expect(summary).toMatchObject({ listed: 5, imported: 4, added: 4 });
    expect(new Set(store.records.map((r) => r.tbsSha256))).toEqual(
      new Set([www, mail, deep].map((c) => tbs(c.der)).concat(tbs(pre.precert.der))),
    );
    expect(tbs(pre.precert.der)).toBe(tbs(pre.finalCert.der));
    expect(s.requests.filter((r) => r.startsWith('/?q='))).toEqual([
      '/?q=example.test&output=json',
      '/?q=%25.example.test&output=json',
    ]);
    // Again: nothing new.
    expect(await runBackfill(base({ baseUrl: s.url, subdomains: true }), store)).toMatchObject({
      added: 0,
      known: 4,
    });
  });

  it('--since leaves older certificates out before downloading them; the bound keeps the newest', async () => {
    const s = await crtsh();
    const since = new Date(now - 7 * DAY);
    const summary = await runBackfill(base({ baseUrl: s.url, subdomains: true, since }), new Importer());
    expect(summary).toMatchObject({ listed: 5, beforeSince: 2, imported: 2, since: since.toISOString() });
    expect(s.requests.filter((r) => r.startsWith('/?d=')).length).toBe(3);
    const store = new Importer();
    const bounded = await runBackfill(base({ baseUrl: s.url, subdomains: true, maxCertificates: 1 }), store);
    expect(bounded).toMatchObject({ truncated: 4, imported: 1 });
    expect(store.records[0]?.dnsNames).toEqual(['api.example.test']);
  });

  it('waits out a 429 burst (Retry-After), then gives up after the bounded attempts', async () => {
    const s = await crtsh();
    waits.length = 0;
    s.faults.failNext = { status: 429, count: 2, retryAfter: '3' };
    const summary = await runBackfill(base({ baseUrl: s.url }), new Importer());
    expect(summary).toMatchObject({ imported: 1, retries: 2 });
    expect(waits).toEqual([3000, 3000]);
    s.faults.failNext = { status: 429, count: 10 };
    await expect(runBackfill(base({ baseUrl: s.url, maxAttempts: 3 }), new Importer())).rejects.toMatchObject(
      {
        code: 'CT_RATE_LIMITED',
      },
    );
    s.faults.failNext = { status: 429, count: 1, retryAfter: '86400' };
    await expect(runBackfill(base({ baseUrl: s.url }), new Importer())).rejects.toThrow(
      /asked to wait 86400 s/,
    );
  });

  it.each([
    ['an HTML error page (502)', (s: CrtShServer) => void (s.faults.status = 502), 'CT_HTTP'],
    ['garbage', (s: CrtShServer) => void (s.faults.garbage = true), 'CT_BAD_RESPONSE'],
    [
      'HTML with status 200',
      (s: CrtShServer) => void (s.faults.body = { contentType: 'text/html', text: '<html>busy</html>' }),
      'CT_BAD_RESPONSE',
    ],
    [
      'an object of the wrong type',
      (s: CrtShServer) => void (s.faults.body = { contentType: 'application/json', text: '{"id": 1}' }),
      'CT_BAD_RESPONSE',
    ],
  ])('fails with a coded error on %s, importing nothing', async (_, fault, code) => {
    const s = await crtsh();
    fault(s);
    const store = new Importer();
    const err = (await runBackfill(base({ baseUrl: s.url }), store).catch((e: unknown) => e)) as {
      code: string;
      message: string;
    };
    expect(err.code).toBe(code);
    expect(err.message).not.toMatch(/[\n\r]/);
    expect(store.calls).toEqual([]);
  });

  it('counts a certificate that does not parse, is missing or is too large, and imports the rest', async () => {
    const s = await crtsh();
    s.add(crtshCert(ca.issue({ dnsNames: ['junk.example.test'] })), { badDer: true });
    s.add({ ...crtshCert(www), der: Buffer.alloc(100_000, 0x30), dnsNames: ['big.example.test'] });
    const summary = await runBackfill(base({ baseUrl: s.url, subdomains: true }), new Importer());
    expect(summary).toMatchObject({ listed: 7, unreadable: 2, imported: 4 });
  });

  it('refuses a connection that fails (CT_NETWORK), without a stack', async () => {
    await expect(runBackfill(base({ baseUrl: 'http://127.0.0.1:1' }), new Importer())).rejects.toMatchObject({
      code: 'CT_NETWORK',
    });
  });
});

describe('Cert Spotter API v1', () => {
  it('pages with after, sends the key, expands names, issuer and DER; subdomains on request', async () => {
    const s = await certspotter({ apiKey: 'k3y', pageSize: 1 });
    const store = new Importer();
    const one = await runBackfill(base({ source: 'certspotter', baseUrl: s.url, apiKey: 'k3y' }), store);
    expect(one).toMatchObject({ source: 'backfill:certspotter', listed: 1, imported: 1 });
    const all = await runBackfill(
      base({ source: 'certspotter', baseUrl: s.url, apiKey: 'k3y', subdomains: true }),
      store,
    );
    expect(all).toMatchObject({ listed: 3, imported: 3, added: 2, known: 1, requests: 4 });
    expect(s.requests.every((r) => r.authorization === 'Bearer k3y')).toBe(true);
    expect(s.requests.map((r) => new URL(r.path, 'http://x').searchParams.get('after'))).toEqual([
      null,
      '3958735000',
      null,
      '3958735000',
      '3958735001',
      '3958735002',
    ]);
    expect(store.records.find((r) => r.tbsSha256 === tbs(deep.der))).toMatchObject({
      serial: summarizeCertificate(deep.der).serialHex,
      keyType: summarizeCertificate(deep.der).keyType,
      certSha256: deep.sha256,
    });
  });

  it('401 is one line that names the key; 429 with Retry-After is waited out', async () => {
    const s = await certspotter({ apiKey: 'k3y' });
    await expect(
      runBackfill(base({ source: 'certspotter', baseUrl: s.url, apiKey: 'wrong' }), new Importer()),
    ).rejects.toThrow(/HTTP 401.*CERTSPOTTER_API_KEY/);
    waits.length = 0;
    s.faults.failNext = { status: 429, count: 1, retryAfter: '1' };
    const summary = await runBackfill(
      base({ source: 'certspotter', baseUrl: s.url, apiKey: 'k3y' }),
      new Importer(),
    );
    expect(summary).toMatchObject({ imported: 1, retries: 1 });
    expect(waits).toEqual([1000]);
  });

  it('--since, and the API fields (cleaned) when cert_der does not parse', async () => {
    const s = await certspotter();
    s.add({
      der: Buffer.from('not DER'),
      tbsSha256: 'ab'.repeat(32),
      dnsNames: ['evil\u202e.example.test'],
      notBefore: new Date(now),
      notAfter: new Date(now + DAY),
      issuerName: 'CN=Bad \u001b[2J CA',
    });
    const store = new Importer();
    const summary = await runBackfill(
      base({ source: 'certspotter', baseUrl: s.url, subdomains: true, since: new Date(now - 7 * DAY) }),
      store,
    );
    expect(summary).toMatchObject({ listed: 4, beforeSince: 2, imported: 2 });
    const fallback = store.records.find((r) => r.tbsSha256 === 'ab'.repeat(32));
    expect(fallback).toMatchObject({ serial: '', keyType: '', spkiSha256: '0'.repeat(64) });
    expect(fallback?.issuer).not.toContain('\u001b');
    expect(fallback?.dnsNames.join()).not.toMatch(/\u202e/);
  });

  it.each([
    ['garbage', (s: CertSpotterServer) => void (s.faults.garbage = true), 'CT_BAD_RESPONSE'],
    ['a 500 JSON error', (s: CertSpotterServer) => void (s.faults.status = 500), 'CT_HTTP'],
    [
      'a body past 16 MiB',
      (s: CertSpotterServer) =>
        void (s.faults.body = { contentType: 'application/json', text: `[${' '.repeat(17 * 1024 * 1024)}]` }),
      'CT_BODY_TOO_LARGE',
    ],
    [
      'wrong types everywhere',
      (s: CertSpotterServer) =>
        void (s.faults.body = { contentType: 'application/json', text: '{"issuances": [1, 2, 3]}' }),
      'CT_BAD_RESPONSE',
    ],
  ])('fails with a coded error on %s', async (_, fault, code) => {
    const s = await certspotter();
    fault(s);
    await expect(
      runBackfill(base({ source: 'certspotter', baseUrl: s.url }), new Importer()),
    ).rejects.toMatchObject({
      code,
    });
  });

  it('members of the wrong shape are counted; a page that repeats itself ends the paging', async () => {
    const s = await certspotter();
    s.faults.body = {
      contentType: 'application/json',
      text: JSON.stringify([{ id: 7, tbs_sha256: 'x' }, 'junk', { id: '8', tbs_sha256: 'ab'.repeat(32) }]),
    };
    const summary = await runBackfill(base({ source: 'certspotter', baseUrl: s.url }), new Importer());
    // The stand-in answers the same page to `after=8`: paging stops when `after` does not move.
    expect(summary).toMatchObject({ invalid: 6, imported: 0, requests: 2 });
  });
});
