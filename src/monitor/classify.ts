/**
 * @module monitor/classify
 * The internal check and its heuristics, as a pure function: given one issuance found in CT, what
 * the organisation obtained itself (inventory, explicit authorisations), the history of the same
 * names, and optionally the CAA verdict for the issuing CA — is it ours, and if not, why does it
 * look wrong? Matching is by TBS / certificate hash and by public key, never by serial number
 * (serials are chosen by the CA and say nothing about who asked).
 */
import type { Reason, Severity } from '../notify/index.js';
import type { CertificateRecord } from '../store/index.js';

export interface KnownIndex {
  certHashes: ReadonlySet<string>;
  tbsHashes: ReadonlySet<string>;
  spkiHashes: ReadonlySet<string>;
  /** Hashes authorised by `certvigil certs authorize` (TBS, certificate or SPKI). */
  authorized: ReadonlySet<string>;
  /** Names a local ACME client is configured to manage. */
  managedNames: ReadonlySet<string>;
  /**
   * Certificate, TBS and SPKI hashes that hosts reported with `certvigil inventory push`, each to
   * the first host (by name) that holds it. Absent: no host inventories.
   */
  hosts?: ReadonlyMap<string, string>;
}

/** The certificate record (store/types.ts) as the classifier reads it, with every logged form's hash. */
export interface IssuanceFacts extends Omit<CertificateRecord, 'dnsNames'> {
  dnsNames: readonly string[];
  certSha256s: readonly string[];
  keyType: string;
}

/** Another issuance sharing a name: from CT or from the inventory. */
export interface HistoryItem extends IssuanceFacts {
  known: boolean;
}

export interface CaaVerdict {
  decision: 'allow' | 'deny' | 'error';
  name: string;
  explanation: string;
}

export interface Classification {
  known: boolean;
  /**
   * How it was recognised: 'inventory-tbs', 'inventory-cert', 'inventory-key', 'authorized', or
   * 'host:NAME' (a host pushed it: its TBS, certificate or key hash).
   */
  knownBy: string | null;
  reasons: Reason[];
  severity: Severity;
}

const DAY = 86_400_000;
const RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };
/** CA/B Forum BR §6.3.2: no subscriber certificate may be valid for more than 398 days. */
const MAX_VALIDITY_DAYS = 398;

function days(ms: number): number {
  return Math.round(ms / DAY);
}

function knownBy(i: IssuanceFacts, k: KnownIndex): string | null {
  if (
    k.authorized.has(i.tbsSha256) ||
    i.certSha256s.some((h) => k.authorized.has(h)) ||
    k.authorized.has(i.spkiSha256)
  ) {
    return 'authorized';
  }
  if (k.tbsHashes.has(i.tbsSha256)) return 'inventory-tbs';
  if (i.certSha256s.some((h) => k.certHashes.has(h))) return 'inventory-cert';
  // Our own key: whoever holds the private key is us, even if the certificate file is not in the
  // inventory (yet).
  if (k.spkiHashes.has(i.spkiSha256)) return 'inventory-key';
  // A host's own inventory (pushed): the same three hashes, after the local ones.
  const host =
    k.hosts?.get(i.tbsSha256) ??
    i.certSha256s.map((h) => k.hosts?.get(h)).find((h) => h !== undefined) ??
    k.hosts?.get(i.spkiSha256);
  return host === undefined ? null : `host:${host}`;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? null;
}

export function classify(
  issuance: IssuanceFacts,
  known: KnownIndex,
  history: readonly HistoryItem[],
  caa?: CaaVerdict | null,
): Classification {
  const by = knownBy(issuance, known);
  if (by !== null) return { known: true, knownBy: by, reasons: [], severity: 'info' };

  const reasons: Reason[] = [];
  const managed = issuance.dnsNames.filter((n) => known.managedNames.has(n));
  if (managed.length > 0) {
    reasons.push({
      code: 'managed-name-not-in-inventory',
      severity: 'critical',
      message: `${managed.join(', ')} ${managed.length === 1 ? 'is' : 'are'} managed by a local ACME client, but this certificate is not one it obtained`,
    });
  } else {
    reasons.push({
      code: 'not-in-inventory',
      severity: 'warning',
      message: 'no certificate in the inventory or authorisations matches it',
    });
  }

  if (caa && caa.decision === 'deny') {
    reasons.push({
      code: 'caa-disallowed',
      severity: 'critical',
      message: `the current CAA policy of ${caa.name} does not allow this issuer: ${caa.explanation}`,
    });
  }

  const prior = history.filter((h) => h.tbsSha256 !== issuance.tbsSha256);
  const trusted = prior.filter((h) => h.known);
  const reference = trusted.length > 0 ? trusted : prior;
  if (reference.length > 0) {
    if (!reference.some((h) => h.spkiSha256 === issuance.spkiSha256)) {
      reasons.push({
        code: 'new-key',
        severity: 'warning',
        message: `a public key never seen before for these names (${issuance.keyType})`,
      });
    }
    if (!reference.some((h) => h.issuer === issuance.issuer)) {
      const before = [...new Set(reference.map((h) => h.issuer))].join('; ');
      reasons.push({
        code: 'issuer-changed',
        severity: 'warning',
        message: `issuer differs from the history (${before})`,
      });
    }
    // Inventory records may not say their key type ('' ): compare only with those that do.
    const typed = reference.filter((h) => h.keyType !== '');
    if (typed.length > 0 && !typed.some((h) => h.keyType === issuance.keyType)) {
      const before = [...new Set(typed.map((h) => h.keyType))].join(', ');
      reasons.push({
        code: 'key-type-changed',
        severity: 'warning',
        message: `key type ${issuance.keyType}, previously ${before}`,
      });
    }
    const cadence = cadenceReason(issuance, trusted);
    if (cadence) reasons.push(cadence);
    const seenNames = new Set(reference.flatMap((h) => h.dnsNames));
    const newNames = issuance.dnsNames.filter((n) => !seenNames.has(n));
    if (newNames.length > 0) {
      reasons.push({
        code: 'unusual-san-set',
        severity: 'info',
        message: `names never seen before on these certificates: ${newNames.join(', ')}`,
      });
    }
  }

  const validity = days(Date.parse(issuance.notAfter) - Date.parse(issuance.notBefore));
  const usual = median(reference.map((h) => days(Date.parse(h.notAfter) - Date.parse(h.notBefore))));
  if (validity > MAX_VALIDITY_DAYS || (usual !== null && validity > usual * 1.5 + 1)) {
    reasons.push({
      code: 'unusual-validity',
      severity: 'warning',
      message: `valid for ${validity} days${usual !== null ? `, previous certificates ${usual} days` : ''}`,
    });
  }

  const severity = reasons.reduce<Severity>((s, r) => (RANK[r.severity] > RANK[s] ? r.severity : s), 'info');
  return { known: false, knownBy: null, reasons, severity };
}

/**
 * A second certificate days after a regular renewal is the signature of someone else getting one:
 * compare the gap to the previous known issuance with the usual renewal interval.
 */
function cadenceReason(issuance: IssuanceFacts, trusted: readonly HistoryItem[]): Reason | null {
  const nb = Date.parse(issuance.notBefore);
  const starts = [...new Set(trusted.map((h) => Date.parse(h.notBefore)))]
    .filter((t) => t <= nb)
    .sort((a, b) => a - b);
  const last = starts[starts.length - 1];
  if (last === undefined) return null;
  const gaps = starts.slice(1).map((t, i) => t - (starts[i] as number));
  const usual = median(gaps);
  const gap = nb - last;
  // Without a learned cadence, anything within a week of the previous certificate stands out.
  const threshold = usual !== null ? usual / 3 : 7 * DAY;
  if (gap >= threshold) return null;
  return {
    code: 'off-cadence',
    severity: 'warning',
    message: `issued ${days(gap)} day(s) after the previous certificate${usual !== null ? `; renewals usually come every ${days(usual)} days` : ''}`,
  };
}
