/**
 * `scanInventory` on documented-format fixture trees built here from certificates made with
 * openssl at test time (test/fixtures/acme/openssl.ts), for the layouts no Debian package can
 * produce — acme.sh (layout: acme.sh `_initpath`, conf: `_save_conf`), Traefik `acme.json`
 * (traefik pkg/provider/acme local_store.go/store.go/provider.go for v2/v3, provider/acme and
 * acme/account.go for v1) and plain folders — and for the failure modes: corrupt, unreadable and
 * huge files, FIFOs, symlink loops, deep trees. certbot, dehydrated, lego and Caddy are tested on
 * real client output in real-clients.test.ts; the certbot tree here (certbot/_internal/storage.py
 * layout) only adds cases a real run does not produce (a copied live/ file, a broken conf).
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpensslCa } from '../../test/fixtures/acme/openssl.js';
import type { TestCert } from '../../test/fixtures/acme/openssl.js';
import { inventoryPathProblem, scanInventory, unreadablePaths } from './index.js';
import type { InventoryScan } from './index.js';

const runFile = promisify(execFile);

let ca: OpensslCa;
let root: string;

beforeAll(async () => {
  ca = await OpensslCa.create();
  root = await mkdtemp(join(tmpdir(), 'certvigil-inventory-'));
  await chmod(root, 0o755); // readable by the unprivileged child of the "unreadable file" test
}, 60_000);

afterAll(async () => {
  await ca?.dispose();
  if (root !== undefined) {
    execFileSync('chmod', ['-R', 'u+rwx', root]);
    await rm(root, { recursive: true, force: true });
  }
});

async function put(path: string, content: string | Uint8Array, mode = 0o644): Promise<string> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  await writeFile(path, content, { mode });
  await chmod(path, mode);
  return path;
}

/** Whether a user other than the owner can reach and read `file` (o+x on every parent, o+r on it). */
function othersCanRead(file: string): boolean {
  if ((statSync(file).mode & 0o004) === 0) return false;
  for (let d = dirname(file); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (d === dirname(d)) return true;
  }
}

const codes = (scan: InventoryScan): [string, string | undefined][] =>
  scan.errors.map((e) => [e.path.slice(root.length + 1), e.code]);
const rel = (scan: InventoryScan): string[] => scan.certificates.map((c) => c.path.slice(root.length + 1));

describe('acme.sh (documented format)', () => {
  let a: TestCert, b: TestCert, w: TestCert;
  let home: string;
  beforeAll(async () => {
    home = join(root, 'acmesh', '.acme.sh');
    [a, b, w] = [
      await ca.leaf(['example.com', 'www.example.com', 'static.example.com']),
      await ca.leaf(['ecc.example.com']),
      await ca.leaf(['*.wild.example.com', 'wild.example.com']),
    ];
    await put(join(home, 'account.conf'), "ACCOUNT_EMAIL='admin@example.com'\n");
    await put(join(home, 'ca/acme-v02.api.letsencrypt.org/directory/account.json'), '{"status":"valid"}');
    await put(join(home, 'acme.sh'), '#!/usr/bin/env sh\n');
    const d = join(home, 'example.com');
    await put(
      join(d, 'example.com.conf'),
      "Le_Domain='example.com'\nLe_Alt='www.example.com,static.example.com'\nLe_Webroot='/var/www'\n" +
        "Le_API='https://acme-v02.api.letsencrypt.org/directory'\nLe_Keylength='2048'\n",
    );
    await put(join(d, 'example.com.cer'), a.pem);
    await put(join(d, 'ca.cer'), ca.cert.pem);
    await put(join(d, 'fullchain.cer'), a.pem + ca.cert.pem);
    await put(join(d, 'example.com.key'), a.keyPem, 0o600);
    await put(
      join(d, 'example.com.csr'),
      '-----BEGIN CERTIFICATE REQUEST-----\nAA==\n-----END CERTIFICATE REQUEST-----\n',
    );
    // An ECDSA certificate: `_ecc` directory suffix; the older double-quoted conf format.
    const e = join(home, 'ecc.example.com_ecc');
    await put(
      join(e, 'ecc.example.com.conf'),
      'Le_Domain="ecc.example.com"\nLe_Alt="no"\nLe_Keylength="ec-256"\n',
    );
    await put(join(e, 'ecc.example.com.cer'), b.pem);
    await put(join(e, 'fullchain.cer'), b.pem + ca.cert.pem);
    // A wildcard: acme.sh keeps the `*` in the directory and file names.
    const wd = join(home, '*.wild.example.com');
    await put(
      join(wd, '*.wild.example.com.conf'),
      "Le_Domain='*.wild.example.com'\nLe_Alt='wild.example.com'\n",
    );
    await put(join(wd, '*.wild.example.com.cer'), w.pem);
  });

  it('reads <domain>.cer of each domain directory, names from Le_Domain/Le_Alt', async () => {
    const scan = await scanInventory([join(root, 'acmesh')]);
    expect(scan.errors).toEqual([]);
    expect(scan.certificates.map((c) => [c.source, c.path.slice(home.length + 1), c.certSha256])).toEqual([
      ['acme.sh', '*.wild.example.com/*.wild.example.com.cer', w.sha256],
      ['acme.sh', 'ecc.example.com_ecc/ecc.example.com.cer', b.sha256],
      ['acme.sh', 'example.com/example.com.cer', a.sha256],
    ]);
    expect(scan.certificates[2]).toMatchObject({
      serial: a.serial,
      dnsNames: ['example.com', 'www.example.com', 'static.example.com'],
      issuer: 'CN=certvigil test CA',
    });
    expect(scan.managedNames).toEqual([
      '*.wild.example.com',
      'ecc.example.com',
      'example.com',
      'static.example.com',
      'wild.example.com',
      'www.example.com',
    ]);
  });
});

describe('Traefik acme.json (documented format)', () => {
  let t1: TestCert, t2: TestCert, v1: TestCert;
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  beforeAll(async () => {
    [t1, t2, v1] = [
      await ca.leaf(['traefik.example.com', 'www.traefik.example.com']),
      await ca.leaf(['staging.example.com']),
      await ca.leaf(['v1.example.com']),
    ];
    const v2store = {
      letsencrypt: {
        Account: {
          Email: 'admin@example.com',
          Registration: { body: { status: 'valid' } },
          PrivateKey: b64('k'),
          KeyType: '4096',
        },
        Certificates: [
          {
            domain: { main: 'traefik.example.com', sans: ['www.traefik.example.com'] },
            certificate: b64(t1.pem + ca.cert.pem),
            key: b64(t1.keyPem),
            Store: 'default',
          },
          {
            domain: { main: 'broken.example.com' },
            certificate: 'bm90IGJhc2U2NA==!',
            key: b64('k'),
            Store: 'default',
          },
          { domain: { main: 'dropped.example.com' }, certificate: '', key: '', Store: 'default' },
        ],
      },
      staging: {
        Account: null,
        Certificates: [
          {
            domain: { main: 'staging.example.com' },
            certificate: b64(t2.pem),
            key: b64('k'),
            Store: 'default',
          },
        ],
      },
    };
    await put(join(root, 'traefik/v2/acme.json'), JSON.stringify(v2store, null, 2), 0o600);
    const v1store = {
      Account: { Email: 'admin@example.com', Registration: null, PrivateKey: b64('k') },
      Certificates: [
        {
          Domain: { Main: 'v1.example.com', SANs: null },
          Certificate: b64(v1.pem + ca.cert.pem),
          Key: b64('k'),
        },
      ],
      HTTPChallenges: {},
      TLSChallenges: {},
    };
    await put(join(root, 'traefik/v1/acme.json'), JSON.stringify(v1store), 0o600);
    await put(join(root, 'traefik/empty/acme.json'), '', 0o600);
    await put(join(root, 'traefik/v1/package.json'), '{"name": "not-a-store", "version": "1.0.0"}');
  });

  it('reads every resolver (v2/v3) and the v1 store; bad entries are errors, empty ones dropped', async () => {
    const scan = await scanInventory([join(root, 'traefik')]);
    const v2file = join(root, 'traefik/v2/acme.json');
    expect(scan.certificates.map((c) => [c.source, c.path.slice(root.length + 1), c.certSha256])).toEqual([
      ['traefik', 'traefik/v1/acme.json#v1.example.com', v1.sha256],
      ['traefik', 'traefik/v2/acme.json#letsencrypt/traefik.example.com', t1.sha256],
      ['traefik', 'traefik/v2/acme.json#staging/staging.example.com', t2.sha256],
    ]);
    expect(scan.certificates[1]?.dnsNames).toEqual(['traefik.example.com', 'www.traefik.example.com']);
    expect(codes(scan)).toEqual([
      ['traefik/v2/acme.json#letsencrypt/broken.example.com', 'INVENTORY_BAD_CERTIFICATE'],
    ]);
    expect(scan.managedNames).toEqual([
      'broken.example.com',
      'staging.example.com',
      'traefik.example.com',
      'v1.example.com',
      'www.traefik.example.com',
    ]);
    expect(scan.managedNameSources?.find((m) => m.name === 'staging.example.com')).toEqual({
      name: 'staging.example.com',
      source: 'traefik',
      path: v2file,
    });
  });
});

describe('plain folders', () => {
  let leaf: TestCert, bundled: TestCert, der: TestCert, after: TestCert;
  beforeAll(async () => {
    [leaf, bundled, der, after] = [
      await ca.leaf(['plain.example.com']),
      await ca.leaf(['bundle.example.com']),
      await ca.leaf(['der.example.com']),
      await ca.leaf(['after.example.com']),
    ];
    const d = join(root, 'plain');
    await put(join(d, 'a-leaf.pem'), leaf.pem);
    await put(join(d, 'b-fullchain.CRT'), bundled.pem + ca.cert.pem);
    await put(join(d, 'c-ca-only.pem'), ca.cert.pem);
    await put(join(d, 'd-leaf.der'), der.der);
    await put(join(d, 'e-key.pem'), leaf.keyPem);
    await put(join(d, 'f-readme.crt'), 'Put your certificate here.\n');
    await put(join(d, 'g-empty.pem'), '');
    // Damaged files: the scan records each and goes on to the next (z-after.pem).
    const body = leaf.pem.split('\n');
    await put(
      join(d, 'm-corrupt.pem'),
      [...body.slice(0, 3), '@@@@ not base64 @@@@', ...body.slice(3)].join('\n'),
    );
    await put(join(d, 'n-truncated.pem'), body.slice(0, 4).join('\n'));
    await put(join(d, 'o-garbage.der'), Buffer.from([0x30, 0x82, 0x01, 0x00, 0xde, 0xad]));
    await put(
      join(d, 'p-second-block-bad.pem'),
      after.pem + '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
    );
    await put(join(d, 'notes.txt'), leaf.pem);
    await put(join(d, 'z-after.pem'), after.pem);
  });

  it('reads leaves from PEM and DER files, skips CA certificates and non-certificates', async () => {
    const scan = await scanInventory([join(root, 'plain')]);
    expect(scan.certificates.map((c) => [c.source, c.path.slice(root.length + 1), c.certSha256])).toEqual([
      ['pem', 'plain/a-leaf.pem', leaf.sha256],
      ['pem', 'plain/b-fullchain.CRT', bundled.sha256],
      ['pem', 'plain/d-leaf.der', der.sha256],
      ['pem', 'plain/p-second-block-bad.pem', after.sha256],
    ]);
    expect(scan.managedNames).toEqual([]);
  });

  it('records each damaged file with a code, and keeps going', async () => {
    const scan = await scanInventory([join(root, 'plain')]);
    expect(codes(scan)).toEqual([
      ['plain/m-corrupt.pem', 'INVENTORY_BAD_CERTIFICATE'],
      ['plain/n-truncated.pem', 'INVENTORY_BAD_CERTIFICATE'],
      ['plain/o-garbage.der', 'INVENTORY_BAD_CERTIFICATE'],
      ['plain/p-second-block-bad.pem', 'INVENTORY_BAD_CERTIFICATE'],
    ]);
    expect(scan.errors[0]?.error).toMatch(/^INVENTORY_BAD_CERTIFICATE: X509_BAD_PEM: /);
    expect(scan.errors[3]?.error).toMatch(/^INVENTORY_BAD_CERTIFICATE: certificate #2: X509_MALFORMED: /);
    // The file after the damaged ones was read, and the same certificate is not listed twice.
    expect(scan.certificates.filter((c) => c.certSha256 === after.sha256)).toHaveLength(1);
  });

  it('a file given as a path is read whatever its name', async () => {
    const file = await put(join(root, 'single', 'server-certificate'), leaf.pem);
    const scan = await scanInventory([file]);
    expect(rel(scan)).toEqual(['single/server-certificate']);
  });
});

describe('certbot (documented format): copies, deleted and broken lineages', () => {
  let v1: TestCert, v2: TestCert, old: TestCert, broken: TestCert;
  let le: string;
  beforeAll(async () => {
    [v1, v2, old, broken] = [
      await ca.leaf(['a.example.com', 'www.a.example.com']),
      await ca.leaf(['a.example.com', 'www.a.example.com', 'new.a.example.com']),
      await ca.leaf(['old.example.com']),
      await ca.leaf(['broken.example.com']),
    ];
    le = join(root, 'letsencrypt');
    const arch = join(le, 'archive/a.example.com');
    await put(join(arch, 'cert1.pem'), v1.pem);
    await put(join(arch, 'chain1.pem'), ca.cert.pem);
    await put(join(arch, 'fullchain1.pem'), v1.pem + ca.cert.pem);
    await put(join(arch, 'privkey1.pem'), v1.keyPem, 0o600);
    await put(join(arch, 'cert2.pem'), v2.pem);
    await put(join(arch, 'chain2.pem'), ca.cert.pem);
    await put(join(arch, 'fullchain2.pem'), v2.pem + ca.cert.pem);
    const live = join(le, 'live/a.example.com');
    await mkdir(live, { recursive: true, mode: 0o755 });
    await symlink('../../archive/a.example.com/cert2.pem', join(live, 'cert.pem'));
    // A copy instead of the symlink (a restore from backup): the archive record still wins.
    await put(join(live, 'fullchain.pem'), v2.pem + ca.cert.pem);
    await put(
      join(le, 'renewal/a.example.com.conf'),
      'version = 2.1.0\narchive_dir = /etc/letsencrypt/archive/a.example.com\ncert = /etc/letsencrypt/live/a.example.com/cert.pem\n\n' +
        '[renewalparams]\nauthenticator = webroot\nserver = https://acme-v02.api.letsencrypt.org/directory\n[[webroot_map]]\nextra.a.example.com = /var/www\n',
    );
    // A lineage whose renewal conf was deleted: its certificates are past issuances, not managed.
    await put(join(le, 'archive/old.example.com/cert1.pem'), old.pem);
    // A broken renewal conf: an error, certificates still read, names not managed (certbot skips it).
    await put(join(le, 'archive/broken.example.com/cert1.pem'), broken.pem);
    await put(join(le, 'renewal/broken.example.com.conf'), 'version = 2.1.0\nthis line is broken\n');
    await put(join(le, 'accounts/acme-v02.api.letsencrypt.org/directory/abc/meta.json'), '{}');
    await put(join(le, 'options-ssl-nginx.conf'), 'ssl_session_cache shared:le_nginx_SSL:10m;\n');
  });

  it('all versions, archive paths preferred, names of the current version and webroot_map', async () => {
    const scan = await scanInventory([le]);
    expect(rel(scan)).toEqual([
      'letsencrypt/archive/a.example.com/cert1.pem',
      'letsencrypt/archive/a.example.com/cert2.pem',
      'letsencrypt/archive/broken.example.com/cert1.pem',
      'letsencrypt/archive/old.example.com/cert1.pem',
    ]);
    expect(scan.certificates.map((c) => c.certSha256)).toEqual([
      v1.sha256,
      v2.sha256,
      broken.sha256,
      old.sha256,
    ]);
    expect(codes(scan)).toEqual([['letsencrypt/renewal/broken.example.com.conf', 'INVENTORY_BAD_CONFIG']]);
    expect(scan.managedNames).toEqual([
      'a.example.com',
      'extra.a.example.com',
      'new.a.example.com',
      'www.a.example.com',
    ]);
  });

  it('a subdirectory scanned first as a plain folder does not steal the certbot attribution', async () => {
    const scan = await scanInventory([join(le, 'archive/a.example.com'), le]);
    expect(scan.certificates.map((c) => c.source)).toEqual(['certbot', 'certbot', 'certbot', 'certbot']);
    expect(rel(scan)[0]).toBe('letsencrypt/archive/a.example.com/cert1.pem');
  });
});

describe('walking: symlinks, loops, depth, limits', () => {
  let inside: TestCert, outside: TestCert, shallow: TestCert, deep: TestCert;
  let tree: string;
  beforeAll(async () => {
    [inside, outside, shallow, deep] = [
      await ca.leaf(['inside.example.com']),
      await ca.leaf(['outside.example.com']),
      await ca.leaf(['shallow.example.com']),
      await ca.leaf(['deep.example.com']),
    ];
    tree = join(root, 'walk', 'tree');
    await put(join(tree, 'real/inside.pem'), inside.pem);
    await put(join(root, 'walk/elsewhere/outside.pem'), outside.pem);
    await symlink('real/inside.pem', join(tree, 'link-to-inside.pem'));
    await symlink('../elsewhere/outside.pem', join(tree, 'link-to-outside.pem'));
    await symlink('../elsewhere', join(tree, 'dir-link-outside'));
    await symlink('.', join(tree, 'self'));
    await symlink('..', join(tree, 'parent'));
    await symlink('/', join(tree, 'slash'));
    await symlink('ring-b', join(tree, 'ring-a.pem'));
    await symlink('ring-a.pem', join(tree, 'ring-b'));
    await symlink('missing.pem', join(tree, 'dangling.pem'));
    let d = join(tree, 'deep');
    for (let i = 1; i <= 30; i++) {
      d = join(d, `d${i}`);
      await mkdir(d, { recursive: true, mode: 0o755 });
      if (i === 3) await put(join(d, 'shallow.pem'), shallow.pem);
      if (i === 25) await put(join(d, 'deep.pem'), deep.pem);
      if (i === 10) await symlink('../../..', join(d, 'up'));
    }
    execFileSync('mkfifo', [join(tree, 'fifo.pem')]);
  });

  it('terminates on loops, never leaves the tree, reads a linked file once, stops at maxDepth', async () => {
    const started = Date.now();
    const scan = await scanInventory([tree]);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(rel(scan)).toEqual(['walk/tree/deep/d1/d2/d3/shallow.pem', 'walk/tree/real/inside.pem']);
    // deep/ is level 1, d1 level 2, …, d15 level 16 (the default maxDepth): d16 is not entered.
    expect(codes(scan)).toEqual([
      ['walk/tree/deep/d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12/d13/d14/d15/d16', 'INVENTORY_LIMIT'],
    ]);
    const deeper = await scanInventory([tree], { maxDepth: 40 });
    expect(deeper.certificates.map((c) => c.certSha256)).toContain(deep.sha256);
    expect(deeper.errors).toEqual([]);
  });

  it('overlapping paths are walked once; a missing path is an error and the rest still scanned', async () => {
    const scan = await scanInventory([join(root, 'nope'), tree, join(tree, 'real'), join(tree, 'real')]);
    expect(rel(scan)).toEqual(['walk/tree/deep/d1/d2/d3/shallow.pem', 'walk/tree/real/inside.pem']);
    expect(codes(scan)[0]).toEqual(['nope', 'INVENTORY_PATH_UNREADABLE']);
  });

  it('skips files over maxFileBytes and stops after maxEntries', async () => {
    const big = await scanInventory([join(tree, 'real')], { maxFileBytes: 100 });
    expect(big.certificates).toEqual([]);
    expect(codes(big)).toEqual([['walk/tree/real/inside.pem', 'INVENTORY_TOO_LARGE']]);
    const few = await scanInventory([tree], { maxEntries: 3 });
    expect(codes(few).map((c) => c[1])).toEqual(['INVENTORY_LIMIT']);
  });
});

describe('unreadable files and directories', () => {
  let good: TestCert;
  let dir: string;
  beforeAll(async () => {
    good = await ca.leaf(['readable.example.com']);
    dir = join(root, 'perm');
    await put(join(dir, 'a-locked.pem'), good.pem, 0o000);
    await put(join(dir, 'locked-dir/x.pem'), good.pem);
    await chmod(join(dir, 'locked-dir'), 0o000);
    await put(join(dir, 'z-good.pem'), good.pem);
    // certbot's archive/ is 0700 root: what an unprivileged certvigil meets on a real install.
    const le = join(dir, 'le');
    await put(join(le, 'archive/x.example.com/cert1.pem'), good.pem);
    await mkdir(join(le, 'live/x.example.com'), { recursive: true, mode: 0o755 });
    await symlink('../../archive/x.example.com/cert1.pem', join(le, 'live/x.example.com/cert.pem'));
    await put(
      join(le, 'renewal/x.example.com.conf'),
      '[renewalparams]\n[[webroot_map]]\nx.example.com = /var/www\n',
    );
    await chmod(join(le, 'archive'), 0o000);
  });

  it('records EACCES for each and reads the rest', async (t) => {
    let scan: InventoryScan;
    if (process.getuid?.() === 0) {
      // Root reads mode-000 files: scan as nobody (65534) in a child process instead, which needs
      // the checkout to be readable by others.
      if (!othersCanRead(join(process.cwd(), 'test/fixtures/acme/scan-cli.ts'))) {
        t.skip('running as root in a checkout other users cannot read');
        return;
      }
      const { stdout } = await runFile(
        process.execPath,
        ['--import', 'tsx', 'test/fixtures/acme/scan-cli.ts', dir],
        { uid: 65534, gid: 65534, cwd: process.cwd(), env: { ...process.env, HOME: root } },
      );
      scan = JSON.parse(stdout) as InventoryScan;
    } else {
      scan = await scanInventory([dir]);
    }
    expect(rel(scan)).toEqual(['perm/z-good.pem']);
    expect(codes(scan)).toEqual([
      ['perm/a-locked.pem', 'INVENTORY_UNREADABLE'],
      ['perm/le/archive', 'INVENTORY_UNREADABLE'],
      ['perm/le/live/x.example.com/cert.pem', 'INVENTORY_UNREADABLE'],
      ['perm/locked-dir', 'INVENTORY_UNREADABLE'],
    ]);
    expect(scan.errors.every((e) => e.error.includes('EACCES'))).toBe(true);
    // The lineage is still known to be managed (from its readable renewal conf).
    expect(scan.managedNames).toEqual(['x.example.com']);
  });

  // A file the kernel refuses to read even to root (write-only sysctl, mode 0200).
  it.skipIf(!existsSync('/proc/sys/vm/drop_caches'))(
    'a file nobody may read is an error, the next path is still scanned',
    async () => {
      const scan = await scanInventory(['/proc/sys/vm/drop_caches', join(dir, 'z-good.pem')]);
      expect(scan.errors).toEqual([
        {
          path: '/proc/sys/vm/drop_caches',
          code: 'INVENTORY_PATH_UNREADABLE',
          error: expect.stringMatching(/EACCES/) as unknown,
        },
      ]);
      expect(scan.certificates.map((c) => c.certSha256)).toEqual([good.sha256]);
    },
  );
});

/** `openssl req -x509` as a user types it: OpenSSL's default config marks the result CA:TRUE. */
async function selfSigned(dir: string, name: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const out = join(dir, `${name}.self.pem`);
  await runFile('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', join(dir, `${name}.self.key`), '-out', out, '-days', '30', '-subj', `/CN=${name}`,
    '-addext', `subjectAltName=DNS:${name}`,
  ]); // prettier-ignore
  const { stdout } = await runFile('openssl', ['x509', '-in', out, '-noout', '-text']);
  expect(stdout).toMatch(/CA:TRUE/); // the case of issue 12
  const { readFile } = await import('node:fs/promises');
  return readFile(out, 'utf8');
}

describe('issue 12: which certificates of a file are the inventory', () => {
  let self: string;
  let leaf: TestCert;
  let dir: string;
  beforeAll(async () => {
    dir = join(root, 'issue12');
    self = await selfSigned(join(root, 'issue12-openssl'), 'self.example.test');
    leaf = await ca.leaf(['chained.example.test']);
  }, 60_000);

  it('a CA:TRUE self-signed leaf alone in a PEM folder is an inventory certificate', async () => {
    await put(join(dir, 'pem/self.example.test.pem'), self);
    const scan = await scanInventory([join(dir, 'pem')]);
    expect(scan.errors).toEqual([]);
    expect(scan.certificates.map((c) => c.dnsNames)).toEqual([['self.example.test']]);
  });

  it('a CA:TRUE self-signed leaf in a certbot layout (cert.pem, fullchain.pem) is counted', async () => {
    const cb = join(dir, 'letsencrypt');
    await put(join(cb, 'archive/self.example.test/cert1.pem'), self);
    await put(join(cb, 'archive/self.example.test/fullchain1.pem'), self);
    await put(join(cb, 'archive/self.example.test/chain1.pem'), ca.cert.pem);
    await mkdir(join(cb, 'live/self.example.test'), { recursive: true });
    await symlink('../../archive/self.example.test/cert1.pem', join(cb, 'live/self.example.test/cert.pem'));
    await put(
      join(cb, 'renewal/self.example.test.conf'),
      'version = 2.11.0\n[renewalparams]\nauthenticator = standalone\n',
    );
    const scan = await scanInventory([cb]);
    expect(scan.errors).toEqual([]);
    expect(scan.certificates.map((c) => [c.source, c.dnsNames])).toEqual([
      ['certbot', ['self.example.test']],
    ]);
  });

  it('skips only the issuers: after the leaf of a fullchain, and chain-only files, saying why', async () => {
    const pem = join(dir, 'mixed');
    await put(join(pem, 'fullchain.pem'), leaf.pem + ca.cert.pem);
    await put(join(pem, 'chain.pem'), ca.cert.pem);
    await put(join(pem, 'root-alone.pem'), ca.cert.pem);
    await put(join(pem, 'self-fullchain.pem'), self + ca.cert.pem);
    await put(join(pem, 'privkey.pem'), leaf.keyPem);
    await put(join(pem, 'README.txt'), 'hello');
    const skipped: [string, string][] = [];
    const scan = await scanInventory([pem], {
      onSkip: (p, why) => skipped.push([p.slice(pem.length + 1), why]),
    });
    expect(scan.errors).toEqual([]);
    expect(scan.certificates.map((c) => [c.path.slice(pem.length + 1), c.dnsNames])).toEqual([
      ['fullchain.pem', ['chained.example.test']],
      ['self-fullchain.pem', ['self.example.test']],
    ]);
    expect(skipped).toEqual(
      expect.arrayContaining([
        ['README.txt', expect.stringMatching(/not a certificate file name/) as unknown],
        ['chain.pem', expect.stringMatching(/in a chain file: an issuer/) as unknown],
        [
          'fullchain.pem',
          expect.stringMatching(/^certificate #2: an issuer in the chain after the leaf/) as unknown,
        ],
        ['privkey.pem', expect.stringMatching(/PEM without a CERTIFICATE block/) as unknown],
        ['root-alone.pem', expect.stringMatching(/a CA certificate that names no host/) as unknown],
        ['self-fullchain.pem', expect.stringMatching(/^certificate #2: an issuer/) as unknown],
      ]),
    );
  });

  it('a path that does not exist is INVENTORY_PATH_UNREADABLE, never an empty inventory', async () => {
    const scan = await scanInventory([join(dir, 'no-such-dir')]);
    expect(scan.certificates).toEqual([]);
    expect(unreadablePaths(scan).map((e) => e.error)).toEqual([
      expect.stringMatching(/^INVENTORY_PATH_UNREADABLE: no such file or directory \(ENOENT\)$/) as unknown,
    ]);
    expect(await inventoryPathProblem(join(dir, 'no-such-dir'))).toBe('no such file or directory (ENOENT)');
    expect(await inventoryPathProblem(dir)).toBeNull();
  });
});
