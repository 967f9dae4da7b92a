/**
 * The static-ct-api client against a `node:http` server on 127.0.0.1 serving the sunlight vectors:
 * navigli2025h2 (real tiles, stored uncompressed, served here with `Content-Encoding: gzip`) and
 * skylight's placeholder tree (data tiles stored gzip'ed, served as raw gzip bodies with no
 * Content-Encoding), plus the le-staging issuers under their SHA-256 fingerprints.
 */
import crypto from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CtHttpClient } from './http.js';
import type { CtHttpOptions } from './http.js';
import { StaticCtLogClient } from './static-client.js';
import type { DataTile } from './static-client.js';
import { parseDataTile } from './tiles.js';

const SUNLIGHT = join(import.meta.dirname, '../../test/vectors/ct/sunlight');
const NAVIGLI = join(SUNLIGHT, 'testdata/navigli2025h2');
const SKYLIGHT = join(SUNLIGHT, 'cmd/skylight/testdata/tree');
const LE_STAGING = join(import.meta.dirname, '../../test/vectors/ct/le-staging');

const file = (root: string, path: string): Buffer => readFileSync(join(root, path));

/** le-staging PEM files by the SHA-256 of their DER, as a log serves them at /issuer/<hex>. */
const ISSUERS = new Map(
  readdirSync(LE_STAGING)
    .filter((f) => f.endsWith('.pem'))
    .map((f) => {
      const der = new crypto.X509Certificate(file(LE_STAGING, f)).raw;
      return [crypto.createHash('sha256').update(der).digest('hex'), der] as const;
    }),
);

interface Behaviour {
  /** Partial tiles are gone (the log completed them). */
  dropPartials?: boolean;
  delayMs?: number;
  /** Replace the body of one path. */
  override?: Record<string, Buffer>;
}

const state = { base: '', requests: [] as string[], inFlight: 0, maxInFlight: 0, behaviour: {} as Behaviour };
let server: http.Server;

function respond(path: string, res: http.ServerResponse): void {
  const b = state.behaviour;
  const notFound = (): void => {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  };
  if (b.dropPartials && path.includes('.p/')) return notFound();
  const override = b.override?.[path];
  if (override) {
    res.writeHead(200, { 'content-length': override.length });
    res.end(override);
    return;
  }
  const [, log, rest = ''] = /^\/(navigli|skylight)\/(.*)$/.exec(path) ?? [];
  if (log === 'navigli' && rest.startsWith('issuer/')) {
    const der = ISSUERS.get(rest.slice('issuer/'.length));
    if (!der) return notFound();
    res.writeHead(200, { 'content-type': 'application/pkix-cert', 'content-length': der.length });
    res.end(der);
    return;
  }
  const root = log === 'navigli' ? NAVIGLI : log === 'skylight' ? SKYLIGHT : undefined;
  const local = root === undefined ? undefined : join(root, rest);
  if (local === undefined || rest.includes('..') || !existsSync(local) || !statSync(local).isFile())
    return notFound();
  const body = readFileSync(local);
  if (log === 'navigli' && rest.startsWith('tile/data/')) {
    // "Data tiles SHOULD be compressed at the HTTP layer."
    const gz = zlib.gzipSync(body);
    res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': gz.length });
    res.end(gz);
    return;
  }
  // skylight's data tiles are gzip files on disk: sent as they are, with no Content-Encoding.
  res.writeHead(200, { 'content-length': body.length });
  res.end(body);
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    state.requests.push(path);
    state.inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    res.on('close', () => state.inFlight--);
    if (state.behaviour.delayMs) setTimeout(() => respond(path, res), state.behaviour.delayMs);
    else respond(path, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const clients: CtHttpClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.destroy()));
  state.requests = [];
  state.maxInFlight = 0;
  state.behaviour = {};
});

function logClient(which: 'navigli' | 'skylight', options: CtHttpOptions = {}): StaticCtLogClient {
  const http = new CtHttpClient({ timeoutMs: 5_000, maxAttempts: 1, ...options });
  clients.push(http);
  return new StaticCtLogClient(`${state.base}/${which}`, http); // no trailing slash: added
}

async function collect(it: AsyncIterable<DataTile>): Promise<DataTile[]> {
  const out: DataTile[] = [];
  for await (const t of it) out.push(t);
  return out;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

describe('tile paths on the wire (c2sp.org/static-ct-api)', () => {
  it.each([
    [0, 1234067, 256, '/navigli/tile/0/x001/x234/067'],
    [2, 5, 7, '/navigli/tile/2/005.p/7'],
    [1, 1000, 256, '/navigli/tile/1/x001/000'],
  ])('hash tile level %i index %i width %i → %s', async (level, index, width, path) => {
    await expect(logClient('navigli').getHashTile(level, index, width)).rejects.toMatchObject({
      code: 'CT_HTTP',
      status: 404,
    });
    expect(state.requests[0]).toBe(path);
  });

  it('data tiles live under tile/data/', async () => {
    await expect(logClient('navigli').getDataTile(1234067)).rejects.toMatchObject({ status: 404 });
    expect(state.requests).toEqual(['/navigli/tile/data/x001/x234/067']);
  });

  it.each<[string, (c: StaticCtLogClient) => Promise<unknown>]>([
    ['negative index', (c) => c.getHashTile(0, -1)],
    ['width 0', (c) => c.getDataTile(0, 0)],
    ['width 257', (c) => c.getHashTile(0, 0, 257)],
    ['fractional level', (c) => c.getHashTile(0.5, 0)],
    ['bad fingerprint', (c) => c.getIssuer('abc')],
    ['range beyond the tree', (c) => collect(c.dataTilesForRange(0, 301, 300))],
    ['range backwards', (c) => collect(c.dataTilesForRange(10, 9, 300))],
  ])('%s → CT_INVALID_ARGUMENT, nothing sent', async (_name, f) => {
    await expect(f(logClient('navigli'))).rejects.toMatchObject({ code: 'CT_INVALID_ARGUMENT' });
    expect(state.requests).toEqual([]);
  });
});

describe('skylight placeholder tree (size 300)', () => {
  it('checkpoint text, as served', async () => {
    expect(await logClient('skylight').getCheckpoint()).toBe(file(SKYLIGHT, 'checkpoint').toString('utf8'));
    expect(state.requests).toEqual(['/skylight/checkpoint']);
  });

  it('dataTilesForRange(0, 300, 300): tile 0 full and data/001.p/44, raw gzip bodies decompressed', async () => {
    const tiles = await collect(logClient('skylight').dataTilesForRange(0, 300, 300));
    expect(tiles.map((t) => [t.tileIndex, t.width])).toEqual([
      [0, 256],
      [1, 44],
    ]);
    expect(Buffer.from(tiles[0]?.bytes ?? []).toString()).toBe('fake full data tile\n');
    expect(Buffer.from(tiles[1]?.bytes ?? []).toString()).toBe('fake partial data tile\n');
    expect(state.requests).toEqual(['/skylight/tile/data/000', '/skylight/tile/data/001.p/44']);
  });

  it('a range inside the first tile needs only that tile; an empty range none', async () => {
    const c = logClient('skylight');
    expect((await collect(c.dataTilesForRange(10, 20, 300))).map((t) => t.tileIndex)).toEqual([0]);
    expect(await collect(c.dataTilesForRange(300, 300, 300))).toEqual([]);
    expect(state.requests).toEqual(['/skylight/tile/data/000']);
  });

  it('hash tiles are never gunzip-sniffed, and a placeholder of the wrong length is CT_BAD_RESPONSE', async () => {
    const c = logClient('skylight');
    await expect(c.getHashTile(0, 0)).rejects.toMatchObject({ code: 'CT_BAD_RESPONSE' }); // 23 bytes, not 8,192
    await expect(c.getHashTile(1, 0, 1)).rejects.toMatchObject({ code: 'CT_BAD_RESPONSE' }); // not 32 bytes
    expect(state.requests).toEqual(['/skylight/tile/0/000', '/skylight/tile/1/000.p/1']);
  });

  it('issuer: body checked against its fingerprint', async () => {
    const fp = '76a2d477b477d00f6fe635ec3faf0984b0584127ab6ea9c46b1dd569496b5c3d';
    const body = await logClient('skylight').getIssuer(fp.toUpperCase());
    expect(same(body, file(SKYLIGHT, `issuer/${fp}`))).toBe(true);
    expect(state.requests).toEqual([`/skylight/issuer/${fp}`]); // "lowercase hex-encoded"
  });
});

describe('navigli2025h2 real tiles (gzip on the wire)', () => {
  it('getDataTile returns the decompressed tile byte for byte; 256 entries parse', async () => {
    const bytes = await logClient('navigli').getDataTile(2);
    expect(same(bytes, file(NAVIGLI, 'tile/data/002'))).toBe(true);
    expect(parseDataTile(bytes, 512)).toHaveLength(256);
  });

  it('dataTilesForRange(0, 778, 778): three full tiles and data/003.p/10, in order', async () => {
    const tiles = await collect(logClient('navigli').dataTilesForRange(0, 778, 778));
    expect(tiles.map((t) => [t.tileIndex, t.width])).toEqual([
      [0, 256],
      [1, 256],
      [2, 256],
      [3, 10],
    ]);
    for (const t of tiles) {
      const path = t.width === 256 ? `tile/data/00${t.tileIndex}` : `tile/data/00${t.tileIndex}.p/${t.width}`;
      expect(same(t.bytes, file(NAVIGLI, path))).toBe(true);
      expect(parseDataTile(t.bytes, t.tileIndex * 256)).toHaveLength(t.width);
    }
  });

  it('only the tiles a range needs: [300, 600) of 1024 → tiles 1 and 2; [770, 778) of 778 → 003.p/10', async () => {
    const c = logClient('navigli');
    expect((await collect(c.dataTilesForRange(300, 600, 1024))).map((t) => [t.tileIndex, t.width])).toEqual([
      [1, 256],
      [2, 256],
    ]);
    expect((await collect(c.dataTilesForRange(770, 778, 778))).map((t) => [t.tileIndex, t.width])).toEqual([
      [3, 10],
    ]);
    expect(state.requests).toEqual([
      '/navigli/tile/data/001',
      '/navigli/tile/data/002',
      '/navigli/tile/data/003.p/10',
    ]);
  });

  it('fetches at most `concurrency` tiles at once and still yields in order', async () => {
    state.behaviour = { delayMs: 30 };
    const tiles = await collect(
      logClient('navigli', { maxConcurrency: 8 }).dataTilesForRange(0, 1024, 1024, { concurrency: 2 }),
    );
    expect(tiles.map((t) => t.tileIndex)).toEqual([0, 1, 2, 3]);
    expect(state.maxInFlight).toBe(2);
  });

  it('hash tiles: full is 8,192 bytes, partial 0/003.p/10 is 320 and a prefix of the full tile', async () => {
    const c = logClient('navigli');
    const full = await c.getHashTile(0, 3);
    const partial = await c.getHashTile(0, 3, 10);
    expect(same(full, file(NAVIGLI, 'tile/0/003'))).toBe(true);
    expect(same(partial, file(NAVIGLI, 'tile/0/003.p/10'))).toBe(true);
    expect(same(partial, full.subarray(0, 320))).toBe(true);
  });

  it('every chain issuer resolves and hashes to its fingerprint', async () => {
    const c = logClient('navigli');
    expect(ISSUERS.size).toBe(5);
    for (const [fp, der] of ISSUERS) expect(same(await c.getIssuer(fp), der)).toBe(true);
  });

  it('an issuer body that does not hash to the fingerprint is CT_BAD_RESPONSE', async () => {
    const [fp = ''] = ISSUERS.keys();
    state.behaviour = { override: { [`/navigli/issuer/${fp}`]: Buffer.from('not the certificate') } };
    await expect(logClient('navigli').getIssuer(fp)).rejects.toMatchObject({ code: 'CT_BAD_RESPONSE' });
  });

  it('a corrupt gzip data tile is CT_BAD_RESPONSE, not garbage entries', async () => {
    const gz = zlib.gzipSync(file(NAVIGLI, 'tile/data/000'));
    state.behaviour = { override: { '/navigli/tile/data/000': gz.subarray(0, gz.length - 100) } };
    await expect(logClient('navigli').getDataTile(0)).rejects.toMatchObject({ code: 'CT_BAD_RESPONSE' });
  });
});

describe('a partial tile the log has since completed (404) → the full tile', () => {
  it('hash tile: falls back to the full tile and returns its first W hashes', async () => {
    state.behaviour = { dropPartials: true };
    const partial = await logClient('navigli').getHashTile(0, 3, 10);
    expect(same(partial, file(NAVIGLI, 'tile/0/003.p/10'))).toBe(true);
    expect(state.requests).toEqual(['/navigli/tile/0/003.p/10', '/navigli/tile/0/003']);
  });

  it('data tile: the full tile comes back with width 256, so the parser reads all of it', async () => {
    state.behaviour = { dropPartials: true };
    const tiles = await collect(logClient('navigli').dataTilesForRange(770, 778, 778));
    expect(tiles.map((t) => [t.tileIndex, t.width])).toEqual([[3, 256]]);
    expect(same(tiles[0]?.bytes ?? new Uint8Array(), file(NAVIGLI, 'tile/data/003'))).toBe(true);
    expect(state.requests).toEqual(['/navigli/tile/data/003.p/10', '/navigli/tile/data/003']);
  });

  it('a missing full tile is an error (no fallback loop)', async () => {
    await expect(logClient('navigli').getDataTile(9)).rejects.toMatchObject({ code: 'CT_HTTP', status: 404 });
    expect(state.requests).toEqual(['/navigli/tile/data/009']);
  });
});

describe('per-endpoint caps (issue 12)', () => {
  it('a hash tile longer than its width is refused while streaming, not after buffering', async () => {
    state.behaviour = {
      override: {
        '/navigli/tile/0/000': Buffer.alloc(8193),
        '/navigli/tile/0/001.p/3': Buffer.alloc(97),
        '/navigli/checkpoint': Buffer.alloc(65 * 1024, 0x61),
        '/navigli/tile/data/000.p/1': Buffer.alloc(128 * 1024 + 1),
      },
    };
    const c = logClient('navigli');
    await expect(c.getHashTile(0, 0)).rejects.toMatchObject({ code: 'CT_BODY_TOO_LARGE' });
    await expect(c.getHashTile(0, 1, 3)).rejects.toMatchObject({ code: 'CT_BODY_TOO_LARGE' });
    await expect(c.getCheckpoint()).rejects.toMatchObject({ code: 'CT_BODY_TOO_LARGE' });
    await expect(c.getDataTile(0, 1)).rejects.toMatchObject({ code: 'CT_BODY_TOO_LARGE' });
  });
});
