/**
 * The inventory against REAL ACME client output: certbot, dehydrated, lego and Caddy (Debian's
 * packages) obtain certificates from a local pebble CA on loopback (test/fixtures/acme/pebble.ts),
 * and the scan must find exactly what they wrote. Each record is checked against the file it
 * names with node:crypto's own X.509 parser.
 *
 * Needs the Debian packages pebble, certbot, dehydrated, lego, caddy. Without them the suite is
 * skipped on a developer machine and fails under CI=true (.ci/run must install them).
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Pebble,
  caddyObtain,
  certbotObtain,
  dehydratedRun,
  dehydratedSetup,
  legoRun,
  missingClients,
} from '../../test/fixtures/acme/pebble.js';
import { scanInventory } from './index.js';
import type { InventoryCertificate, InventoryScan } from './index.js';

const missing = missingClients();
const skip = missing.length > 0 && process.env.CI !== 'true';

/** Checks a record against the first certificate of the file it names, parsed by node:crypto. */
async function expectMatchesFile(rec: InventoryCertificate): Promise<void> {
  const x = new X509Certificate(await readFile(rec.path));
  expect(rec.certSha256).toBe(x.fingerprint256.replace(/:/g, '').toLowerCase());
  expect(rec.serial).toBe(x.serialNumber.toLowerCase());
  expect(rec.notAfter).toBe(new Date(x.validTo).toISOString().replace('.000Z', 'Z'));
  const sans = (x.subjectAltName ?? '').split(', ').map((s) => s.replace(/^DNS:/, ''));
  expect([...rec.dnsNames].sort()).toEqual([...new Set(sans)].sort());
  expect(rec.issuer).toMatch(/^CN=Pebble Intermediate CA [0-9a-f]+$/);
  expect(x.ca).toBe(false);
}

const byPath = (scan: InventoryScan): string[] => scan.certificates.map((c) => c.path);

describe.skipIf(skip)('inventory of real ACME client output (pebble on loopback)', () => {
  let dir: string;
  let pebble: Pebble | undefined;
  let clients: string;

  beforeAll(async () => {
    if (missing.length > 0) throw new Error(`Debian packages missing for this suite: ${missing.join(' ')}`);
    dir = await mkdtemp(join(tmpdir(), 'certvigil-acme-'));
    clients = join(dir, 'clients');
    pebble = await Pebble.start(join(dir, 'pebble'));

    const le = join(clients, 'letsencrypt');
    await certbotObtain(pebble, le, 'example.com', ['example.com', 'www.example.com']);
    await certbotObtain(pebble, le, 'example.com', ['example.com', 'www.example.com'], true);
    await certbotObtain(pebble, le, 'example.com', ['example.com', 'www.example.com'], true);
    await certbotObtain(pebble, le, 'api.example.com', ['api.example.com']);

    const dh = join(clients, 'dehydrated');
    const config = await dehydratedSetup(
      pebble,
      dh,
      'example.org www.example.org\n# not a name\n*.svc.example.org > star_svc\n',
    );
    await dehydratedRun(pebble, config, 'cron');
    await new Promise((r) => setTimeout(r, 1100)); // file names carry the Unix time in seconds
    await dehydratedRun(pebble, config, 'force');
    await dehydratedRun(pebble, config, 'cleanup');

    const lego = join(clients, 'lego', '.lego');
    await legoRun(pebble, lego, ['example.net', 'www.example.net']);
    await legoRun(pebble, lego, ['example.net', 'www.example.net'], true);

    await caddyObtain(pebble, join(clients, 'caddy', 'data'), ['caddy.example.com', 'www.caddy.example.com']);
  }, 240_000);

  afterAll(async () => {
    await pebble?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('certbot: every archived version of every lineage, once each, under its archive path', async () => {
    const le = join(clients, 'letsencrypt');
    const scan = await scanInventory([le]);
    expect(scan.errors).toEqual([]);
    expect(byPath(scan)).toEqual([
      join(le, 'archive/api.example.com/cert1.pem'),
      join(le, 'archive/example.com/cert1.pem'),
      join(le, 'archive/example.com/cert2.pem'),
      join(le, 'archive/example.com/cert3.pem'),
    ]);
    for (const c of scan.certificates) {
      expect(c.source).toBe('certbot');
      await expectMatchesFile(c);
    }
    // live/ symlinks and fullchainN.pem hold the same certificates: no second record for them.
    expect(await readlink(join(le, 'live/example.com/cert.pem'))).toBe('../../archive/example.com/cert3.pem');
    expect(new Set(scan.certificates.map((c) => c.certSha256)).size).toBe(4);
    expect(scan.managedNames).toEqual(['api.example.com', 'example.com', 'www.example.com']);
    expect(scan.managedNameSources).toContainEqual({
      name: 'www.example.com',
      source: 'certbot',
      path: join(le, 'renewal/example.com.conf'),
    });
  });

  it('certbot: live/ alone resolves out of the tree and is not followed', async () => {
    const scan = await scanInventory([join(clients, 'letsencrypt', 'live')]);
    expect(scan).toMatchObject({ certificates: [], errors: [] });
  });

  it('dehydrated: current and cleaned-up (archive/) versions, names from domains.txt', async () => {
    const dh = join(clients, 'dehydrated');
    const scan = await scanInventory([dh]);
    expect(scan.errors).toEqual([]);
    const paths = byPath(scan).map((p) => p.slice(dh.length + 1).replace(/\d{9,}/, 'T'));
    expect(paths).toEqual([
      'archive/example.org/cert-T.pem',
      'archive/star_svc/cert-T.pem',
      'certs/example.org/cert-T.pem',
      'certs/star_svc/cert-T.pem',
    ]);
    for (const c of scan.certificates) {
      expect(c.source).toBe('dehydrated');
      await expectMatchesFile(c);
    }
    expect(scan.certificates.filter((c) => c.dnsNames.includes('*.svc.example.org'))).toHaveLength(2);
    expect(scan.managedNames).toEqual(['*.svc.example.org', 'example.org', 'www.example.org']);
  });

  it('lego: the stored certificate (renew replaces it in place), names from .json and the cert', async () => {
    const lego = join(clients, 'lego', '.lego');
    const scan = await scanInventory([join(clients, 'lego')]);
    expect(scan.errors).toEqual([]);
    expect(byPath(scan)).toEqual([join(lego, 'certificates/example.net.crt')]);
    expect(scan.certificates[0]?.source).toBe('lego');
    await expectMatchesFile(scan.certificates[0] as InventoryCertificate);
    expect(scan.managedNames).toEqual(['example.net', 'www.example.net']);
  });

  it('Caddy: one certificate per site under its issuer directory, names from the .json', async () => {
    const data = join(clients, 'caddy', 'data');
    const scan = await scanInventory([data]);
    expect(scan.errors).toEqual([]);
    expect(byPath(scan).map((p) => p.slice(data.length + 1).replace(/^certificates\/[^/]+\//, 'I/'))).toEqual(
      ['I/caddy.example.com/caddy.example.com.crt', 'I/www.caddy.example.com/www.caddy.example.com.crt'],
    );
    for (const c of scan.certificates) {
      expect(c.source).toBe('caddy');
      await expectMatchesFile(c);
    }
    expect(scan.managedNames).toEqual(['caddy.example.com', 'www.caddy.example.com']);
  });

  it('all clients under one directory: each layout detected, nothing extra, nothing counted twice', async () => {
    const scan = await scanInventory([clients]);
    expect(scan.errors).toEqual([]);
    const count = (s: string): number => scan.certificates.filter((c) => c.source === s).length;
    expect([count('certbot'), count('dehydrated'), count('lego'), count('caddy'), count('pem')]).toEqual([
      4, 4, 1, 2, 0,
    ]);
    // CA certificates the clients store beside the leaves (chainN.pem, .issuer.crt, Caddy pki/)
    // are never records.
    expect(byPath(scan).some((p) => /(?:^|\/)chain[-\d]*\.pem$|issuer\.crt$|\/pki\//.test(p))).toBe(false);
  });
});
