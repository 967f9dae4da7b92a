/**
 * @module acme/discover
 * Finds ACME accounts (account URL, CA directory, names, challenge types) in the storage of the
 * common ACME clients. Formats, with sources:
 *
 * - certbot: `accounts/<server host>/<server path>/<id>/regr.json` `{"body":…,"uri":…}` and
 *   `renewal/<name>.conf` (`account`, `server`, `authenticator`, `pref_challs`, `cert`) —
 *   certbot/certbot/_internal/account.py (AccountFileStorage) and storage.py (RenewableCert),
 *   https://eff-certbot.readthedocs.io/en/stable/using.html#renewal-configuration-file ; checked
 *   against real certbot output (src/acme/real-clients.test.ts).
 * - dehydrated: `accounts/<urlbase64(CA)>/account_id.json` (`{"id":…}` / account URL) and
 *   `registration_info.json` (RFC 8555 account object), `config` `CA=`, `CHALLENGETYPE=`,
 *   `domains.txt` — dehydrated/dehydrated `dehydrated` script (init_system, ACCOUNT_ID_JSON) and
 *   docs/examples/config; checked against real dehydrated output.
 * - acme.sh: `ca/<host>/<path>/ca.conf` `ACCOUNT_URL='…'`, per-domain `<domain>[_ecc]/<domain>.conf`
 *   `Le_Domain`, `Le_Alt`, `Le_Webroot` (`dns_*` → dns-01, `alpn` → tls-alpn-01, otherwise
 *   http-01), `Le_API` — acmesh-official/acme.sh `acme.sh` (_regAccount, _savedomainconf).
 * - lego: `accounts/<server host_port>/<email>/account.json` `registration.uri`, and
 *   `certificates/<domain>.json` `domain` — go-acme/lego cmd/accounts_storage.go,
 *   cmd/certs_storage.go; checked against real lego output.
 * - Caddy (certmagic): `acme/<issuer key>/users/<email>/<user>.json` = acmez `acme.Account`
 *   (`location` = account URL) — caddyserver/certmagic storage.go (StorageKeys.UserReg),
 *   mholt/acmez acme/account.go; names from `certificates/<issuer key>/<name>/`.
 * - Traefik: `acme.json` `{<resolver>: {Account: {Registration: {uri}}, Certificates: [{domain:
 *   {main, sans}}]}}` — traefik/traefik pkg/provider/acme/local_store.go, account.go.
 * - cert-manager: Issuer/ClusterIssuer YAML `spec.acme.server`, `status.acme.uri`,
 *   `spec.acme.solvers[].http01|dns01`, `selector.dnsNames` — cert-manager.io/docs/configuration/acme/
 *   and pkg/apis/acme/v1 (ACMEIssuerStatus.URI).
 */
import { X509Certificate } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { issuerForUrl } from './ca-map.js';
import type { AcmeAccount, AcmeClient } from './types.js';

async function entries(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}
async function text(path: string): Promise<string | null> {
  try {
    const s = await stat(path);
    if (!s.isFile() || s.size > 4 << 20) return null;
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}
async function json(path: string): Promise<unknown> {
  const t = await text(path);
  if (t === null) return null;
  try {
    return JSON.parse(t) as unknown;
  } catch {
    return null;
  }
}
const obj = (v: unknown): Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const uniq = (xs: readonly string[]): string[] => [...new Set(xs)].sort();

function account(
  client: AcmeClient,
  path: string,
  accountUri: string,
  caDirectory: string | null,
  names: string[] = [],
  challengeTypes: string[] = [],
): AcmeAccount {
  return {
    client,
    path,
    caDirectory,
    caIssuer: issuerForUrl(caDirectory ?? accountUri),
    accountUri,
    names: uniq(names),
    challengeTypes: uniq(challengeTypes),
  };
}

async function certNames(path: string | null): Promise<string[]> {
  if (!path) return [];
  try {
    const x = new X509Certificate(await readFile(path));
    return (x.subjectAltName ?? '')
      .split(', ')
      .filter((s) => s.startsWith('DNS:'))
      .map((s) => s.slice(4));
  } catch {
    return [];
  }
}

/** `key = value` lines (certbot renewal conf is ConfigObj; shell-style files are close enough). */
function keyValues(t: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of t.split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    let v = m[2] ?? '';
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    if (!map.has(m[1] as string)) map.set(m[1] as string, v);
  }
  return map;
}

// certbot ----------------------------------------------------------------------------------------

/** certbot authenticator → challenge types (certbot docs "Getting certificates … plugins"). */
function certbotChallenges(authenticator: string | undefined, prefChalls: string | undefined): string[] {
  const pref = (prefChalls ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)
    .map((s) => (s === 'dns' ? 'dns-01' : s === 'http' ? 'http-01' : s));
  const a = authenticator ?? '';
  if (a === 'webroot' || a === 'standalone' || a === 'nginx' || a === 'apache') return ['http-01'];
  if (a.startsWith('dns-') || a.startsWith('dns_')) return ['dns-01'];
  if (a === 'manual') return pref.length > 0 ? pref : ['http-01'];
  return pref;
}

async function walkRegr(dir: string, found: string[], depth = 0): Promise<void> {
  if (depth > 6) return;
  for (const e of await entries(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walkRegr(p, found, depth + 1);
    else if (e.name === 'regr.json') found.push(p);
  }
}

async function certbot(root: string): Promise<AcmeAccount[]> {
  const accountsDir = join(root, 'accounts');
  const regrs: string[] = [];
  await walkRegr(accountsDir, regrs);
  if (regrs.length === 0) return [];
  const renewals: Map<string, string>[] = [];
  for (const e of await entries(join(root, 'renewal'))) {
    if (!e.name.endsWith('.conf')) continue;
    const t = await text(join(root, 'renewal', e.name));
    if (t !== null) renewals.push(keyValues(t));
  }
  const out: AcmeAccount[] = [];
  for (const regr of regrs) {
    const uri = str(obj(await json(regr)).uri);
    if (!uri) continue;
    const rel = regr.slice(accountsDir.length + 1).split('/');
    const id = rel[rel.length - 2] ?? '';
    const server = `https://${rel.slice(0, -2).join('/')}`;
    const mine = renewals.filter((r) => r.get('account') === id);
    const names: string[] = [];
    const challenges: string[] = [];
    for (const r of mine) {
      names.push(...(await certNames(r.get('cert') ?? null)));
      challenges.push(...certbotChallenges(r.get('authenticator'), r.get('pref_challs')));
    }
    out.push(account('certbot', regr, uri, mine[0]?.get('server') ?? server, names, challenges));
  }
  return out;
}

// dehydrated -------------------------------------------------------------------------------------

async function dehydrated(root: string): Promise<AcmeAccount[]> {
  const accountsDir = join(root, 'accounts');
  const dirs = (await entries(accountsDir)).filter((e) => e.isDirectory());
  if (dirs.length === 0) return [];
  const config = keyValues((await text(join(root, 'config'))) ?? '');
  const challenge = config.get('CHALLENGETYPE') ?? 'http-01';
  const names = ((await text(join(root, 'domains.txt'))) ?? '')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').split('>')[0]?.trim() ?? '')
    .flatMap((l) => l.split(/\s+/))
    .filter(Boolean);
  const out: AcmeAccount[] = [];
  for (const d of dirs) {
    const dir = join(accountsDir, d.name);
    let ca: string | null = null;
    try {
      // The directory is urlbase64 of `echo "${CA}"`, so the URL ends with a newline.
      ca = Buffer.from(d.name, 'base64url').toString('utf8').trim();
      if (!/^https?:\/\//.test(ca)) ca = null;
    } catch {
      ca = null;
    }
    ca ??= config.get('CA') ?? null;
    const idPath = join(dir, 'account_id.json');
    // Current dehydrated writes {"url": <account URL>} (real output); older ones {"id": …}.
    const idJson = obj(await json(idPath));
    const id = str(idJson.url) ?? str(idJson.id);
    let uri: string | null = id && /^https?:\/\//.test(id) ? id : null;
    const regPath = join(dir, 'registration_info.json');
    const reg = obj(await json(regPath));
    uri ??= str(reg.location) ?? str(reg.uri) ?? str(reg.url);
    const idFile = await text(join(dir, 'account_id'));
    uri ??= idFile && /^https?:\/\//.test(idFile.trim()) ? idFile.trim() : null;
    if (!uri) continue;
    out.push(account('dehydrated', id ? idPath : regPath, uri, ca, names, [challenge]));
  }
  return out;
}

// acme.sh ----------------------------------------------------------------------------------------

function acmeShChallenge(webroot: string | undefined): string[] {
  if (!webroot) return [];
  if (webroot.startsWith('dns')) return ['dns-01'];
  if (webroot === 'alpn' || webroot.startsWith('alpn')) return ['tls-alpn-01'];
  return ['http-01'];
}

async function acmeSh(root: string): Promise<AcmeAccount[]> {
  const caDir = join(root, 'ca');
  const confs: string[] = [];
  const walk = async (d: string, depth: number): Promise<void> => {
    if (depth > 5) return;
    for (const e of await entries(d)) {
      if (e.isDirectory()) await walk(join(d, e.name), depth + 1);
      else if (e.name === 'ca.conf') confs.push(join(d, e.name));
    }
  };
  await walk(caDir, 0);
  if (confs.length === 0) return [];
  const domains: { api: string | null; names: string[]; challenges: string[] }[] = [];
  for (const e of await entries(root)) {
    if (!e.isDirectory() || e.name === 'ca') continue;
    const domain = e.name.replace(/_ecc$/, '');
    const t = await text(join(root, e.name, `${domain}.conf`));
    if (t === null) continue;
    const kv = keyValues(t);
    const alt = kv.get('Le_Alt');
    domains.push({
      api: kv.get('Le_API') ?? null,
      names: [kv.get('Le_Domain') ?? domain, ...(alt && alt !== 'no' ? alt.split(',') : [])],
      challenges: (kv.get('Le_Webroot') ?? '').split(',').flatMap((w) => acmeShChallenge(w)),
    });
  }
  const out: AcmeAccount[] = [];
  for (const conf of confs) {
    const kv = keyValues((await text(conf)) ?? '');
    const uri = kv.get('ACCOUNT_URL');
    if (!uri) continue;
    const caDirectory = `https://${conf.slice(caDir.length + 1, -'/ca.conf'.length)}`;
    const mine = domains.filter((d) => d.api === caDirectory);
    out.push(
      account(
        'acme.sh',
        conf,
        uri,
        caDirectory,
        mine.flatMap((d) => d.names),
        mine.flatMap((d) => d.challenges),
      ),
    );
  }
  return out;
}

// lego -------------------------------------------------------------------------------------------

async function lego(root: string): Promise<AcmeAccount[]> {
  const out: AcmeAccount[] = [];
  const bases = [root, join(root, '.lego')];
  for (const base of bases) {
    const accountsDir = join(base, 'accounts');
    const servers = (await entries(accountsDir)).filter((e) => e.isDirectory());
    if (servers.length === 0) continue;
    const names: string[] = [];
    for (const e of await entries(join(base, 'certificates'))) {
      if (!e.name.endsWith('.json')) continue;
      const d = str(obj(await json(join(base, 'certificates', e.name))).domain);
      if (d)
        names.push(...(await certNames(join(base, 'certificates', e.name.replace(/\.json$/, '.crt')))), d);
    }
    for (const s of servers) {
      for (const u of (await entries(join(accountsDir, s.name))).filter((e) => e.isDirectory())) {
        const p = join(accountsDir, s.name, u.name, 'account.json');
        const uri = str(obj(obj(await json(p)).registration).uri);
        if (!uri) continue;
        // lego names the directory after the server's host (':' → '_'); the directory path is
        // lost, so caDirectory stays null and the CA issuer comes from the account URL's host.
        out.push(account('lego', p, uri, null, servers.length === 1 ? names : []));
      }
    }
  }
  return out;
}

// Caddy ------------------------------------------------------------------------------------------

/** certmagic issuer key `host-path` (':' and '/' → '-'), turned back into a URL where unambiguous. */
function caddyDirectory(key: string): string | null {
  const known: Record<string, string> = {
    'acme-v02.api.letsencrypt.org-directory': 'https://acme-v02.api.letsencrypt.org/directory',
    'acme-staging-v02.api.letsencrypt.org-directory':
      'https://acme-staging-v02.api.letsencrypt.org/directory',
    'acme.zerossl.com-v2-dv90': 'https://acme.zerossl.com/v2/DV90',
  };
  return known[key] ?? null;
}

async function caddy(root: string): Promise<AcmeAccount[]> {
  const out: AcmeAccount[] = [];
  for (const base of [root, join(root, 'caddy')]) {
    const acmeDir = join(base, 'acme');
    for (const issuer of (await entries(acmeDir)).filter((e) => e.isDirectory())) {
      const names = (await entries(join(base, 'certificates', issuer.name)))
        .filter((e) => e.isDirectory())
        .map((e) => e.name);
      for (const user of (await entries(join(acmeDir, issuer.name, 'users'))).filter((e) =>
        e.isDirectory(),
      )) {
        for (const f of await entries(join(acmeDir, issuer.name, 'users', user.name))) {
          if (!f.name.endsWith('.json')) continue;
          const p = join(acmeDir, issuer.name, 'users', user.name, f.name);
          const uri = str(obj(await json(p)).location);
          if (uri) out.push(account('caddy', p, uri, caddyDirectory(issuer.name), names));
        }
      }
    }
  }
  return out;
}

// Traefik ----------------------------------------------------------------------------------------

export function traefikAccounts(path: string, data: unknown): AcmeAccount[] {
  const out: AcmeAccount[] = [];
  for (const [, resolver] of Object.entries(obj(data))) {
    const r = obj(resolver);
    const uri = str(obj(obj(r.Account).Registration).uri);
    if (!uri) continue;
    const certs = Array.isArray(r.Certificates) ? r.Certificates : [];
    const names = certs.flatMap((c) => {
      const d = obj(obj(c).domain);
      const sans = Array.isArray(d.sans) ? d.sans.filter((s): s is string => typeof s === 'string') : [];
      return [...(str(d.main) ? [d.main as string] : []), ...sans];
    });
    out.push(account('traefik', path, uri, null, names));
  }
  return out;
}

// cert-manager -----------------------------------------------------------------------------------

export function certManagerAccounts(path: string, yamlText: string): AcmeAccount[] {
  const out: AcmeAccount[] = [];
  const visit = (doc: unknown): void => {
    const d = obj(doc);
    if (d.kind === 'List' && Array.isArray(d.items)) {
      d.items.forEach(visit);
      return;
    }
    if (d.kind !== 'Issuer' && d.kind !== 'ClusterIssuer') return;
    const acme = obj(obj(d.spec).acme);
    const uri = str(obj(obj(d.status).acme).uri);
    if (!uri) return;
    const solvers = Array.isArray(acme.solvers) ? acme.solvers.map(obj) : [];
    const challenges = solvers.flatMap((s) => [
      ...(s.http01 ? ['http-01'] : []),
      ...(s.dns01 ? ['dns-01'] : []),
    ]);
    const names = solvers.flatMap((s) => {
      const sel = obj(s.selector);
      const list = (v: unknown): string[] =>
        Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
      return [...list(sel.dnsNames), ...list(sel.dnsZones)];
    });
    out.push(account('cert-manager', path, uri, str(acme.server), names, challenges));
  };
  try {
    for (const doc of parseAllDocuments(yamlText)) visit(doc.toJS());
  } catch {
    return out;
  }
  return out;
}

// entry point ------------------------------------------------------------------------------------

/** Default places the clients keep their state (root and per-user). */
export function defaultAcmeDirs(home = process.env.HOME ?? ''): string[] {
  // Without an absolute HOME the per-user paths would be relative, read from whatever the current
  // directory is: leave them out rather than report someone else's accounts.
  const perUser = home.startsWith('/')
    ? [join(home, '.acme.sh'), join(home, '.lego'), join(home, '.local/share/caddy')]
    : [];
  return [
    '/etc/letsencrypt',
    '/etc/dehydrated',
    '/var/lib/dehydrated',
    ...perUser,
    '/var/lib/caddy/.local/share/caddy',
    '/etc/traefik/acme.json',
    '/letsencrypt/acme.json',
  ];
}

/** Every account found in `paths` (directories of client state, acme.json or Issuer YAML files). */
export async function discoverAccounts(paths: readonly string[]): Promise<AcmeAccount[]> {
  const out: AcmeAccount[] = [];
  for (const p of paths) {
    let s;
    try {
      s = await stat(p);
    } catch {
      continue;
    }
    if (s.isFile()) {
      out.push(...(await fileAccounts(p)));
      continue;
    }
    if (!s.isDirectory()) continue;
    out.push(
      ...(await certbot(p)),
      ...(await dehydrated(p)),
      ...(await acmeSh(p)),
      ...(await lego(p)),
      ...(await caddy(p)),
    );
    for (const e of await entries(p)) {
      if (e.isFile() && (e.name === 'acme.json' || /\.ya?ml$/.test(e.name)))
        out.push(...(await fileAccounts(join(p, e.name))));
    }
  }
  const seen = new Set<string>();
  return out.filter((a) => {
    const key = `${a.client} ${a.path} ${a.accountUri}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

async function fileAccounts(path: string): Promise<AcmeAccount[]> {
  const t = await text(path);
  if (t === null) return [];
  if (/\.ya?ml$/.test(path)) return certManagerAccounts(path, t);
  if (basename(path).endsWith('.json')) {
    try {
      return traefikAccounts(path, JSON.parse(t));
    } catch {
      return [];
    }
  }
  return [];
}
