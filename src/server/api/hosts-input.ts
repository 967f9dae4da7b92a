/**
 * @module server/api/hosts-input
 * What `PUT /api/v1/hosts/:host/inventory` accepts, checked strictly before anything is stored
 * (pure): the host name, the body `{host?, items:[{certSha256, tbsSha256, spkiSha256, dnsNames,
 * notAfter}]}`, and which certificate names concern a host's managed name (`nameConcerns`).
 * Shared with the client (`certvigil inventory push`), so that both sides apply one rule.
 */
import { z } from 'zod';

/** Items one push may carry (the store's limit too). */
export const MAX_HOST_ITEMS = 100_000;
/** DNS names one item may carry (a certificate with more is refused: no CA issues that many). */
export const MAX_ITEM_NAMES = 1000;
/**
 * Body limit of a push: 100,000 items with short names are about 30 MB of JSON; the app's 1 MiB
 * default would refuse an inventory of more than about 3,000 certificates.
 */
export const HOST_PUSH_BODY_LIMIT = 32 * 1024 * 1024;

/**
 * A host name as the API takes it: 1..253 characters of [a-z0-9._-] starting with a letter or
 * digit (so never `.` or `..`), compared and stored in lower case (hostnames are case-insensitive,
 * RFC 4343; `os.hostname()` may say `Web1`).
 */
const HOST_RE = /^[a-z0-9][a-z0-9._-]{0,252}$/;

/** The host name in canonical (lower) case, or null when it is not one the API accepts. */
export function canonicalHost(raw: string): string | null {
  const host = raw.toLowerCase();
  return HOST_RE.test(host) ? host : null;
}

// A certificate DNS name as certvigil's x509 parser reports it (lower case, A-labels): labels of
// [a-z0-9_-] (an underscore occurs in real SANs), 1..63 octets, at most 253 in all (RFC 1035
// §2.3.4), optionally a leading `*.` wildcard label (RFC 6125 §6.4.3).
const LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?';
const DNS_NAME_RE = new RegExp(`^(?:\\*\\.)?(?:${LABEL}\\.)*${LABEL}$`);

export function isPushableName(name: string): boolean {
  return name.length <= 253 && DNS_NAME_RE.test(name);
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 in lower-case hex (64 digits)');
// ISO 8601 UTC as `Date.toISOString()` writes it (milliseconds optional): one form, comparable as text.
const isoUtc = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/, 'an ISO 8601 UTC time')
  .refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO 8601 UTC time');

const itemSchema = z.strictObject({
  certSha256: hex64,
  tbsSha256: hex64,
  spkiSha256: hex64,
  dnsNames: z
    .array(z.string().refine(isPushableName, 'a DNS name (lower case, A-labels, optional *.)'))
    .min(1)
    .max(MAX_ITEM_NAMES),
  notAfter: isoUtc,
});

const bodySchema = z.strictObject({
  host: z.string().optional(),
  items: z.array(itemSchema).max(MAX_HOST_ITEMS),
});

export type HostPushItem = z.infer<typeof itemSchema>;

export type PushParse = { ok: true; items: HostPushItem[] } | { ok: false; error: string };

/**
 * The items of a push body for `host` (canonical), or why it is refused: a schema violation (the
 * first, with its path), a `host` field naming another host, or the same certificate twice.
 */
export function parsePushBody(body: unknown, host: string): PushParse {
  const r = bodySchema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    return { ok: false, error: `invalid inventory: ${where}${issue?.message ?? 'bad shape'}` };
  }
  if (r.data.host !== undefined && r.data.host.toLowerCase() !== host)
    return { ok: false, error: 'invalid inventory: host in the body differs from the host in the path' };
  const seen = new Set<string>();
  for (const [i, item] of r.data.items.entries()) {
    if (seen.has(item.certSha256))
      return { ok: false, error: `invalid inventory: items.${i}: certificate listed twice` };
    seen.add(item.certSha256);
  }
  return {
    ok: true,
    items: r.data.items.map((item) => ({ ...item, dnsNames: [...new Set(item.dnsNames)] })),
  };
}

/** `a.b.c` → `b.c`; null for a single label. */
function parent(name: string): string | null {
  const dot = name.indexOf('.');
  return dot < 0 ? null : name.slice(dot + 1);
}

/**
 * Whether a certificate name `cert` concerns the managed name `managed` in the internal check: a
 * certificate with that name could be presented for what the host serves.
 * - equal names;
 * - a wildcard certificate `*.P` covers `L.P` (one label, RFC 6125 §6.4.3);
 * - under a managed wildcard `*.P`: every `L.P` (one label) — the host serves those names.
 * Subdomains deeper than one label and the parent domain do not concern a host: they are other
 * names (other hosts, or the central monitor, answer for them).
 */
export function nameConcerns(cert: string, managed: string): boolean {
  if (cert === managed) return true;
  if (cert.startsWith('*.')) return !managed.startsWith('*.') && parent(managed) === cert.slice(2);
  if (managed.startsWith('*.')) return parent(cert) === managed.slice(2);
  return false;
}
