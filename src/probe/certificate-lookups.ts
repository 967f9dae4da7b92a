/**
 * @module probe/certificate-lookups
 * The slow questions of `check endpoint`, asked once per distinct certificate (not per address):
 * is it in CT (RFC 6962 §4: the monitor's store, crt.sh, Cert Spotter, inclusion proofs;
 * ct-presence.ts), is it one of ours (the inventory and the authorisations in the store), and does
 * CAA allow its CA (RFC 8659 §4; RFC 8657 bindings cannot be judged from outside). Addresses that
 * present the same certificate share one answer; every answer ends by the check's deadline, and a
 * failure becomes an answer (a finding later, checks.ts), never a throw.
 */
import { errorMessage } from '../errors.js';
import { caaIdentifiersForIssuer, evaluateCaa } from '../caa/index.js';
import type { LogInfo } from '../ct/index.js';
import type { Store } from '../store/index.js';
import type { CertSummary } from '../x509/index.js';
import type { AnalysedAddress } from './address-findings.js';
import type { CaaAnswer, InventoryAnswer } from './checks.js';
import { lookupCtPresence } from './ct-presence.js';
import type { CtScope } from './ct-scope.js';
import { byDeadline } from './deadline.js';
import type { EndpointCheckOptions } from './endpoint-types.js';
import type { CtPresence, SctCheck } from './types.js';

/** The answers about one certificate; null where the question was not asked. */
export interface CertificateLookups {
  presence: CtPresence | null;
  inventory: InventoryAnswer | null;
  caa: CaaAnswer | null;
}

async function inventoryAnswer(
  store: Store,
  summary: CertSummary,
  certSha256: string,
): Promise<InventoryAnswer> {
  const [inventory, authorizations] = await Promise.all([store.listInventory(), store.listAuthorizations()]);
  const mine = inventory.find((r) => r.certSha256 === certSha256 || r.tbsSha256 === summary.tbsSha256);
  if (mine) return { ours: true, otherForNames: 0, detail: `in the inventory: ${mine.source} ${mine.path}` };
  const auth = authorizations.find((a) =>
    [certSha256, summary.tbsSha256, summary.spkiSha256].includes(a.hash),
  );
  if (auth) return { ours: true, otherForNames: 0, detail: `authorised: ${auth.note ?? auth.hash}` };
  const names = new Set(summary.dnsNames);
  const others = inventory.filter((r) => r.dnsNames.some((n) => names.has(n.toLowerCase())));
  return { ours: false, otherForNames: others.length, detail: '' };
}

async function caaAnswer(
  expect: NonNullable<EndpointCheckOptions['expectCaa']>,
  name: string,
  summary: CertSummary,
): Promise<CaaAnswer> {
  const issuerDomains = expect.issuerDomains?.length
    ? expect.issuerDomains
    : caaIdentifiersForIssuer(summary.issuer);
  if (issuerDomains.length === 0)
    return {
      decision: 'unknown-issuer',
      detail: `no CAA identifier known for issuer ${summary.issuer} (give --caa-identifier)`,
    };
  const result = await evaluateCaa({ name, issuerDomains }, expect.resolver);
  const ids = issuerDomains.join(', ');
  if (result.decision === 'allow')
    return { decision: 'allow', detail: `CAA for ${name} allows ${ids} (${result.reason})` };
  // From outside, the ACME account and validation method of an issuance are unknown: a record
  // naming this CA but binding it to an account or method (RFC 8657) still authorises the CA.
  if (result.reason === 'account-uri-missing' || result.reason === 'validation-method-missing')
    return { decision: 'allow', detail: `CAA for ${name} allows ${ids} for a bound account or method` };
  if (result.decision === 'deny')
    return {
      decision: 'deny',
      detail: `CAA for ${name} (at ${result.foundAt ?? '?'}) does not allow ${ids}: ${result.explanation}`,
    };
  return { decision: 'error', detail: `CAA for ${name} could not be evaluated: ${result.explanation}` };
}

async function lookupCertificate(
  options: EndpointCheckOptions,
  name: string,
  summary: CertSummary,
  certSha256: string,
  scts: SctCheck[],
  ct: { scope: CtScope; logs: LogInfo[] | null },
  deadline: number,
): Promise<CertificateLookups> {
  const settings = ct.scope === 'public' ? options.ctPresence : null;
  const presence = settings
    ? lookupCtPresence({
        logs: settings.proofs ? (ct.logs ?? []) : [],
        scts: settings.proofs ? scts : [],
        certSha256,
        tbsSha256: summary.tbsSha256,
        dnsNames: summary.dnsNames,
        ...(options.store ? { store: options.store } : {}),
        crtShUrl: settings.crtShUrl,
        certSpotterUrl: settings.certSpotterUrl,
        ...(settings.certSpotterApiKey ? { certSpotterApiKey: settings.certSpotterApiKey } : {}),
        timeoutMs: Math.max(1, deadline - Date.now()),
        ...(options.signal ? { signal: options.signal } : {}),
      })
    : Promise.resolve(null);
  const inventory = options.store
    ? inventoryAnswer(options.store, summary, certSha256)
    : Promise.resolve(null);
  const caa = options.expectCaa
    ? caaAnswer(options.expectCaa, name, summary).catch((e: unknown): CaaAnswer => ({
        decision: 'error',
        detail: `CAA lookup failed: ${errorMessage(e)}`,
      }))
    : Promise.resolve(null);
  return { presence: await presence, inventory: await inventory, caa: await caa };
}

/**
 * Starts the lookups for every distinct certificate among `analysed`, keyed by its SHA-256; a
 * lookup that fails or has not answered by `deadline` reports that as its CT presence.
 */
export function lookupOncePerCertificate(
  analysed: readonly AnalysedAddress[],
  scopes: readonly CtScope[],
  options: EndpointCheckOptions,
  name: string,
  logs: LogInfo[] | null,
  deadline: number,
): Map<string, Promise<CertificateLookups>> {
  const byCert = new Map<string, Promise<CertificateLookups>>();
  analysed.forEach((a, i) => {
    if (!('result' in a) || byCert.has(a.certSha256)) return;
    const scope = scopes[i] ?? 'off';
    const failed = (detail: string): CertificateLookups => ({
      presence:
        scope === 'public'
          ? { found: false, sources: [{ kind: 'store', where: '-', status: 'error', detail }] }
          : null,
      inventory: null,
      caa: null,
    });
    byCert.set(
      a.certSha256,
      byDeadline(
        lookupCertificate(
          options,
          name,
          a.summary,
          a.certSha256,
          a.result.scts,
          { scope, logs },
          deadline,
        ).catch((e: unknown) => failed(errorMessage(e))),
        deadline,
        () => failed('no answer within -t'),
      ),
    );
  });
  return byCert;
}
