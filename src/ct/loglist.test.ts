/**
 * Log lists: every snapshot in test/vectors/data (Google all-logs and Chrome, Apple), ctgo's
 * loglist3.json and sunlight's log.v3.json, with the counts their READMEs state; Google's detached
 * signature over both lists; and loading from disk and from a loopback HTTP server (never the
 * network).
 */
import crypto from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_LOG_LIST_URL,
  findLog,
  GOOGLE_LOG_LIST_PUBLIC_KEY_PEM,
  loadLogList,
  parseLogEntry,
  parseLogList,
  verifyLogListSignature,
} from './loglist.js';
import type { LogInfo, LogKind, LogState } from './types.js';

const DATA = join(import.meta.dirname, '../../test/vectors/data');
const CTGO_LIST = join(import.meta.dirname, '../../test/vectors/ct/ctgo/testdata/loglist3.json');
const SUNLIGHT_ENTRY = join(
  import.meta.dirname,
  '../../test/vectors/ct/sunlight/cmd/skylight/testdata/tree/log.v3.json',
);
const GOOGLE_ALL = join(DATA, 'loglist-google-v3.json');
const GOOGLE_CHROME = join(DATA, 'loglist-google-v3-chrome.json');
const APPLE = join(DATA, 'loglist-apple.json');
const PUBKEY = readFileSync(join(DATA, 'loglist-google-pubkey.pem'), 'utf8');

const read = (path: string): Buffer => readFileSync(path);

function stateCounts(logs: LogInfo[], kind: LogKind): Partial<Record<LogState, number>> {
  const counts: Partial<Record<LogState, number>> = {};
  for (const log of logs.filter((l) => l.kind === kind)) counts[log.state] = (counts[log.state] ?? 0) + 1;
  return counts;
}

const operators = (logs: LogInfo[]): number => new Set(logs.map((l) => l.operator)).size;

describe('real log lists (test/vectors/data/README.md counts)', () => {
  it('Google all_logs_list.json: 9 operators, 42 RFC 6962 + 75 tiled logs, states as listed', () => {
    const list = parseLogList(read(GOOGLE_ALL));
    expect([list.version, list.timestamp]).toEqual(['89.25', '2026-08-20T13:34:57Z']);
    expect(list.logs).toHaveLength(117);
    expect(operators(list.logs)).toBe(9);
    expect(stateCounts(list.logs, 'rfc6962')).toEqual({
      usable: 21,
      readonly: 2,
      retired: 3,
      rejected: 9,
      unknown: 7,
    });
    expect(stateCounts(list.logs, 'static-ct-api')).toEqual({
      usable: 16,
      qualified: 6,
      pending: 16,
      rejected: 5,
      unknown: 32,
    });
    expect(list.warnings).toEqual([]); // 117 of 117 log IDs are SHA-256 of their keys
    for (const log of list.logs) {
      expect(log.url.endsWith('/')).toBe(true);
      expect(log.key.length).toBeGreaterThan(0);
      expect(log.mmdSeconds).toBeGreaterThanOrEqual(0);
      expect(log.submissionUrl === undefined).toBe(log.kind === 'rfc6962');
    }
    const arche = list.logs.find((l) => l.description.includes('Arche2026h1'));
    expect(arche?.state).toBe('unknown'); // Google's own shards carry no state yet
    const parcel = list.logs.find((l) => l.description === "Google 'ParcelYard2026h2' log");
    expect(parcel).toMatchObject({
      kind: 'static-ct-api',
      operator: 'Google',
      url: 'https://storage.googleapis.com/parcelyard2026h2.prod.certificate.transparency.goog/',
      submissionUrl: 'https://parcelyard2026h2.prod.certificate.transparency.goog/',
    });
    expect(list.logs.filter((l) => l.logType === 'test').length).toBe(24);
    expect(list.logs.filter((l) => l.logType === 'monitoring_only').length).toBe(13);
  });

  it('Google log_list.json (Chrome): 8 operators, 35 RFC 6962 + 21 tiled, all tiled usable', () => {
    const list = parseLogList(read(GOOGLE_CHROME));
    expect([list.version, list.timestamp]).toEqual(['85.92', '2026-05-29T13:42:48Z']);
    expect(operators(list.logs)).toBe(8);
    expect(stateCounts(list.logs, 'rfc6962')).toEqual({ usable: 27, readonly: 4, retired: 4 });
    expect(stateCounts(list.logs, 'static-ct-api')).toEqual({ usable: 21 });
    expect(list.warnings).toEqual([]);
    const readonly = list.logs.filter((l) => l.state === 'readonly');
    expect(readonly.every((l) => l.finalTreeHead !== undefined && l.stateTimestamp !== undefined)).toBe(true);
  });

  it('Apple current_log_list.json: 16 operators, 135 + 31 logs, extra state.version and tls_only ignored', () => {
    const list = parseLogList(read(APPLE));
    expect([list.version, list.timestamp]).toEqual(['511', undefined]);
    expect(operators(list.logs)).toBe(16);
    expect(stateCounts(list.logs, 'rfc6962')).toEqual({ usable: 27, readonly: 6, rejected: 102 });
    expect(stateCounts(list.logs, 'static-ct-api')).toEqual({ usable: 24, pending: 1, rejected: 6 });
    expect(list.warnings).toEqual([]); // 166 of 166 log IDs match
    expect(list.logs.some((l) => l.operator === 'IPng GmbH')).toBe(true);
    const mammoth = list.logs.find((l) => l.description === "Sectigo 'Mammoth2026H1' log");
    expect(mammoth?.finalTreeHead).toEqual({
      treeSize: 65240567,
      sha256RootHash: 'N7bqzTXnPktVFG8/h3gi5pcuxCo+mfWyv+XlIIS4cEU=',
    });
  });

  it("ctgo loglist3.json: 6 logs; Racketeer's key is no SPKI yet the list loads; Aviator and Argon2020 details", () => {
    const list = parseLogList(readFileSync(CTGO_LIST, 'utf8'));
    expect([list.version, list.timestamp, list.logs.length]).toEqual(['9.4', '2022-05-06T12:55:11Z', 6]);
    expect(list.warnings).toEqual([]);
    for (const log of list.logs) {
      expect(crypto.createHash('sha256').update(log.key).digest('base64')).toBe(log.logId);
    }
    const racketeer = list.logs.find((l) => l.description === "Google 'Racketeer' log");
    expect(racketeer?.state).toBe('unknown');
    expect(() =>
      crypto.createPublicKey({ key: Buffer.from(racketeer?.key ?? []), format: 'der', type: 'spki' }),
    ).toThrow();
    expect(list.logs.find((l) => l.description === "Google 'Aviator' log")).toMatchObject({
      state: 'readonly',
      stateTimestamp: '2016-11-30T13:24:18.33Z',
      finalTreeHead: { treeSize: 46466472, sha256RootHash: 'LcGcZRsm+LGYmrlyC5LXhV1T6OD8iH5dNlb0sEJl9bA=' },
    });
    expect(list.logs.find((l) => l.description === "Google 'Argon2020' log")).toMatchObject({
      state: 'qualified',
      url: 'https://ct.googleapis.com/logs/argon2020/',
      temporalInterval: { startInclusive: '2018-02-27T00:00:00Z', endExclusive: '2020-01-01T00:00:00Z' },
    });
    // "https://log.bob.io" in the list: the prefix gets its trailing slash.
    expect(list.logs.find((l) => l.operator === "Bob's CT Log Shop")).toMatchObject({
      url: 'https://log.bob.io/',
      state: 'retired',
      mmdSeconds: 86400,
    });
  });

  it("sunlight's log.v3.json (one tiled entry, flat status) parses", () => {
    const { log, warnings } = parseLogEntry(readFileSync(SUNLIGHT_ENTRY, 'utf8'), 'Example');
    expect(warnings).toEqual([]);
    expect(log).toMatchObject({
      kind: 'static-ct-api',
      description: 'rome2026h1.example.org',
      operator: 'Example',
      logId: 'CKIDXIl+znJaHUyhzhNVaSxIUov59RCXLh3fJXJExnk=',
      url: 'https://rome2026h1.example.org/',
      submissionUrl: 'https://rome2026h1.example.org/',
      mmdSeconds: 60,
      state: 'readonly',
      finalTreeHead: { treeSize: 300, sha256RootHash: 'lCkHUpkmVBEms2r2T1K6Og69+wUuuN3MIEW1/ezu2v0=' },
      temporalInterval: { startInclusive: '2025-07-01T00:00:00Z', endExclusive: '2026-01-01T00:00:00Z' },
    });
    expect(
      crypto.createPublicKey({ key: Buffer.from(log.key), format: 'der', type: 'spki' }).asymmetricKeyType,
    ).toBe('ec');
  });
});

describe('per-log oddities are warnings, structural errors are LOGLIST_INVALID', () => {
  const base = (): { operators: { name: string; email: string[]; logs: Record<string, unknown>[] }[] } =>
    JSON.parse(readFileSync(CTGO_LIST, 'utf8')) as ReturnType<typeof base>;

  it('a log_id that is not SHA-256(key) is reported, and the list still loads', () => {
    const json = base();
    const first = json.operators[0]?.logs[0] as Record<string, unknown>;
    first.log_id = crypto.createHash('sha256').update('not the key').digest('base64');
    const list = parseLogList(json);
    expect(list.logs).toHaveLength(6);
    expect(list.warnings).toHaveLength(1);
    expect(list.warnings[0]).toMatch(/Aviator.*is not SHA-256 of its key/);
  });

  it.each([
    [
      'two states',
      { usable: { timestamp: '2020-01-01T00:00:00Z' }, retired: { timestamp: '2021-01-01T00:00:00Z' } },
      /2 keys/,
    ],
    ['an empty state object', {}, /0 keys/],
    ['a state v3 does not know', { frozen: { timestamp: '2020-01-01T00:00:00Z' } }, /unknown state "frozen"/],
  ])('%s → state unknown with a warning', (_name, state, warning) => {
    const json = base();
    (json.operators[0]?.logs[1] as Record<string, unknown>).state = state;
    const list = parseLogList(json);
    expect(list.logs[1]?.state).toBe('unknown');
    expect(list.warnings).toEqual([expect.stringMatching(warning)]);
  });

  /** Log `i` of the first operator of a parsed copy (throws if the vector ever changes shape). */
  const logOf = (j: ReturnType<typeof base>, i: number): Record<string, unknown> => {
    const l = j.operators[0]?.logs[i];
    if (l === undefined) throw new Error(`no log ${i} in loglist3.json`);
    return l;
  };

  it.each<[string, (j: ReturnType<typeof base>) => unknown]>([
    ['no operators', () => ({ version: '1' })],
    ['a key that is not base64', (j) => ((logOf(j, 0).key = 'not base64!'), j)],
    ['a log_id of the wrong length', (j) => ((logOf(j, 0).log_id = 'AAAA'), j)],
    ['a missing url', (j) => (delete logOf(j, 0).url, j)],
    ['a url that is no URL', (j) => ((logOf(j, 0).url = 'ct.googleapis.com/aviator/'), j)],
    ['mmd as a string', (j) => ((logOf(j, 0).mmd = '86400'), j)],
    ['a bad timestamp', (j) => ((logOf(j, 1).state = { usable: { timestamp: 'yesterday' } }), j)],
    ['a non-JSON string', () => '{"operators": ['],
  ])('%s', (_name, mutate) => {
    expect(() => parseLogList(mutate(base()))).toThrow(expect.objectContaining({ code: 'LOGLIST_INVALID' }));
  });

  it('names the offending field', () => {
    const json = base();
    logOf(json, 2).key = '%%%';
    expect(() => parseLogList(json)).toThrow(/operators\.0\.logs\.2\.key: not standard padded base64/);
  });
});

describe("Google's list signature: RSA PKCS#1 v1.5 with SHA-256 over the exact bytes", () => {
  const pairs = [
    ['all_logs_list', GOOGLE_ALL, GOOGLE_ALL.replace(/\.json$/, '.sig')],
    ['log_list (Chrome)', GOOGLE_CHROME, GOOGLE_CHROME.replace(/\.json$/, '.sig')],
  ] as const;

  it.each(pairs)(
    '%s verifies; one flipped byte in the list or the signature does not',
    (_name, json, sig) => {
      const bytes = read(json);
      const signature = read(sig);
      expect(signature).toHaveLength(512); // RSA-4096
      expect(verifyLogListSignature(bytes, signature, PUBKEY)).toBe(true);
      for (const at of [0, 1000, bytes.length - 2]) {
        const flipped = Buffer.from(bytes);
        flipped[at] = (flipped[at] as number) ^ 0x01;
        expect(verifyLogListSignature(flipped, signature, PUBKEY)).toBe(false);
      }
      const badSig = Buffer.from(signature);
      badSig[100] = (badSig[100] as number) ^ 0x80;
      expect(verifyLogListSignature(bytes, badSig, PUBKEY)).toBe(false);
      expect(verifyLogListSignature(bytes, signature.subarray(1), PUBKEY)).toBe(false);
    },
  );

  it('the scheme is PKCS#1 v1.5, not PSS; and the signatures do not cross over', () => {
    const [, json, sig] = pairs[0];
    const pss = crypto.verify(
      'sha256',
      read(json),
      { key: PUBKEY, padding: crypto.constants.RSA_PKCS1_PSS_PADDING },
      read(sig),
    );
    expect(pss).toBe(false);
    expect(verifyLogListSignature(read(GOOGLE_ALL), read(pairs[1][2]), PUBKEY)).toBe(false);
  });

  it('the embedded key is the published one; a non-RSA or non-key PEM is LOGLIST_SIGNATURE', () => {
    expect(GOOGLE_LOG_LIST_PUBLIC_KEY_PEM).toBe(PUBKEY);
    const ec = crypto
      .generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
      .publicKey.export({ type: 'spki', format: 'pem' });
    expect(() => verifyLogListSignature(read(GOOGLE_ALL), read(pairs[0][2]), ec)).toThrow(
      expect.objectContaining({ code: 'LOGLIST_SIGNATURE' }),
    );
    expect(() => verifyLogListSignature(read(GOOGLE_ALL), read(pairs[0][2]), 'nope')).toThrow(
      expect.objectContaining({ code: 'LOGLIST_SIGNATURE' }),
    );
  });
});

describe('loadLogList', () => {
  let server: http.Server;
  let base = '';
  const served: string[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      served.push(req.url ?? '');
      const file =
        req.url === '/v3/all_logs_list.json'
          ? GOOGLE_ALL
          : req.url === '/v3/all_logs_list.sig'
            ? GOOGLE_ALL.replace(/\.json$/, '.sig')
            : undefined;
      if (file === undefined) {
        res.writeHead(404);
        res.end();
        return;
      }
      res.end(read(file));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it("defaults to Google's all-logs URL (never fetched in tests)", () => {
    expect(DEFAULT_LOG_LIST_URL).toBe('https://www.gstatic.com/ct/log_list/v3/all_logs_list.json');
  });

  it('reads a file and checks the .sig beside it', async () => {
    const list = await loadLogList(GOOGLE_ALL, { verify: { publicKeyPem: PUBKEY } });
    expect([list.signatureVerified, list.logs.length, list.source]).toEqual([true, 117, GOOGLE_ALL]);
    const apple = await loadLogList(APPLE);
    expect([apple.signatureVerified, apple.logs.length]).toEqual([false, 166]);
  });

  it('refuses a tampered file with LOGLIST_SIGNATURE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'certvigil-loglist-'));
    const tampered = read(GOOGLE_ALL).toString('utf8').replace('"mmd": 86400', '"mmd": 86401');
    writeFileSync(join(dir, 'list.json'), tampered);
    writeFileSync(join(dir, 'list.sig'), read(GOOGLE_ALL.replace(/\.json$/, '.sig')));
    await expect(
      loadLogList(join(dir, 'list.json'), { verify: { publicKeyPem: PUBKEY } }),
    ).rejects.toMatchObject({
      code: 'LOGLIST_SIGNATURE',
    });
    // A signature file that does not exist is a signature failure, not a parse of an unchecked list.
    await expect(
      loadLogList(GOOGLE_ALL, {
        verify: { publicKeyPem: PUBKEY, signatureSource: join(dir, 'missing.sig') },
      }),
    ).rejects.toMatchObject({ code: 'LOGLIST_SIGNATURE' });
  });

  it('a missing file is CONFIG_INVALID', async () => {
    await expect(loadLogList('/nonexistent/list.json')).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('fetches a URL with its signature (loopback http only)', async () => {
    const list = await loadLogList(`${base}/v3/all_logs_list.json`, { verify: { publicKeyPem: PUBKEY } });
    expect([list.signatureVerified, list.logs.length]).toEqual([true, 117]);
    expect(served).toEqual(['/v3/all_logs_list.json', '/v3/all_logs_list.sig']);
    await expect(loadLogList('http://example.com/list.json')).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
    await expect(
      loadLogList(`${base}/v3/other.json`, { verify: { publicKeyPem: PUBKEY } }),
    ).rejects.toMatchObject({ code: 'CT_HTTP', status: 404 });
  });
});

describe('findLog (a --log argument)', () => {
  const list = parseLogList(read(GOOGLE_ALL));

  it('matches an RFC 6962 url or a tiled monitoring_url, with or without the trailing slash', () => {
    const xenon = list.logs.find((l) => l.kind === 'rfc6962' && l.state === 'usable');
    expect(xenon).toBeDefined();
    expect(findLog(list, xenon?.url ?? '')).toBe(xenon);
    expect(findLog(list, (xenon?.url ?? '').replace(/\/$/, ''))).toBe(xenon);
    const tiled = list.logs.find((l) => l.description === "Google 'ParcelYard2026h2' log");
    expect(
      findLog(
        list.logs,
        'https://storage.googleapis.com/parcelyard2026h2.prod.certificate.transparency.goog',
      ),
    ).toBe(tiled);
  });

  it('is exact otherwise: no scheme-less, http, submission-URL or prefix matches', () => {
    expect(findLog(list, 'ct.googleapis.com/logs/us1/argon2026h1/')).toBeUndefined();
    expect(findLog(list, 'https://parcelyard2026h2.prod.certificate.transparency.goog/')).toBeUndefined();
    expect(findLog(list, 'https://ct.googleapis.com/logs/')).toBeUndefined();
    const any = list.logs[0] as LogInfo;
    expect(findLog(list, any.url.replace('https:', 'http:'))).toBeUndefined();
  });
});
