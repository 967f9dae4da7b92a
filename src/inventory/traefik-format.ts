/**
 * @module inventory/traefik-format
 * Traefik's ACME store (`acme.json`), pure. Three generations, told apart by shape:
 *
 * - v2/v3 (traefik pkg/provider/acme/local_store.go: `map[string]*StoredData`, one per certificate
 *   resolver; store.go `StoredData{Account, Certificates []*CertAndStore}`; provider.go
 *   `Certificate{Domain types.Domain "domain"; Certificate []byte "certificate"; Key []byte "key"}`
 *   plus `Store`; types.Domain `{main, sans}`):
 *   `{"<resolver>": {"Account": {…}, "Certificates": [{"domain": {"main", "sans"},
 *   "certificate": base64(PEM chain), "key": …, "Store": "default"}]}}`
 * - v1.6/1.7 (traefik provider/acme/store.go `StoredData{Account, Certificates []*Certificate,
 *   HTTPChallenges, TLSChallenges}`, provider.go `Certificate{Domain, Certificate, Key}` without
 *   JSON tags): `{"Account": …, "Certificates": [{"Domain": {"Main", "SANs"}, "Certificate": …}]}`
 * - ≤ v1.5 (traefik acme/account.go `Account{…, DomainsCertificate{Certs []*DomainsCertificate}}`,
 *   `DomainsCertificate{Domains types.Domain, Certificate *Certificate{…, Certificate []byte}}`).
 *
 * Go's encoding/json matches object keys case-insensitively when unmarshalling, so Traefik reads
 * `Certificates` and `certificates` alike; so do we. `[]byte` fields are standard base64.
 */
import { InventoryFault } from './errors.js';

export interface TraefikEntry {
  /** `<resolver>/<main>` (v2/v3) or `<main>` (v1), made unique within the file. */
  label: string;
  /** `main` then `sans`, as configured for this certificate. */
  names: string[];
  /** The decoded `certificate` field (a PEM chain), null when empty, or why it is not base64. */
  certificate: Uint8Array | { error: string } | null;
  /** The entry has a non-empty private key field. */
  hasKey: boolean;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Case-insensitive field lookup, like Go's json.Unmarshal (exact match preferred). */
function field(o: Obj, name: string): unknown {
  if (Object.prototype.hasOwnProperty.call(o, name)) return o[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return undefined;
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function decodeGoBytes(v: unknown): Uint8Array | { error: string } | null {
  if (typeof v !== 'string' || v === '') return null;
  // Go's json encodes []byte with base64.StdEncoding; a bad string makes Traefik fail too.
  if (!BASE64_RE.test(v)) return { error: 'certificate field is not base64' };
  return new Uint8Array(Buffer.from(v, 'base64'));
}

function domainNames(d: unknown): { main: string; names: string[] } {
  if (!isObj(d)) return { main: '', names: [] };
  const main = field(d, 'main');
  const sans = field(d, 'sans');
  const names: string[] = [];
  if (typeof main === 'string' && main !== '') names.push(main);
  if (Array.isArray(sans)) for (const s of sans) if (typeof s === 'string' && s !== '') names.push(s);
  return { main: typeof main === 'string' ? main : '', names };
}

function certificatesList(o: Obj): unknown[] | null {
  const c = field(o, 'Certificates');
  return Array.isArray(c) ? c : null;
}

/** Whether a parsed JSON value has the shape of any Traefik ACME store generation. */
export function looksLikeTraefikStore(value: unknown): boolean {
  if (!isObj(value)) return false;
  if (certificatesList(value) !== null) return true;
  const dc = field(value, 'DomainsCertificate');
  if (isObj(dc) && Array.isArray(field(dc, 'Certs'))) return true;
  const values = Object.values(value);
  return (
    values.length > 0 &&
    values.every((v) => isObj(v) && (certificatesList(v) !== null || field(v, 'Account') !== undefined))
  );
}

/**
 * Parses a Traefik ACME store. Throws `INVENTORY_BAD_CONFIG` when the text is not JSON or has
 * none of the three shapes; a bad entry (missing or non-base64 certificate) is returned with an
 * `error` so that its siblings are still read.
 */
export function parseTraefikStore(text: string): TraefikEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InventoryFault('INVENTORY_BAD_CONFIG', `Traefik ACME store: ${(err as Error).message}`, {
      cause: err,
    });
  }
  // Traefik writes `{}` before its first certificate resolver has stored anything.
  if (isObj(value) && Object.keys(value).length === 0) return [];
  if (!looksLikeTraefikStore(value)) {
    throw new InventoryFault('INVENTORY_BAD_CONFIG', 'not a Traefik ACME store (no Certificates list)');
  }
  const root = value as Obj;
  const out: TraefikEntry[] = [];
  const used = new Map<string, number>();
  const push = (prefix: string, domain: unknown, cert: unknown, key: unknown): void => {
    const { main, names } = domainNames(domain);
    let label = prefix + (main === '' ? '?' : main);
    const n = used.get(label) ?? 0;
    used.set(label, n + 1);
    if (n > 0) label = `${label}[${n}]`;
    out.push({
      label,
      names,
      certificate: decodeGoBytes(cert),
      hasKey: typeof key === 'string' && key !== '',
    });
  };

  const v1 = certificatesList(root);
  const dc = field(root, 'DomainsCertificate');
  if (v1 !== null) {
    // v1.6/1.7: one store, no resolvers.
    for (const c of v1) if (isObj(c)) push('', field(c, 'Domain'), field(c, 'Certificate'), field(c, 'Key'));
  } else if (isObj(dc) && Array.isArray(field(dc, 'Certs'))) {
    // ≤ v1.5: the account object itself, certificates under DomainsCertificate.Certs.
    for (const c of field(dc, 'Certs') as unknown[]) {
      if (!isObj(c)) continue;
      const inner = field(c, 'Certificate');
      if (!isObj(inner)) continue;
      push('', field(c, 'Domains'), field(inner, 'Certificate'), field(inner, 'PrivateKey'));
    }
  } else {
    // v2/v3: resolver name → StoredData.
    for (const resolver of Object.keys(root).sort()) {
      const list = certificatesList(root[resolver] as Obj) ?? [];
      for (const c of list) {
        if (isObj(c)) push(`${resolver}/`, field(c, 'domain'), field(c, 'certificate'), field(c, 'key'));
      }
    }
  }
  return out;
}
