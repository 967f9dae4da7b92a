/**
 * @module inventory/formats
 * Pure parsers for the configuration and store files of the ACME clients the inventory reads —
 * text in, plain objects out, no file access. Each parser names the client source or document
 * whose behaviour it follows; where we are more lenient or stricter than the client, it says so.
 */
import { z } from 'zod';
import { InventoryFault } from './errors.js';

// ---------------------------------------------------------------------------------------------
// certbot: renewal/<lineage>.conf
// ---------------------------------------------------------------------------------------------

export interface CertbotRenewalConf {
  /** Top-level keys: `version`, `archive_dir`, `cert`, `privkey`, `chain`, `fullchain`. */
  top: Map<string, string>;
  /** `[renewalparams]`: `account`, `server`, `authenticator`, `installer`, … */
  renewalParams: Map<string, string>;
  /** `[[webroot_map]]` under `[renewalparams]`: domain → webroot (certbot's webroot plugin). */
  webrootMap: Map<string, string>;
}

/**
 * Parses a certbot renewal configuration. Certbot writes and reads it with configobj
 * (certbot/_internal/storage.py `write_renewal_config`, `renewal_conf_files`): `key = value`
 * lines, `#` comments, `[section]` and `[[subsection]]` headers, values optionally quoted. Throws
 * `INVENTORY_BAD_CONFIG` on a line that is none of these — certbot itself skips such a lineage
 * ("Renewal configuration file … is broken"), so its names are not counted as managed.
 */
export function parseCertbotRenewalConf(text: string): CertbotRenewalConf {
  const conf: CertbotRenewalConf = { top: new Map(), renewalParams: new Map(), webrootMap: new Map() };
  let section: string[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const header = /^(\[+)\s*([^\]]+?)\s*(\]+)$/.exec(line);
    if (header !== null) {
      const depth = (header[1] as string).length;
      if (depth !== (header[3] as string).length || depth > section.length + 1) {
        throw new InventoryFault('INVENTORY_BAD_CONFIG', `line ${i + 1}: bad section header`);
      }
      section = [...section.slice(0, depth - 1), header[2] as string];
      return;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new InventoryFault('INVENTORY_BAD_CONFIG', `line ${i + 1}: expected key = value`);
    const key = line.slice(0, eq).trim();
    const value = unquoteConfigValue(line.slice(eq + 1).trim());
    const where = section.join('.');
    if (where === '') conf.top.set(key, value);
    else if (where === 'renewalparams') conf.renewalParams.set(key, value);
    else if (where === 'renewalparams.webroot_map') conf.webrootMap.set(key, value);
  });
  return conf;
}

/** configobj values: `'…'` or `"…"` quoted, or bare with an optional trailing ` # comment`. */
function unquoteConfigValue(v: string): string {
  const q = v[0];
  if ((q === '"' || q === "'") && v.length >= 2) {
    const end = v.indexOf(q, 1);
    if (end > 0) return v.slice(1, end);
  }
  const hash = v.search(/\s#/);
  return (hash >= 0 ? v.slice(0, hash) : v).trim();
}

// ---------------------------------------------------------------------------------------------
// dehydrated: domains.txt
// ---------------------------------------------------------------------------------------------

export interface DehydratedDomainsEntry {
  /** The names of one certificate, first is the primary name. */
  names: string[];
  /** Directory name under `certs/`: the alias after `>`, else the first name. */
  certDir: string;
}

/**
 * Parses `domains.txt` the way dehydrated 0.7's `command_sign_domains` does (the
 * `tr -d '\r' | awk tolower | sed …` pipeline, docs/domains_txt.md): CR removed, lower-cased,
 * trimmed, runs of whitespace collapsed, lines starting with `#` and empty lines skipped; one
 * `>alias` per line names the certificate directory and is not a domain.
 */
export function parseDehydratedDomainsTxt(text: string): DehydratedDomainsEntry[] {
  const out: DehydratedDomainsEntry[] = [];
  for (const raw of text.replace(/\r/g, '').toLowerCase().split('\n')) {
    const line = raw
      .trim()
      .replace(/\s+/g, ' ')
      .replace(/([^ ])>/g, '$1 >')
      .replace(/> /g, '>');
    if (line === '' || line.startsWith('#')) continue;
    const aliases = line.match(/>[^ ]+/g) ?? [];
    const names = line
      .replace(/>[^ ]+ ?/g, '')
      .split(' ')
      .filter((n) => n !== '');
    const first = names[0];
    if (first === undefined) continue;
    out.push({ names, certDir: aliases.length === 1 ? (aliases[0] as string).slice(1) : first });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// acme.sh: <domain>[_ecc]/<domain>.conf
// ---------------------------------------------------------------------------------------------

const ACMESH_B64_START = '__ACME_BASE64__START_';
const ACMESH_B64_END = '__ACME_BASE64__END_';

/**
 * Parses an acme.sh domain configuration: shell assignments `Key='value'` written by
 * `_save_conf` (acme.sh 3.x; older versions wrote `Key="value"`), read back by `_read_conf` with
 * `eval`. Values wrapped in `__ACME_BASE64__START_…__ACME_BASE64__END_` are base64 (acme.sh
 * `_read_conf`). We do not evaluate shell: quotes are stripped, nothing is expanded.
 */
export function parseAcmeShConf(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(raw);
    if (m === null) continue;
    let v = (m[2] as string).trim();
    const q = v[0];
    if ((q === "'" || q === '"') && v.length >= 2 && v.endsWith(q)) v = v.slice(1, -1);
    if (v.startsWith(ACMESH_B64_START) && v.endsWith(ACMESH_B64_END)) {
      v = Buffer.from(v.slice(ACMESH_B64_START.length, -ACMESH_B64_END.length), 'base64').toString('utf8');
    }
    out.set(m[1] as string, v);
  }
  return out;
}

/**
 * The names an acme.sh certificate is issued for: `Le_Domain` and the comma-separated `Le_Alt`,
 * where acme.sh writes `no` for "none" (acme.sh `issue`: `if [ "$Le_Alt" = "no" ]`).
 */
export function acmeShNames(conf: Map<string, string>): string[] {
  const names: string[] = [];
  const main = conf.get('Le_Domain');
  if (main !== undefined && main !== '' && main !== 'no') names.push(main);
  const alt = conf.get('Le_Alt');
  if (alt !== undefined && alt !== 'no') names.push(...alt.split(',').map((s) => s.trim()));
  return names.filter((n) => n !== '' && n !== 'no');
}

// ---------------------------------------------------------------------------------------------
// lego: certificates/<domain>.json; Caddy (certmagic): certificates/<issuer>/<d>/<d>.json
// ---------------------------------------------------------------------------------------------

/** lego `certificate.Resource` as `SaveResource` marshals it (lego cmd/certs_storage.go). */
const LegoResource = z.object({ domain: z.string() }).loose();

/** The primary domain of a lego certificate resource file. */
export function parseLegoResource(text: string): string {
  return parseJson(LegoResource, text, 'lego certificate resource').domain;
}

/** certmagic `CertificateResource` metadata: `sans` and `issuer_data` (certmagic storage.go). */
const CaddyMeta = z.object({ sans: z.array(z.string()) }).loose();

/** The names of a Caddy/certmagic certificate, from its `.json` metadata. */
export function parseCaddyMeta(text: string): string[] {
  return parseJson(CaddyMeta, text, 'certmagic certificate metadata').sans;
}

function parseJson<T>(schema: z.ZodType<T>, text: string, what: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InventoryFault('INVENTORY_BAD_CONFIG', `${what}: ${(err as Error).message}`, { cause: err });
  }
  const r = schema.safeParse(value);
  if (!r.success) throw new InventoryFault('INVENTORY_BAD_CONFIG', `${what}: unexpected shape`);
  return r.data;
}

export { parseTraefikStore } from './traefik-format.js';
export type { TraefikEntry } from './traefik-format.js';
