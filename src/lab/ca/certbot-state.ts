/**
 * @module lab/ca/certbot-state
 * The victim's ACME client state on disk, in certbot's own layout, so that the real readers
 * (`acme accounts`, `caa suggest --acme-dir`, `inventory`) find it as they would on a server.
 * The layout and file contents are those certbot 2.x writes (checked against a real run with
 * Debian's certbot and pebble; certbot/_internal/account.py AccountFileStorage, storage.py
 * RenewableCert):
 *
 * ```
 * accounts/<CA host[:port]>/<directory path>/<id>/regr.json   {"body": {}, "uri": <account URL>}
 *                                                 meta.json   {"creation_dt", "creation_host"}
 *                                                 private_key.json   account JWK, 0400
 * renewal/<name>.conf          archive_dir, cert, privkey, chain, fullchain; [renewalparams]
 *                              account, server, authenticator, webroot_path; [[webroot_map]]
 * archive/<name>/certN.pem chainN.pem fullchainN.pem privkeyN.pem (0600), N = 1, 2, …
 * live/<name>/{cert,chain,fullchain,privkey}.pem → ../../archive/<name>/…N.pem (the newest)
 * ```
 *
 * accounts/, archive/, live/ and keys/ are 0700 as certbot makes them.
 */
import { createHash, createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LabError } from '../errors.js';

export interface CertbotCertificate {
  /** The leaf certificate. */
  der: Buffer;
  /** The issuer chain, PEM, leaf excluded. */
  chainPem: string;
  /** The certificate's private key (PKCS#8 PEM); certbot always has one. */
  keyPem: string;
}

export interface CertbotStateOptions {
  /** The CA's ACME directory URL (`server` in the renewal conf). */
  directoryUrl: string;
  /** The account URL (regr.json `uri`). */
  accountUri: string;
  /** The account key: names the account directory like certbot (else the URI does) and is kept as JWK. */
  accountKey?: KeyObject;
  /** The lineage (certificate) name, e.g. 'jabber.lab'. */
  name: string;
  /** Oldest first: archive versions 1…N; live/ points at the last. */
  certificates: CertbotCertificate[];
  authenticator: 'webroot';
  /** The webroot the http-01 files go to; default <dir>/../certbot-www. */
  webroot?: string;
  /** For meta.json; default now. */
  createdAt?: Date;
}

export interface CertbotState {
  /** The config dir (certbot's /etc/letsencrypt), absolute. */
  dir: string;
  accountId: string;
  accountDir: string;
  renewalConf: string;
  archiveDir: string;
  liveDir: string;
}

const LINEAGE_RE = /^[a-z0-9*][a-z0-9*._-]{0,252}$/;
const LIVE_README = `This directory contains your keys and certificates.

\`privkey.pem\`  : the private key for your certificate.
\`fullchain.pem\`: the certificate file used in most server software.
\`chain.pem\`    : used for OCSP stapling in Nginx >=1.3.7.
\`cert.pem\`     : will break many server configurations, and should not be used
                 without reading further documentation (see link below).

WARNING: DO NOT MOVE OR RENAME THESE FILES!
         Certbot expects these files to remain in this location in order
         to function properly!

We recommend not moving these files. For more information, see the Certbot
User Guide at https://certbot.eff.org/docs/using.html#where-are-my-certificates.
`;

function pem(der: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

/** certbot's Account.id: MD5 of the account public key's SubjectPublicKeyInfo PEM, in hex. */
function certbotAccountId(key: KeyObject | undefined, accountUri: string): string {
  const input = key === undefined ? accountUri : createPublicKey(key).export({ type: 'spki', format: 'pem' });
  return createHash('md5').update(input).digest('hex');
}

/**
 * Writes (or rewrites) one certbot lineage and its account under `dir`. Rewriting replaces the
 * lineage's archive/ and live/ folders with exactly `certificates`; other lineages are left alone.
 */
export async function writeCertbotState(dir: string, options: CertbotStateOptions): Promise<CertbotState> {
  const { name, certificates } = options;
  if (!LINEAGE_RE.test(name) || name.includes('..'))
    throw new LabError('LAB_INVALID_REQUEST', 'not a certbot lineage name');
  if (certificates.length === 0)
    throw new LabError('LAB_INVALID_REQUEST', 'a certbot lineage needs a certificate');
  let server: URL;
  try {
    server = new URL(options.directoryUrl);
  } catch (err) {
    throw new LabError('LAB_INVALID_REQUEST', 'the directory URL is not a URL', { cause: err });
  }
  const root = resolve(dir);
  const webroot = options.webroot ?? resolve(root, '..', 'certbot-www');

  // accounts/<netloc>/<path>/<id>/ (certbot: config.accounts_dir_for_server_path(server_path)).
  const serverPath = [server.host, ...server.pathname.split('/').filter((p) => p !== '' && p !== '..')];
  const accountId = certbotAccountId(options.accountKey, options.accountUri);
  const accountDir = join(root, 'accounts', ...serverPath, accountId);
  await mkdir(root, { recursive: true, mode: 0o755 });
  for (const d of ['accounts', 'archive', 'live', 'keys'])
    await mkdir(join(root, d), { recursive: true, mode: 0o700 });
  for (const d of ['renewal', 'renewal-hooks/pre', 'renewal-hooks/deploy', 'renewal-hooks/post']) {
    await mkdir(join(root, d), { recursive: true, mode: 0o755 });
  }
  await mkdir(accountDir, { recursive: true, mode: 0o700 });
  await writeFile(join(accountDir, 'regr.json'), JSON.stringify({ body: {}, uri: options.accountUri }));
  const created = (options.createdAt ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  await writeFile(
    join(accountDir, 'meta.json'),
    JSON.stringify({ creation_dt: created, creation_host: 'localhost' }),
  );
  if (options.accountKey !== undefined) {
    const keyFile = join(accountDir, 'private_key.json');
    await rm(keyFile, { force: true });
    await writeFile(keyFile, JSON.stringify(options.accountKey.export({ format: 'jwk' })), { mode: 0o400 });
  }

  const archiveDir = join(root, 'archive', name);
  const liveDir = join(root, 'live', name);
  await rm(archiveDir, { recursive: true, force: true });
  await rm(liveDir, { recursive: true, force: true });
  await mkdir(archiveDir, { mode: 0o755 });
  await mkdir(liveDir, { mode: 0o755 });
  for (const [i, c] of certificates.entries()) {
    const n = i + 1;
    const leaf = pem(c.der);
    await writeFile(join(archiveDir, `cert${n}.pem`), leaf, { mode: 0o644 });
    await writeFile(join(archiveDir, `chain${n}.pem`), c.chainPem, { mode: 0o644 });
    await writeFile(join(archiveDir, `fullchain${n}.pem`), leaf + c.chainPem, { mode: 0o644 });
    await writeFile(join(archiveDir, `privkey${n}.pem`), c.keyPem, { mode: 0o600 });
    await chmod(join(archiveDir, `privkey${n}.pem`), 0o600); // whatever the umask said
  }
  const newest = certificates.length;
  for (const kind of ['cert', 'chain', 'fullchain', 'privkey']) {
    await symlink(`../../archive/${name}/${kind}${newest}.pem`, join(liveDir, `${kind}.pem`));
  }
  await writeFile(join(liveDir, 'README'), LIVE_README);
  await writeFile(join(root, 'live', 'README'), LIVE_README.replace(/`(\w+)\.pem`/g, '`[cert name]/$1.pem`'));

  const renewalConf = join(root, 'renewal', `${name}.conf`);
  await writeFile(
    renewalConf,
    [
      '# renew_before_expiry = 30 days',
      'version = 2.1.0',
      `archive_dir = ${archiveDir}`,
      `cert = ${join(liveDir, 'cert.pem')}`,
      `privkey = ${join(liveDir, 'privkey.pem')}`,
      `chain = ${join(liveDir, 'chain.pem')}`,
      `fullchain = ${join(liveDir, 'fullchain.pem')}`,
      '',
      '# Options used in the renewal process',
      '[renewalparams]',
      `account = ${accountId}`,
      `config_dir = ${root}`,
      `server = ${options.directoryUrl}`,
      `authenticator = ${options.authenticator}`,
      `webroot_path = ${webroot},`,
      'key_type = ecdsa',
      '[[webroot_map]]',
      `${name} = ${webroot}`,
      '',
    ].join('\n'),
  );
  return { dir: root, accountId, accountDir, renewalConf, archiveDir, liveDir };
}
