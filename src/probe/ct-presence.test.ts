/**
 * CT presence against real local services: the CT log fixture (test/fixtures/ct-log, written
 * independently of src/) serving one tree over RFC 6962 and static-ct-api, the crt.sh and Cert
 * Spotter stand-ins (test/fixtures/ct-apis), and a real SQLite store. SCT checks are built the way
 * the endpoint check builds them: leaf hash from `leafHashForSct(sct, signedEntryForChain(…))`,
 * leaf index from the SCT's extensions.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCertSpotterServer } from '../../test/fixtures/ct-apis/certspotter.js';
import { startCrtShServer } from '../../test/fixtures/ct-apis/crtsh.js';
import { OID, tbsWithoutExtension } from '../../test/fixtures/ct-log/index.js';
import {
  appendBulk,
  buildLogList,
  startCtLogServer,
  TestCa,
  TestLog,
} from '../../test/fixtures/ct-log/index.js';
import type {
  AddedPrecertificate,
  CtLogServer,
  IssuedCertificate,
} from '../../test/fixtures/ct-log/index.js';
import { parseLogList } from '../ct/loglist.js';
import { embeddedScts, leafHashForSct, signedEntryForChain } from '../ct/sct-entry.js';
import { parseSct } from '../ct/sct.js';
import type { Sct } from '../ct/sct.js';
import type { LogInfo } from '../ct/types.js';
import { openStore } from '../store/index.js';
import type { Store } from '../store/index.js';
import { batch, issuance, treeOf } from '../store/store.fixture.js';
import { lookupCtPresence, lookupStore } from './ct-presence.js';
import { certSpotterName, lookupCertSpotter, lookupCrtSh, matchIssuance } from './ct-presence-apis.js';
import { certificateHashes } from './ct-presence-lookup.js';
import { planProofs } from './ct-presence-plan.js';
import { pendingReason, proveInclusionRfc6962, proveInclusionStatic } from './ct-presence-proof.js';
import { sctLeafIndex } from './scts.js';
import type { SctCheck } from './types.js';

const TIMEOUT = 5_000;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

let ca: TestCa;
let log: TestLog;
let server: CtLogServer;
let rfcLog: LogInfo;
let staticLog: LogInfo;
let logs: LogInfo[];
/** Precertificate logged, its final certificate (with the embedded SCT) logged too. */
let pre: AddedPrecertificate;
/** The x509_entry SCT of the final certificate (as a TLS extension would deliver it). */
let finalSct: Sct;
let finalIndex: number;
/** Never logged. */
let absent: IssuedCertificate;
/** Sequenced after the last published tree head: promised, not yet incorporated. */
let pending: AddedPrecertificate;

const issuerOf = (): Uint8Array => ca.certificate;

/** The SctCheck the endpoint check would build for `sct` on `leaf`. */
function sctCheck(
  sct: Sct,
  leaf: Uint8Array,
  embedded: boolean,
  kind: 'rfc6962' | 'static-ct-api',
): SctCheck {
  const target = kind === 'rfc6962' ? rfcLog : staticLog;
  const leafIndex = sctLeafIndex(sct.extensions);
  return {
    source: embedded ? 'embedded' : 'tls-extension',
    logId: Buffer.from(sct.logId).toString('base64'),
    logName: target.description,
    operator: target.operator,
    logState: target.state,
    logKind: kind,
    logUrl: target.url,
    timestamp: sct.timestamp,
    status: 'valid',
    ...(leafIndex === null ? {} : { leafIndex }),
    leafHash: hex(leafHashForSct(sct, signedEntryForChain(leaf, issuerOf(), embedded))),
  };
}

const embeddedSct = (der: Uint8Array): Sct => {
  const [sct] = embeddedScts(der);
  if (sct === undefined) throw new Error('no embedded SCT');
  return sct;
};

beforeAll(async () => {
  ca = await TestCa.create();
  log = new TestLog({ name: 'certvigil ct-presence test log', staticCtApi: true });
  appendBulk(log, ca, { count: 300, distinct: 20 }); // entries before ours: a level-1 tile, partial tiles
  pre = log.addPrecertificate(ca, { dnsNames: ['www.present.test', 'present.test'] });
  const added = log.addCertificate(pre.finalCert);
  finalSct = parseSct(added.sct.serialized);
  finalIndex = added.index;
  appendBulk(log, ca, { count: 470, distinct: 20 });
  log.publish();
  absent = ca.issue({ dnsNames: ['absent.present.test'] });
  pending = log.addPrecertificate(ca, { dnsNames: ['later.present.test'] }); // not published
  server = await startCtLogServer(log, { rfc6962Prefix: '/logs/test/', staticPrefix: '/static/' });
  logs = parseLogList(
    buildLogList([
      { server, api: 'rfc6962' },
      { server, api: 'static' },
    ]),
  ).logs;
  rfcLog = logs.find((l) => l.kind === 'rfc6962') as LogInfo;
  staticLog = logs.find((l) => l.kind === 'static-ct-api') as LogInfo;
}, 60_000);

afterAll(async () => {
  await server?.close();
});

afterEach(() => {
  server.faults.reset();
});

describe('sctLeafIndex', () => {
  it('reads the static-ct-api leaf_index and refuses what is not one', () => {
    expect(sctLeafIndex(embeddedSct(pre.finalCert.der).extensions)).toBe(pre.index);
    expect(sctLeafIndex(finalSct.extensions)).toBe(finalIndex);
    expect(sctLeafIndex(new Uint8Array(0))).toBeNull();
    expect(sctLeafIndex(new Uint8Array([0, 0, 3, 1, 2, 3]))).toBeNull(); // 3 bytes, not a uint40
    expect(sctLeafIndex(new Uint8Array([0, 0, 5, 1]))).toBeNull(); // truncated
    expect(sctLeafIndex(new Uint8Array([7, 0, 1, 9]))).toBeNull(); // another extension only
    expect(sctLeafIndex(new Uint8Array([0, 0, 5, 0, 0, 1, 0, 1]))).toBe(65_537);
  });
});

describe('certificate hashes and leaf hashes', () => {
  it('tbsSha256 of the final certificate is the TBS the precertificate entry logged', () => {
    const { certSha256, tbsSha256 } = certificateHashes(pre.finalCert.der);
    expect(certSha256).toBe(pre.finalCert.sha256);
    // Independent computation with the fixture's DER code: the precertificate TBS minus the poison.
    expect(tbsSha256).toBe(sha256Hex(tbsWithoutExtension(pre.precert.tbs, OID.ctPoison)));
    expect(certificateHashes(pre.precert.der).tbsSha256).toBe(tbsSha256);
  });

  it('the SCT checks carry the leaf hashes the log stored', () => {
    const c = sctCheck(embeddedSct(pre.finalCert.der), pre.finalCert.der, true, 'rfc6962');
    expect(c.leafHash).toBe(hex(pre.leafHash));
    expect(sctCheck(finalSct, pre.finalCert.der, false, 'static-ct-api').leafHash).toBe(
      hex(log.tree.leafHash(finalIndex)),
    );
  });
});

describe('proveInclusionRfc6962', () => {
  it('proves the precertificate entry and the final certificate entry', async () => {
    const c = sctCheck(embeddedSct(pre.finalCert.der), pre.finalCert.der, true, 'rfc6962');
    const r = await proveInclusionRfc6962(rfcLog, bytes(c.leafHash), { timeoutMs: TIMEOUT });
    expect(r).toMatchObject({ kind: 'inclusion-proof', where: rfcLog.url, status: 'found' });
    expect(r.detail).toContain(`leaf ${pre.index} of the tree of size ${log.sth.treeSize}`);
    const x = sctCheck(finalSct, pre.finalCert.der, false, 'rfc6962');
    const r2 = await proveInclusionRfc6962(rfcLog, bytes(x.leafHash), { timeoutMs: TIMEOUT });
    expect(r2.status).toBe('found');
    expect(r2.detail).toContain(`leaf ${finalIndex} `);
  });

  it('reports a certificate that was never logged as not-found', async () => {
    const fake = { ...finalSct, timestamp: log.sth.timestamp - 3_600_000 };
    const leaf = leafHashForSct(fake, signedEntryForChain(absent.der, issuerOf(), false));
    const r = await proveInclusionRfc6962(rfcLog, leaf, { timeoutMs: TIMEOUT, sctTimestamp: fake.timestamp });
    expect(r.status).toBe('not-found');
    expect(r.detail).toMatch(/HTTP 40[04]/);
    expect(r.detail).toMatch(/not yet incorporated: the log has until/); // within the MMD of a day
  });

  it('reports an entry sequenced after the tree head as not yet incorporated', async () => {
    const c = sctCheck(embeddedSct(pending.finalCert.der), pending.finalCert.der, true, 'rfc6962');
    const r = await proveInclusionRfc6962(rfcLog, bytes(c.leafHash), {
      timeoutMs: TIMEOUT,
      sctTimestamp: c.timestamp,
    });
    expect(r.status).toBe('not-found');
    expect(r.detail).toContain('not yet incorporated');
  });

  it('refuses a tree head whose signature does not verify', async () => {
    server.faults.badSthSignature = true;
    const proofsBefore = server.count('get-proof-by-hash');
    const r = await proveInclusionRfc6962(rfcLog, pre.leafHash, { timeoutMs: TIMEOUT });
    expect(r.status).toBe('error');
    expect(r.detail).toMatch(/tree head signature does not verify/);
    expect(server.count('get-proof-by-hash')).toBe(proofsBefore);
  });

  it('turns a slow log into an error within the deadline', async () => {
    server.faults.delayMs = 3_000;
    const started = Date.now();
    const r = await proveInclusionRfc6962(rfcLog, pre.leafHash, { timeoutMs: 300 });
    expect(r).toMatchObject({ status: 'error', detail: 'no answer within 300 ms' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('turns a failing log into an error after its retries', async () => {
    server.faults.next5xx(10, 503, 'get-sth');
    const r = await proveInclusionRfc6962(rfcLog, pre.leafHash, { timeoutMs: TIMEOUT });
    expect(r.status).toBe('error');
    expect(r.detail).toMatch(/HTTP 503/);
  });
});

describe('proveInclusionStatic', () => {
  it('proves entries from the hash tiles, for both entry kinds', async () => {
    const c = sctCheck(embeddedSct(pre.finalCert.der), pre.finalCert.der, true, 'static-ct-api');
    expect(c.leafIndex).toBe(pre.index);
    const r = await proveInclusionStatic(staticLog, c.leafIndex as number, bytes(c.leafHash), {
      timeoutMs: TIMEOUT,
    });
    expect(r).toMatchObject({ kind: 'inclusion-proof', where: staticLog.url, status: 'found' });
    expect(r.detail).toContain(`leaf ${pre.index} of the tree of size ${log.sth.treeSize}`);
    const x = sctCheck(finalSct, pre.finalCert.der, false, 'static-ct-api');
    const r2 = await proveInclusionStatic(staticLog, finalIndex, bytes(x.leafHash), { timeoutMs: TIMEOUT });
    expect(r2.status).toBe('found');
    // Only the checkpoint and hash tiles were read: no data tiles, no RFC 6962 endpoint.
    expect(server.requests.some((q) => q.endpoint === 'data-tile')).toBe(false);
  });

  it('proves the last leaf and the first leaf (partial tiles at both levels)', async () => {
    for (const i of [0, log.sth.treeSize - 1, 255, 256]) {
      const r = await proveInclusionStatic(staticLog, i, log.tree.leafHash(i), { timeoutMs: TIMEOUT });
      expect(r.status, `leaf ${i}: ${r.detail}`).toBe('found');
    }
  });

  it('reports another entry at the SCT index as not-found', async () => {
    const leaf = leafHashForSct(finalSct, signedEntryForChain(absent.der, issuerOf(), false));
    const r = await proveInclusionStatic(staticLog, 5, leaf, { timeoutMs: TIMEOUT });
    expect(r.status).toBe('not-found');
    expect(r.detail).toMatch(/leaf 5 of the tree .* is another entry/);
  });

  it('reports an index beyond the checkpoint as not yet incorporated', async () => {
    const c = sctCheck(embeddedSct(pending.finalCert.der), pending.finalCert.der, true, 'static-ct-api');
    expect(c.leafIndex).toBe(log.sth.treeSize);
    const r = await proveInclusionStatic(staticLog, c.leafIndex as number, bytes(c.leafHash), {
      timeoutMs: TIMEOUT,
      sctTimestamp: c.timestamp,
    });
    expect(r.status).toBe('not-found');
    expect(r.detail).toMatch(/not yet incorporated: the checkpoint of .* covers \d+ entries/);
  });

  it('refuses a checkpoint whose signature does not verify', async () => {
    server.faults.badSthSignature = true;
    const r = await proveInclusionStatic(staticLog, pre.index, pre.leafHash, { timeoutMs: TIMEOUT });
    expect(r.status).toBe('error');
    expect(r.detail).toMatch(/checkpoint does not verify/);
  });

  it('reports tiles that do not lead to the checkpoint root as an error', async () => {
    // Truncated tiles fail their length check; a forged tree head with a valid signature over a
    // different root makes every honest tile wrong instead.
    server.faults.sthOverride = log.signTreeHead(log.sth.treeSize, log.sth.timestamp, Buffer.alloc(32, 7));
    const r = await proveInclusionStatic(staticLog, pre.index, pre.leafHash, { timeoutMs: TIMEOUT });
    expect(r.status).toBe('error');
    expect(r.detail).toMatch(/do not lead to the checkpoint root/);
  });
});

describe('third-party indexes', () => {
  it('crt.sh: found, not found, 500, garbage, slow', async () => {
    const crtsh = await startCrtShServer([
      { ...pre.finalCert, entryTimestamp: new Date('2026-01-02T03:04:05.678Z') },
    ]);
    try {
      const ok = await lookupCrtSh(crtsh.url, pre.finalCert.sha256.toUpperCase(), { timeoutMs: TIMEOUT });
      expect(ok).toMatchObject({ kind: 'crtsh', where: crtsh.url, status: 'found' });
      expect(ok.detail).toMatch(/^crt.sh id \d+, logged 2026-01-02T03:04:05.678Z$/);
      expect(crtsh.requests.at(-1)).toBe(`/?q=${pre.finalCert.sha256}&output=json`);
      const no = await lookupCrtSh(crtsh.url, absent.sha256, { timeoutMs: TIMEOUT });
      expect(no.status).toBe('not-found');
      crtsh.faults.status = 500;
      const e500 = await lookupCrtSh(crtsh.url, absent.sha256, { timeoutMs: TIMEOUT });
      expect(e500.status).toBe('error');
      expect(e500.detail).toMatch(/HTTP 500/);
      crtsh.faults.status = undefined;
      crtsh.faults.garbage = true;
      expect((await lookupCrtSh(crtsh.url, absent.sha256, { timeoutMs: TIMEOUT })).detail).toMatch(
        /not JSON/,
      );
      crtsh.faults.garbage = false;
      crtsh.faults.delayMs = 2_000;
      const slow = await lookupCrtSh(`${crtsh.url}/`, absent.sha256, { timeoutMs: 200 });
      expect(slow).toMatchObject({ status: 'error', detail: 'no answer within 200 ms' });
    } finally {
      await crtsh.close();
    }
  });

  it('Cert Spotter: by certificate hash, by TBS hash (precertificate only), paging, errors, API key', async () => {
    const hashes = certificateHashes(pre.finalCert.der);
    const other = ca.issue({ dnsNames: ['www.present.test'] });
    const cs = await startCertSpotterServer(
      [
        { ...other, tbsSha256: certificateHashes(other.der).tbsSha256 },
        { ...pre.precert, tbsSha256: hashes.tbsSha256 },
      ],
      { apiKey: 'sekret', pageSize: 1 },
    );
    try {
      const byTbs = await lookupCertSpotter(cs.url, 'www.present.test', hashes, {
        timeoutMs: TIMEOUT,
        apiKey: 'sekret',
      });
      expect(byTbs).toMatchObject({ kind: 'certspotter', status: 'found' });
      expect(byTbs.detail).toMatch(/same TBS SHA-256/);
      // Two pages of one issuance each, the second found with `after`.
      expect(cs.requests.map((r) => r.path)).toEqual([
        '/v1/issuances?domain=www.present.test&include_subdomains=false&expand=dns_names',
        '/v1/issuances?domain=www.present.test&include_subdomains=false&expand=dns_names&after=3958735000',
      ]);
      expect(cs.requests[0]?.authorization).toBe('Bearer sekret');
      cs.add({ ...pre.finalCert, tbsSha256: hashes.tbsSha256 });
      const none = await lookupCertSpotter(cs.url, 'present.test', hashes, {
        timeoutMs: TIMEOUT,
        apiKey: 'sekret',
      });
      expect(none.status).toBe('found'); // the final certificate names present.test too
      const missing = await lookupCertSpotter(cs.url, 'absent.present.test', hashes, {
        timeoutMs: TIMEOUT,
        apiKey: 'sekret',
      });
      expect(missing).toMatchObject({ status: 'not-found' });
      expect(missing.detail).toMatch(/none of the 0 issuance/);
      const noKey = await lookupCertSpotter(cs.url, 'www.present.test', hashes, { timeoutMs: TIMEOUT });
      expect(noKey.status).toBe('error');
      expect(noKey.detail).toMatch(/HTTP 401.*unauthorized/);
      cs.faults.status = 500;
      const e500 = await lookupCertSpotter(cs.url, 'www.present.test', hashes, {
        timeoutMs: TIMEOUT,
        apiKey: 'sekret',
      });
      expect(e500.detail).toMatch(/HTTP 500/);
      cs.faults.status = undefined;
      cs.faults.garbage = true;
      const junk = await lookupCertSpotter(cs.url, 'www.present.test', hashes, {
        timeoutMs: TIMEOUT,
        apiKey: 'sekret',
      });
      expect(junk).toMatchObject({ status: 'error' });
      expect(junk.detail).toMatch(/not JSON/);
    } finally {
      await cs.close();
    }
  });

  it('Cert Spotter: a certificate found by its own hash, and a wildcard name asked at its parent', async () => {
    const wild = ca.issue({ dnsNames: ['*.wild.test'] });
    const hashes = certificateHashes(wild.der);
    const cs = await startCertSpotterServer([{ ...wild, tbsSha256: hashes.tbsSha256 }]);
    try {
      const r = await lookupCertSpotter(cs.url, '*.wild.test', hashes, { timeoutMs: TIMEOUT });
      expect(r.detail).toMatch(/same certificate SHA-256/);
      expect(cs.requests[0]?.path).toBe(
        '/v1/issuances?domain=wild.test&include_subdomains=true&expand=dns_names',
      );
      expect(cs.requests[0]?.authorization).toBeUndefined();
    } finally {
      await cs.close();
    }
  });
});

describe('lookupStore (SQLite)', () => {
  let dir: string;
  let store: Store;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certvigil-ct-presence-'));
    store = await openStore({ stateDir: dir });
    await store.migrate();
  });
  afterAll(async () => {
    await store?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('finds an issuance the monitor saw (precertificate entry: same TBS hash) and nothing else', async () => {
    const hashes = certificateHashes(pre.finalCert.der);
    const logId = rfcLog.logId;
    await store.ensureCursor({
      logId,
      url: rfcLog.url,
      kind: 'rfc6962',
      description: rfcLog.description,
      position: 0,
      tree: treeOf(0),
    });
    await store.commitBatch(
      batch(logId, 0, pre.index + 1, {
        issuances: [
          issuance({
            index: pre.index,
            logId,
            type: 'precert',
            tbsSha256: hashes.tbsSha256,
            certSha256: pre.precert.sha256,
          }),
        ],
      }),
    );
    const r = await lookupStore(store, hashes);
    expect(r).toMatchObject({ kind: 'store', where: 'sqlite', status: 'found' });
    expect(r.detail).toContain(`precert #${pre.index} in log ${logId}`);
    const no = await lookupStore(store, certificateHashes(absent.der));
    expect(no.status).toBe('not-found');
  });

  it('reports a failing store as an error', async () => {
    const broken = {
      kind: 'sqlite',
      findIssuances: () => Promise.reject(new Error('disk on fire')),
    } as unknown as Store;
    expect(await lookupStore(broken, certificateHashes(absent.der))).toMatchObject({
      status: 'error',
      detail: 'disk on fire',
    });
  });
});

describe('lookupCtPresence', () => {
  it('stops at the first log that proves it, then asks the other sources', async () => {
    const crtsh = await startCrtShServer([]);
    try {
      const notHere = {
        ...sctCheck(finalSct, absent.der, false, 'rfc6962'),
        timestamp: log.sth.timestamp - 1,
      };
      const scts: SctCheck[] = [
        notHere,
        sctCheck(embeddedSct(pre.finalCert.der), pre.finalCert.der, true, 'static-ct-api'),
        sctCheck(embeddedSct(pre.finalCert.der), pre.finalCert.der, true, 'rfc6962'),
        { ...notHere, logId: 'AAAA', logKind: null, logUrl: null, status: 'unknown-log' },
      ];
      const hashes = certificateHashes(pre.finalCert.der);
      const result = await lookupCtPresence({
        logs,
        scts,
        ...hashes,
        dnsNames: ['www.present.test'],
        crtShUrl: crtsh.url,
        certSpotterUrl: null,
        timeoutMs: TIMEOUT,
      });
      expect(result.found).toBe(true);
      expect(result.sources.map((s) => [s.kind, s.where, s.status])).toEqual([
        ['inclusion-proof', rfcLog.url, 'not-found'],
        ['inclusion-proof', staticLog.url, 'found'],
        ['crtsh', crtsh.url, 'not-found'],
      ]);
    } finally {
      await crtsh.close();
    }
  });

  it('is not found when no source has it, and never throws for failing sources', async () => {
    server.faults.badSthSignature = true;
    const result = await lookupCtPresence({
      logs,
      scts: [sctCheck(embeddedSct(pre.finalCert.der), pre.finalCert.der, true, 'rfc6962')],
      ...certificateHashes(pre.finalCert.der),
      dnsNames: ['www.present.test'],
      crtShUrl: 'http://127.0.0.1:1',
      certSpotterUrl: 'http://127.0.0.1:1',
      timeoutMs: 2_000,
    });
    expect(result.found).toBe(false);
    expect(result.sources.map((s) => [s.kind, s.status])).toEqual([
      ['inclusion-proof', 'error'],
      ['crtsh', 'error'],
      ['certspotter', 'error'],
    ]);
  });

  it('honours the caller cancelling', async () => {
    server.faults.delayMs = 3_000;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const result = await lookupCtPresence({
      logs,
      scts: [sctCheck(embeddedSct(pre.finalCert.der), pre.finalCert.der, true, 'rfc6962')],
      ...certificateHashes(pre.finalCert.der),
      dnsNames: [],
      timeoutMs: TIMEOUT,
      signal: controller.signal,
    });
    expect(result.sources).toEqual([
      { kind: 'inclusion-proof', where: rfcLog.url, status: 'error', detail: 'cancelled' },
    ]);
  });
});

describe('pure decisions', () => {
  it('planProofs: known logs only, one per log and leaf, and why a proof cannot be tried', () => {
    const c = sctCheck(embeddedSct(pre.finalCert.der), pre.finalCert.der, true, 'static-ct-api');
    const noIndex: SctCheck = { ...c };
    delete noIndex.leafIndex;
    const plans = planProofs(logs, [
      { ...c, status: 'invalid' },
      c,
      c,
      noIndex,
      { ...c, logKind: 'rfc6962', logUrl: rfcLog.url, leafHash: 'zz' },
      { ...c, logKind: 'rfc6962', logUrl: 'https://elsewhere.example/', logId: 'nope' },
    ]);
    expect(plans.map((p) => p.kind)).toEqual(['static-ct-api', 'skip']);
    const skip = plans[1];
    expect(skip?.kind === 'skip' && skip.reason).toMatch(/not hex SHA-256/);
    const onlyNoIndex = planProofs(logs, [noIndex]);
    expect(onlyNoIndex[0]).toMatchObject({
      kind: 'skip',
      reason: expect.stringMatching(/no leaf_index/) as string,
    });
  });

  it('pendingReason distinguishes pending from overdue', () => {
    expect(pendingReason(86_400, 1_000, undefined)).toBeNull();
    expect(pendingReason(86_400, 1_000, 2_000)).toMatch(/newer than the tree head/);
    expect(pendingReason(86_400, 5_000, 2_000)).toMatch(/the log has until/);
    expect(pendingReason(1, 5_000, 2_000)).toMatch(/missing although the MMD/);
  });

  it('matchIssuance and certSpotterName', () => {
    const h = { certSha256: 'AA'.repeat(32), tbsSha256: 'bb'.repeat(32) };
    expect(matchIssuance([{ id: '1', cert_sha256: 'aa'.repeat(32) }], h)).toMatch(/issuance 1/);
    expect(matchIssuance([{ id: '2', tbs_sha256: 'BB'.repeat(32) }], h)).toMatch(/issuance 2 \(same TBS/);
    expect(matchIssuance([{ id: '3' }], h)).toBeNull();
    expect(certSpotterName(['*.a.test', 'b.test'])).toBe('b.test');
    expect(certSpotterName(['*.a.test'])).toBe('*.a.test');
    expect(certSpotterName([])).toBeUndefined();
  });
});
