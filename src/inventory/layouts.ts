/**
 * @module inventory/layouts
 * Which ACME client owns a directory (detection rules, by structure alone), and how to read each
 * client's tree. A detected layout reads the entries it knows and names the ones it consumed; the
 * walker (scan.ts) treats every other entry as a plain folder would.
 *
 * Detection, checked in this order on every directory the walk enters:
 *
 * | client     | the directory D is a layout root when                                             |
 * | ---------- | --------------------------------------------------------------------------------- |
 * | certbot    | D/archive/ and D/live/ exist, or D/renewal/ and one of archive/, live/, accounts/ |
 * | dehydrated | D/certs/ exists and D/domains.txt, D/accounts/ or D/chains/ exists, or some      |
 * |            | D/certs/X/ holds a `cert-<unix time>.pem`                                         |
 * | lego       | D/certificates/ holds a pair `X.crt` + `X.json` directly                          |
 * | Caddy      | some D/certificates/I/X/ holds `X.crt` (certmagic: issuer dir, then name dir)    |
 * | acme.sh    | D is named N or N_ecc and holds `N.conf` and one of `N.cer`, `N.key`, `N.csr`,   |
 * |            | `fullchain.cer`, `ca.cer`                                                         |
 *
 * Traefik's `acme.json` is recognised per file, in scan.ts.
 */
import type { Dirent } from 'node:fs';
import { basename, join } from 'node:path';
import { RANK } from './context.js';
import type { ScanContext } from './context.js';
import type { LeafRecord } from './certs.js';
import { peekDir, readBounded } from './files.js';
import {
  acmeShNames,
  parseAcmeShConf,
  parseCaddyMeta,
  parseCertbotRenewalConf,
  parseDehydratedDomainsTxt,
  parseLegoResource,
} from './formats.js';

export type LayoutKind = 'certbot' | 'dehydrated' | 'lego' | 'caddy' | 'acme.sh';

export interface Layout {
  kind: LayoutKind;
  /** Entries of the root the layout has read (or deliberately skipped); 'all' claims the directory. */
  consumed: ReadonlySet<string> | 'all';
  read(ctx: ScanContext, dir: string): Promise<void>;
}

const hasDir = (entries: Dirent[], name: string): boolean =>
  entries.some((e) => e.name === name && e.isDirectory());
const hasFile = (entries: Dirent[], name: string): boolean =>
  entries.some((e) => e.name === name && e.isFile());

/** At most this many subdirectories are peeked into by a detection rule. */
const PEEK_LIMIT = 32;

export async function detectLayout(dir: string, entries: Dirent[]): Promise<Layout | null> {
  if (
    (hasDir(entries, 'archive') && hasDir(entries, 'live')) ||
    (hasDir(entries, 'renewal') &&
      (hasDir(entries, 'archive') || hasDir(entries, 'live') || hasDir(entries, 'accounts')))
  ) {
    return { kind: 'certbot', consumed: CERTBOT_CONSUMED, read: readCertbot };
  }
  if (hasDir(entries, 'certs')) {
    const certs = join(dir, 'certs');
    if (
      hasFile(entries, 'domains.txt') ||
      hasDir(entries, 'accounts') ||
      hasDir(entries, 'chains') ||
      (await someSubdir(certs, (files) => files.some((f) => DEHYDRATED_CERT_RE.test(f.name))))
    ) {
      return { kind: 'dehydrated', consumed: DEHYDRATED_CONSUMED, read: readDehydrated };
    }
  }
  if (hasDir(entries, 'certificates')) {
    const certificates = join(dir, 'certificates');
    const direct = await peekDir(certificates);
    const names = new Set(direct.filter((e) => e.isFile()).map((e) => e.name));
    if ([...names].some((n) => n.endsWith('.crt') && names.has(`${n.slice(0, -4)}.json`))) {
      return { kind: 'lego', consumed: LEGO_CONSUMED, read: readLego };
    }
    const isCaddy = await someSubdir(certificates, async (_files, issuerDir) =>
      someSubdir(issuerDir, (files, nameDir) => files.some((f) => f.name === `${basename(nameDir)}.crt`)),
    );
    if (isCaddy) return { kind: 'caddy', consumed: CADDY_CONSUMED, read: readCaddy };
  }
  const name = basename(dir);
  const base = name.endsWith('_ecc') ? name.slice(0, -4) : name;
  if (
    base !== '' &&
    hasFile(entries, `${base}.conf`) &&
    [`${base}.cer`, `${base}.key`, `${base}.csr`, 'fullchain.cer', 'ca.cer'].some((f) => hasFile(entries, f))
  ) {
    return { kind: 'acme.sh', consumed: 'all', read: (ctx, d) => readAcmeSh(ctx, d, base) };
  }
  return null;
}

/** Whether `test` holds for the entries of some subdirectory of `dir` (first PEEK_LIMIT only). */
async function someSubdir(
  dir: string,
  test: (entries: Dirent[], subdir: string) => boolean | Promise<boolean>,
): Promise<boolean> {
  const subdirs = (await peekDir(dir)).filter((e) => e.isDirectory()).slice(0, PEEK_LIMIT);
  for (const s of subdirs) {
    const path = join(dir, s.name);
    if (await test(await peekDir(path), path)) return true;
  }
  return false;
}

/**
 * Subdirectories of a directory a layout expects (not symlinks: a layout's own directories are
 * real ones): [] when it is absent, null (and an error recorded) when it cannot be listed.
 */
async function subdirs(ctx: ScanContext, dir: string): Promise<string[] | null> {
  const entries = await ctx.list(dir);
  return entries === null ? null : entries.filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
}

/** Entries of a directory a layout expects; absent or unreadable (recorded) give []. */
async function entriesOf(ctx: ScanContext, dir: string): Promise<Dirent[]> {
  return (await ctx.list(dir)) ?? [];
}

/** Resolves `path` inside the scan root and collects it if it is a regular file. */
async function collectResolved(
  ctx: ScanContext,
  path: string,
  source: LayoutKind,
  rank: number,
): Promise<LeafRecord[] | null> {
  const r = await ctx.resolve(path);
  if (r === null || r.kind !== 'file') return null;
  return ctx.collect(r.path, source, rank, { expectCertificate: true });
}

/** Reads a small text file (a config); records the failure and returns null if it cannot. */
async function readText(ctx: ScanContext, path: string): Promise<string | null> {
  const r = await ctx.resolve(path);
  if (r === null || r.kind !== 'file') return null;
  try {
    const bytes = await readBounded(r.path, ctx.limits.maxFileBytes);
    return bytes === null ? null : Buffer.from(bytes).toString('utf8');
  } catch (err) {
    ctx.fault(r.path, err);
    return null;
  }
}

/** Runs a pure parser, recording its `InventoryFault` against `path`. */
function tryParse<T>(ctx: ScanContext, path: string, parse: () => T): T | null {
  try {
    return parse();
  } catch (err) {
    ctx.fault(path, err);
    return null;
  }
}

// certbot ---------------------------------------------------------------------------------------
// Layout (certbot/_internal/storage.py, constants.py; docs "Where are my certificates?"):
// archive/<lineage>/{cert,chain,fullchain,privkey}<N>.pem — every version ever obtained, N = 1, 2…;
// live/<lineage>/{cert,chain,fullchain,privkey}.pem — symlinks to the current version;
// renewal/<lineage>.conf — one per lineage certbot renews; accounts/<server>/<id>/; csr/ and keys/.

const CERTBOT_CONSUMED = new Set(['archive', 'live', 'renewal', 'accounts', 'csr', 'keys']);
const CERTBOT_VERSION_RE = /^(cert|fullchain)(\d+)\.pem$/;

async function readCertbot(ctx: ScanContext, dir: string): Promise<void> {
  const renewalDir = join(dir, 'renewal');
  const confs = (await entriesOf(ctx, renewalDir)).filter((e) => e.name.endsWith('.conf')).map((e) => e.name);
  const lineages = new Set<string>(confs.map((c) => c.slice(0, -'.conf'.length)));
  // archive/ is mode 0700 root on a real install: when it cannot be listed that is one error, not
  // one more per lineage.
  const archived = await subdirs(ctx, join(dir, 'archive'));
  for (const d of archived ?? []) lineages.add(basename(d));
  for (const d of (await subdirs(ctx, join(dir, 'live'))) ?? []) lineages.add(basename(d));

  for (const lineage of [...lineages].sort()) {
    // Every archived version: old versions are past issuances the CT log will show too.
    let latest: { n: number; leaves: LeafRecord[] } | null = null;
    const archiveDir = join(dir, 'archive', lineage);
    for (const e of archived === null ? [] : await entriesOf(ctx, archiveDir)) {
      const m = CERTBOT_VERSION_RE.exec(e.name);
      if (m === null) {
        ctx.skip(join(archiveDir, e.name), 'certbot chain or key file: holds no certificate for a name');
        continue;
      }
      const isCert = m[1] === 'cert';
      const leaves = await collectResolved(
        ctx,
        join(archiveDir, e.name),
        'certbot',
        isCert ? RANK.canonical : RANK.bundle,
      );
      const n = Number(m[2]);
      if (isCert && leaves !== null && (latest === null || n > latest.n)) latest = { n, leaves };
    }
    // live/: normally symlinks into archive/ (already read); a real file here is read as well.
    const liveDir = join(dir, 'live', lineage);
    const current = await collectResolved(ctx, join(liveDir, 'cert.pem'), 'certbot', RANK.current);
    await collectResolved(ctx, join(liveDir, 'fullchain.pem'), 'certbot', RANK.current);

    if (!confs.includes(`${lineage}.conf`)) continue; // no renewal conf: certbot no longer manages it
    const confPath = join(renewalDir, `${lineage}.conf`);
    const text = await readText(ctx, confPath);
    if (text === null) continue;
    const conf = tryParse(ctx, confPath, () => parseCertbotRenewalConf(text));
    if (conf === null) continue;
    // storage.py RenewableCert.names(): a lineage's names are those of its current cert (the
    // live/cert.pem target); fall back to the newest archived version when live/ is missing.
    const names = (current ?? latest?.leaves ?? []).flatMap((l) => l.dnsNames);
    ctx.addManaged([...names, ...conf.webrootMap.keys()], 'certbot', confPath);
  }
}

// dehydrated ------------------------------------------------------------------------------------
// Layout (dehydrated 0.7 `sign_domains`, `command_cleanup`, docs/domains_txt.md):
// certs/<name|alias>/cert-<unix time>.pem (+ chain-, fullchain-, privkey-, .csr) and symlinks
// cert.pem, fullchain.pem… to the newest; `--cleanup` moves older files to archive/<name>/ (and a
// revoked certificate's file gets a `-revoked` suffix); alpn-certs/ holds TLS-ALPN-01 challenge
// certificates, which are self-made, never issued, and not read.

const DEHYDRATED_CONSUMED = new Set([
  'certs',
  'archive',
  'accounts',
  'chains',
  'alpn-certs',
  'domains.txt',
  'config',
]);
const DEHYDRATED_CERT_RE = /^cert-\d+\.pem(?:-revoked)?$/;
const DEHYDRATED_FULLCHAIN_RE = /^fullchain-\d+\.pem(?:-revoked)?$/;

async function readDehydrated(ctx: ScanContext, dir: string): Promise<void> {
  const domainsTxt = join(dir, 'domains.txt');
  const text = await readText(ctx, domainsTxt);
  if (text !== null) {
    for (const entry of parseDehydratedDomainsTxt(text))
      ctx.addManaged(entry.names, 'dehydrated', domainsTxt);
  }
  for (const top of ['certs', 'archive']) {
    for (const certDir of (await subdirs(ctx, join(dir, top))) ?? []) {
      for (const e of await entriesOf(ctx, certDir)) {
        const rank = DEHYDRATED_CERT_RE.test(e.name)
          ? RANK.canonical
          : DEHYDRATED_FULLCHAIN_RE.test(e.name)
            ? RANK.bundle
            : e.name === 'cert.pem' || e.name === 'fullchain.pem'
              ? RANK.current
              : null;
        if (rank !== null) await collectResolved(ctx, join(certDir, e.name), 'dehydrated', rank);
      }
    }
  }
}

// lego ------------------------------------------------------------------------------------------
// Layout (lego cmd/certs_storage.go): certificates/<domain>.crt (leaf + chain), .issuer.crt,
// .key, .json (the certificate resource), .pem with --pem; `*` in a name is stored as `_`;
// archives/<unix time>.<domain>.crt… after a revoke (`MoveToArchive`).

const LEGO_CONSUMED = new Set(['certificates', 'archives', 'accounts']);

async function readLego(ctx: ScanContext, dir: string): Promise<void> {
  const certsDir = join(dir, 'certificates');
  const entries = await entriesOf(ctx, certsDir);
  const leavesByBase = new Map<string, LeafRecord[]>();
  for (const e of entries) {
    if (e.name.endsWith('.issuer.crt')) {
      ctx.skip(join(certsDir, e.name), 'lego issuer file: the chain, not a certificate for a name');
      continue;
    }
    if (e.name.endsWith('.crt') || e.name.endsWith('.pem')) {
      const isCrt = e.name.endsWith('.crt');
      const leaves = await collectResolved(
        ctx,
        join(certsDir, e.name),
        'lego',
        isCrt ? RANK.canonical : RANK.bundle,
      );
      if (isCrt && leaves !== null) leavesByBase.set(e.name.slice(0, -4), leaves);
    }
  }
  for (const e of entries) {
    if (!e.name.endsWith('.json')) continue;
    const path = join(certsDir, e.name);
    const text = await readText(ctx, path);
    if (text === null) continue;
    const domain = tryParse(ctx, path, () => parseLegoResource(text));
    if (domain === null) continue;
    // cmd/cmd_renew.go: `renew` asks for certcrypto.ExtractDomains(cert) (merged with --domains),
    // so the names in the stored certificate are managed as well as the resource's domain.
    const fromCert = (leavesByBase.get(e.name.slice(0, -5)) ?? []).flatMap((l) => l.dnsNames);
    ctx.addManaged([domain, ...fromCert], 'lego', path);
  }
  const archives = join(dir, 'archives');
  for (const e of await entriesOf(ctx, archives)) {
    if (/^\d+\..+\.crt$/.test(e.name) && !e.name.endsWith('.issuer.crt')) {
      await collectResolved(ctx, join(archives, e.name), 'lego', RANK.canonical);
    }
  }
}

// Caddy -----------------------------------------------------------------------------------------
// Layout (caddyserver/certmagic storage.go KeyBuilder): certificates/<issuer key>/<safe name>/
// <safe name>.crt, .key and .json (`{"sans": […], "issuer_data": …}`); the issuer key is the ACME
// directory URL made safe, e.g. `acme-v02.api.letsencrypt.org-directory`, or `local` for Caddy's
// internal CA, whose own root and intermediate live in pki/ (CA certificates, not read).

const CADDY_CONSUMED = new Set(['certificates', 'acme', 'ocsp', 'locks', 'pki']);

async function readCaddy(ctx: ScanContext, dir: string): Promise<void> {
  for (const issuerDir of (await subdirs(ctx, join(dir, 'certificates'))) ?? []) {
    for (const nameDir of (await subdirs(ctx, issuerDir)) ?? []) {
      const name = basename(nameDir);
      await collectResolved(ctx, join(nameDir, `${name}.crt`), 'caddy', RANK.canonical);
      const metaPath = join(nameDir, `${name}.json`);
      const text = await readText(ctx, metaPath);
      if (text === null) continue;
      const sans = tryParse(ctx, metaPath, () => parseCaddyMeta(text));
      if (sans !== null) ctx.addManaged(sans, 'caddy', metaPath);
    }
  }
}

// acme.sh ---------------------------------------------------------------------------------------
// Layout (acme.sh `_initpath`): $CERT_HOME/<domain>[_ecc]/ with <domain>.conf (Le_Domain, Le_Alt,
// …), <domain>.cer (the leaf), fullchain.cer, ca.cer (the chain: CA certificates), <domain>.key,
// <domain>.csr; `_ecc` suffix for ECDSA keys; a wildcard's directory keeps the `*`.

async function readAcmeSh(ctx: ScanContext, dir: string, base: string): Promise<void> {
  const confPath = join(dir, `${base}.conf`);
  const text = await readText(ctx, confPath);
  if (text !== null) {
    const conf = parseAcmeShConf(text);
    if (conf.has('Le_Domain')) ctx.addManaged(acmeShNames(conf), 'acme.sh', confPath);
    else ctx.error(confPath, 'INVENTORY_BAD_CONFIG', 'acme.sh domain conf without Le_Domain');
  }
  await collectResolved(ctx, join(dir, `${base}.cer`), 'acme.sh', RANK.canonical);
  await collectResolved(ctx, join(dir, 'fullchain.cer'), 'acme.sh', RANK.bundle);
}
