/**
 * The inventory side of a cycle (issue 12): what is stored when the scan could not look somewhere,
 * and the health alert for a configured path that cannot be read. On the real SQLite store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InventoryCertificate, InventoryScan } from '../inventory/types.js';
import type { MonitorEvent } from '../notify/types.js';
import { openSqliteStore } from '../store/sqlite.js';
import type { Store } from '../store/types.js';
import { recordInventory, runCycle, staleHeadMessage } from './monitor.js';
import { buildWatchList } from './watchlist.js';

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certvigil-monitor-unit-'));
  store = await openSqliteStore(join(dir, 'certvigil.sqlite3'));
  await store.migrate();
});
afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

function cert(path: string, n: number): InventoryCertificate {
  const h = n.toString(16).padStart(64, '0');
  return {
    source: 'pem',
    path,
    certSha256: h,
    tbsSha256: h,
    spkiSha256: h,
    dnsNames: [`n${n}.example.test`],
    issuer: 'CN=R',
    serial: '01',
    notBefore: '2026-01-01T00:00:00Z',
    notAfter: '2026-04-01T00:00:00Z',
  };
}

const scan = (certificates: InventoryCertificate[], errors: InventoryScan['errors'] = []): InventoryScan => ({
  certificates,
  managedNames: [],
  errors,
});

describe('recordInventory keeps what the scan could not look at', () => {
  it.each([
    ['a file that became unreadable', '/inv/a.pem', 'INVENTORY_UNREADABLE' as const],
    ['a half-written file', '/inv/a.pem', 'INVENTORY_BAD_CERTIFICATE' as const],
    ['a directory that became unreadable', '/inv', 'INVENTORY_UNREADABLE' as const],
    ['a configured path that is gone', '/inv', 'INVENTORY_PATH_UNREADABLE' as const],
  ])('%s', async (_what, errorPath, code) => {
    await recordInventory(store, scan([cert('/inv/a.pem', 1), cert('/other/b.pem', 2)]));
    await recordInventory(store, scan([], [{ path: errorPath, code, error: `${code}: x` }]));
    const paths = (await store.listInventory()).map((r) => r.path).sort();
    // b.pem was read fine before and is simply gone now: it leaves the inventory.
    expect(paths).toEqual(['/inv/a.pem']);
  });

  it('a clean scan replaces everything', async () => {
    await recordInventory(store, scan([cert('/inv/a.pem', 1)]));
    await recordInventory(store, scan([cert('/inv/c.pem', 3)]));
    expect((await store.listInventory()).map((r) => r.path)).toEqual(['/inv/c.pem']);
  });
});

describe('a configured inventory path that cannot be read', () => {
  it('keeps the stored inventory and queues one health alert per path and day, sanitised', async () => {
    await recordInventory(store, scan([cert('/etc/letsencrypt/live/a/cert.pem', 1)]));
    const missing = '/etc/letsencrypt\u001b[2J';
    const sent: MonitorEvent[] = [];
    const deps = {
      store,
      notifiers: [
        {
          name: 'collect',
          send: (e: MonitorEvent) => {
            sent.push(e);
            return Promise.resolve();
          },
        },
      ],
      scanInventory: () =>
        Promise.resolve(
          scan(
            [],
            [
              {
                path: missing,
                code: 'INVENTORY_PATH_UNREADABLE' as const,
                error: 'INVENTORY_PATH_UNREADABLE: no such file or directory (ENOENT)',
              },
            ],
          ),
        ),
      caaResolver: null,
      caaIssuers: {},
      httpFor: () => {
        throw new Error('no logs in this test');
      },
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    };
    const options = { logs: [], watch: buildWatchList(['example.test']), startAtEnd: false, concurrency: 1 };
    const first = await runCycle(deps, options);
    await runCycle(deps, options);
    expect(first.inventory).toEqual({ certificates: 0, errors: 0, unreadablePaths: 1 });
    expect((await store.listInventory()).map((r) => r.path)).toEqual(['/etc/letsencrypt/live/a/cert.pem']);
    // Delivered through the sinks once, however many cycles ran.
    const health = sent.filter((e) => e.type === 'inventory-health');
    expect(health).toHaveLength(1);
    const payload = health[0] as { path: string; message: string };
    expect(payload.path).toBe('/etc/letsencrypt\\x1B[2J');
    expect(payload.message).toMatch(
      /^cannot read inventory path \/etc\/letsencrypt\\x1B\[2J: no such file or directory \(ENOENT\); the inventory read before is kept/,
    );
  });
});

describe('staleHeadMessage (RFC 6962 §3.5: a head older than the MMD + 1 h)', () => {
  const log = {
    kind: 'rfc6962' as const,
    description: 'fake log',
    operator: 'test',
    logId: 'bG9n',
    key: new Uint8Array(),
    url: 'https://log.example/',
    mmdSeconds: 86_400,
    state: 'usable' as const,
  };
  const now = Date.parse('2026-06-01T00:00:00Z');
  it.each([
    ['no head read', null, false],
    ['a fresh head', now - 60_000, false],
    ['just within MMD + 1 h', now - (86_400_000 + 3_600_000), false],
    ['past MMD + 1 h', now - (86_400_000 + 3_600_001), true],
  ])('%s', (_what, timestamp, stale) => {
    const result = {
      status: 'ok' as const,
      treeSize: 1,
      treeHeadTimestamp: timestamp,
      position: 1,
      verifiedSize: 1,
      entriesRead: 0,
      matched: 0,
      malformed: 0,
      message: null,
      contacted: true,
      retryAfterMs: null,
    };
    expect(staleHeadMessage(log, result, now) !== null).toBe(stale);
  });
});
