/**
 * @module monitor/issuance-view
 * One issuance as a person or a program reads it: its facts, whether it is ours (and by what), the
 * reasons it looks wrong with their severity, where it was logged and which authorisations cover
 * it. Shared by `certs list|show` and the web server, so both always say the same.
 */
import { eventOfAlert } from './events.js';
import { classify } from './classify.js';
import type { Classification, KnownIndex } from './classify.js';
import { loadHistories, loadKnownIndex } from './known.js';

type Histories = Awaited<ReturnType<typeof loadHistories>>;
import type { MonitorEvent, Reason } from '../notify/index.js';
import type { Authorization, Issuance, Store } from '../store/index.js';

export interface IssuanceView {
  tbsSha256: string;
  dnsNames: string[];
  issuer: string;
  notBefore: string;
  notAfter: string;
  known: boolean;
  knownBy: string | null;
  severity: string;
  reasons: Reason[];
  entries: { log: string; index: number; type: string; timestamp: number }[];
  certSha256s: string[];
  serial: string;
  spkiSha256: string;
  keyType: string;
  ipAddresses: string[];
  firstSeen: string;
  /** Where `certvigil backfill` imported it from (`backfill:crtsh`, …); [] when only found in logs. */
  sources: string[];
  /** The `certs authorize` records that make it known (by TBS, certificate or key hash), with notes. */
  authorizations: AuthorizationView[];
}

export interface AuthorizationView {
  hash: string;
  /** Which hash of the issuance it names. */
  matches: 'tbs' | 'certificate' | 'key';
  note: string | null;
  createdAt: string;
}

function authorizationsFor(i: Issuance, all: readonly Authorization[]): AuthorizationView[] {
  const out: AuthorizationView[] = [];
  for (const a of all) {
    const h = a.hash.toLowerCase();
    const matches =
      h === i.tbsSha256
        ? 'tbs'
        : i.certSha256s.includes(h)
          ? 'certificate'
          : h === i.spkiSha256
            ? 'key'
            : null;
    if (matches !== null) out.push({ hash: h, matches, note: a.note, createdAt: a.createdAt });
  }
  return out;
}

/** Reasons are recomputed against today's inventory; the CAA verdict comes from the alert (DNS is not re-asked). */
function view(
  i: Issuance,
  histories: Histories,
  known: KnownIndex,
  alerted: Map<string, MonitorEvent>,
  logUrls: Map<string, string>,
  authorizations: readonly Authorization[],
): IssuanceView {
  const c: Classification = classify(i, known, histories.of(i.dnsNames));
  const fromAlert = alerted.get(i.tbsSha256);
  const caaReasons =
    fromAlert?.type === 'issuance' ? fromAlert.reasons.filter((r) => r.code === 'caa-disallowed') : [];
  const reasons = c.known
    ? []
    : [...c.reasons, ...caaReasons.filter((r) => !c.reasons.some((x) => x.code === r.code))];
  const severity = c.known
    ? 'info'
    : reasons.some((r) => r.severity === 'critical')
      ? 'critical'
      : c.severity;
  return {
    tbsSha256: i.tbsSha256,
    dnsNames: i.dnsNames,
    issuer: i.issuer,
    notBefore: i.notBefore,
    notAfter: i.notAfter,
    known: c.known,
    knownBy: c.knownBy,
    severity,
    reasons,
    entries: i.entries.map((e) => ({
      log: logUrls.get(e.logId) ?? e.logId,
      index: e.index,
      type: e.type,
      timestamp: e.timestamp,
    })),
    certSha256s: i.certSha256s,
    serial: i.serial,
    spkiSha256: i.spkiSha256,
    keyType: i.keyType,
    ipAddresses: i.ipAddresses,
    firstSeen: i.firstSeen,
    sources: i.sources ?? [],
    authorizations: authorizationsFor(i, authorizations),
  };
}

/**
 * What every view of a page needs besides the issuance itself, loaded once: the known index
 * (inventory, authorisations), the CAA verdicts the alerts carried, the log URLs. A long-running
 * reader (the web server) may keep one for a few seconds and pass it to `issuanceViews`.
 */
export interface IssuanceViewContext {
  known: KnownIndex;
  alerted: Map<string, MonitorEvent>;
  logUrls: Map<string, string>;
  authorizations: readonly Authorization[];
}

export async function loadIssuanceViewContext(store: Store): Promise<IssuanceViewContext> {
  const known = await loadKnownIndex(store);
  const alerted = new Map<string, MonitorEvent>();
  for (const a of await store.listAlerts()) {
    // The outbox payload is checked, not cast: a row that holds no monitor event is skipped here
    // (a listing must not die of one bad row), never read as one.
    let e: MonitorEvent;
    try {
      e = eventOfAlert(a);
    } catch {
      continue;
    }
    if (e.type === 'issuance') alerted.set(e.issuance.tbsSha256, e);
  }
  const logUrls = new Map((await store.listCursors()).map((c) => [c.logId, c.url]));
  const authorizations = await store.listAuthorizations();
  return { known, alerted, logUrls, authorizations };
}

/**
 * The views of `issuances` (in order): what `certs list --json`, `certs show` and the web server's
 * API and pages show of each. Reasons are recomputed against today's inventory and authorisations.
 */
export async function issuanceViews(
  store: Store,
  issuances: readonly Issuance[],
  context?: IssuanceViewContext,
): Promise<IssuanceView[]> {
  const c = context ?? (await loadIssuanceViewContext(store));
  // One history lookup for the whole page, not one per issuance and name.
  const histories = await loadHistories(
    store,
    issuances.flatMap((i) => i.dnsNames),
    c.known,
  );
  return issuances.map((i) => view(i, histories, c.known, c.alerted, c.logUrls, c.authorizations));
}
