/**
 * A kept lab (`certvigil lab --keep DIR`) serves again what it served: LabCtLog.save/load and
 * LabIssuer.save/load, compared byte for byte through two running servers, and every damaged file
 * refused with a LabError that names it.
 */
import { X509Certificate, createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabError } from '../errors.js';
import { ISSUER_FILES, LabIssuer } from './ca.js';
import { LOG_FILES } from './log-state.js';
import { LabCtLog } from './log.js';
import { startCtLogServer } from './server.js';
import type { CtLogServer } from './server.js';
import { tilePath } from './static-server.js';

let dir: string;
let ca: LabIssuer;
let log: LabCtLog;
const servers: CtLogServer[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'certvigil-lab-ctlog-'));
  ca = await LabIssuer.create({ commonName: 'certvigil lab CA' });
  log = new LabCtLog({ name: 'certvigil lab log', staticCtApi: true, origin: 'lab.test/log' });
  log.addCertificate(ca.issue({ dnsNames: ['xmpp.jabber.lab', 'jabber.lab'] }));
  log.addPrecertificate(ca, { dnsNames: ['pre.jabber.lab'], alsoLogFinal: true });
  log.addRaw(Buffer.from('not a certificate'));
  log.publish();
  for (let i = 0; i < 300; i++) log.addCertificate(ca.issue({ dnsNames: [`h${i}.jabber.lab`] }));
  log.publish();
  log.addCertificate(ca.issue({ dnsNames: ['late.jabber.lab'] })); // sequenced, not yet published
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

async function serve(l: LabCtLog): Promise<CtLogServer> {
  const server = await startCtLogServer(l, { rfc6962Prefix: '/rfc6962/', staticPrefix: '/static/' });
  servers.push(server);
  return server;
}

async function bytes(url: string): Promise<{ status: number; body: Buffer }> {
  const res = await fetch(url);
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

async function fresh(name: string): Promise<string> {
  const d = join(dir, name);
  await log.save(d);
  await ca.save(d);
  return d;
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(LabError);
    return `${(err as LabError).code}: ${(err as Error).message}`;
  }
  return 'no error';
}

describe('LabCtLog.save / load', () => {
  it('keeps files 0600 in a 0700 directory, and the loaded log serves byte-identical answers', async () => {
    const kept = await fresh('kept');
    expect((await stat(kept)).mode & 0o777).toBe(0o700);
    for (const f of [...Object.values(LOG_FILES), ...Object.values(ISSUER_FILES)])
      expect((await stat(join(kept, f))).mode & 0o777).toBe(0o600);

    const loaded = await LabCtLog.load(kept);
    expect([loaded.size, loaded.sth.treeSize, loaded.sths.length]).toEqual([log.size, 304, 3]);
    const [a, b] = [await serve(log), await serve(loaded)];
    const leafHash = encodeURIComponent(log.tree.leafHash(7).toString('base64'));
    const paths = [
      'rfc6962/ct/v1/get-sth',
      'rfc6962/ct/v1/get-entries?start=0&end=255',
      'rfc6962/ct/v1/get-entries?start=256&end=400',
      `rfc6962/ct/v1/get-proof-by-hash?hash=${leafHash}&tree_size=304`,
      'rfc6962/ct/v1/get-sth-consistency?first=4&second=304',
      'rfc6962/ct/v1/get-entry-and-proof?leaf_index=2&tree_size=304',
      'rfc6962/ct/v1/get-roots',
      'static/checkpoint',
      `static/${tilePath(0, 0)}`,
      `static/${tilePath('data', 0)}`,
      `static/${tilePath('data', 1, 48)}`,
      `static/issuer/${createHash('sha256').update(ca.certificate).digest('hex')}`,
    ];
    for (const path of paths) {
      const [x, y] = [await bytes(`${a.baseUrl}/${path}`), await bytes(`${b.baseUrl}/${path}`)];
      expect({ path, status: y.status }).toEqual({ path, status: 200 });
      expect({ path, same: y.body.equals(x.body) }).toEqual({ path, same: true });
    }

    // The unpublished entry stayed unpublished, and both logs publish the same tree next.
    const [next1, next2] = [log.publish(5e12), loaded.publish(5e12)];
    expect(next2.rootHash.equals(next1.rootHash)).toBe(true);
    expect(next2.treeSize).toBe(305);
  });

  it.each([
    ['a missing directory', async (d: string) => rm(d, { recursive: true }), /no lab CT log key/],
    [
      'a truncated state file',
      async (d: string) => {
        const text = await readFile(join(d, LOG_FILES.state), 'utf8');
        await writeFile(join(d, LOG_FILES.state), text.slice(0, text.length / 2));
      },
      /ct-log\.json is not usable: not JSON/,
    ],
    [
      'an edited entry timestamp',
      async (d: string) => {
        const state = JSON.parse(await readFile(join(d, LOG_FILES.state), 'utf8')) as { entries: number[][] };
        (state.entries[1] as number[])[0] = 1;
        await writeFile(join(d, LOG_FILES.state), JSON.stringify(state));
      },
      /tree head of size 4 .* does not match the entries/,
    ],
    [
      'a missing entry',
      async (d: string) => {
        const state = JSON.parse(await readFile(join(d, LOG_FILES.state), 'utf8')) as { entries: unknown[] };
        state.entries.splice(300);
        await writeFile(join(d, LOG_FILES.state), JSON.stringify(state));
      },
      /covers entries that are not there/,
    ],
    [
      'a wrong field type',
      async (d: string) => {
        const state = JSON.parse(await readFile(join(d, LOG_FILES.state), 'utf8')) as Record<string, unknown>;
        state.sths = 'x';
        await writeFile(join(d, LOG_FILES.state), JSON.stringify(state));
      },
      /unexpected content \(sths:/,
    ],
    [
      'the key of another log',
      async (d: string) => {
        const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
        await writeFile(join(d, LOG_FILES.key), other.export({ type: 'pkcs8', format: 'pem' }));
      },
      /ct-log\.key\.pem is not usable: the key is not the one of the kept log/,
    ],
    [
      'a damaged key',
      async (d: string) => writeFile(join(d, LOG_FILES.key), '-----BEGIN PRIVATE KEY-----\nAAAA\n'),
      /ct-log\.key\.pem is not usable: not a PEM private key/,
    ],
  ])('%s is a LabError LAB_INVALID_REQUEST naming the file', async (_name, damage, message) => {
    const d = await fresh(`damaged-${_name.replace(/\W+/g, '-')}`);
    await damage(d);
    const result = await codeOf(LabCtLog.load(d));
    expect(result).toMatch(/^LAB_INVALID_REQUEST: /);
    expect(result).toMatch(message);
  });
});

describe('LabIssuer.save / load', () => {
  it('restores the root: same certificate, and what it issues verifies under the saved root', async () => {
    const kept = await fresh('issuer');
    const loaded = await LabIssuer.load(kept);
    expect(loaded.certificate.equals(ca.certificate)).toBe(true);
    expect(loaded.certificatePem).toBe(ca.certificatePem);
    const leaf = loaded.issue({ dnsNames: ['again.jabber.lab'] });
    const root = new X509Certificate(ca.certificate);
    expect(new X509Certificate(leaf.der).verify(root.publicKey)).toBe(true);
    expect(new X509Certificate(leaf.der).issuer).toBe(root.subject);
    expect(root.subject).toContain('CN=certvigil lab CA');
  });

  it.each([
    [
      "another CA's certificate",
      async (d: string) =>
        writeFile(join(d, ISSUER_FILES.certificate), (await LabIssuer.create()).certificatePem),
      /ca\.key\.pem is not usable: the key does not belong to the certificate/,
    ],
    [
      'a truncated certificate',
      async (d: string) => {
        const text = await readFile(join(d, ISSUER_FILES.certificate), 'utf8');
        await writeFile(join(d, ISSUER_FILES.certificate), text.slice(0, 200));
      },
      /ca\.cert\.pem is not usable: not one PEM certificate/,
    ],
    [
      'a certificate cut inside its DER',
      async (d: string) => {
        const pem = ca.certificate.subarray(0, 120).toString('base64');
        await writeFile(
          join(d, ISSUER_FILES.certificate),
          `-----BEGIN CERTIFICATE-----\n${pem}\n-----END CERTIFICATE-----\n`,
        );
      },
      /ca\.cert\.pem is not usable: /,
    ],
    [
      'a missing key',
      async (d: string) => rm(join(d, ISSUER_FILES.key)),
      /no lab CA key in .*: ca\.key\.pem is missing/,
    ],
  ])('%s is a LabError LAB_INVALID_REQUEST', async (_name, damage, message) => {
    const d = await fresh(`issuer-${_name.replace(/\W+/g, '-')}`);
    await damage(d);
    const result = await codeOf(LabIssuer.load(d));
    expect(result).toMatch(/^LAB_INVALID_REQUEST: /);
    expect(result).toMatch(message);
  });
});
