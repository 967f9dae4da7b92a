/**
 * @module iodef/types
 * The shared model of CAA `iodef` reporting (RFC 8659 §4.4), both ends: what a CA reports when CAA
 * made it refuse issuance, as an IODEF v2 document (RFC 7970), and what a domain owner's receiver
 * keeps of a report that arrived. Types only.
 *
 * What makes a report actionable (the Let's Encrypt objection "someone tried" is not): every
 * requested name, the relevant CAA record set and where it was found, the CAA engine's reason code,
 * the validation method and whether domain validation had already succeeded — the high-risk case,
 * where someone controlled the name's traffic (jabber.ru, 2023) — and, if the CA's policy allows
 * it, the requesting ACME account.
 */

/** What the CA knows about one refused issuance; the input of the IODEF builder. */
export interface PreventedIssuance {
  /** Stable and unique per report (RFC 7970 §3.4 IncidentID), e.g. a UUID; also the dedup key at the receiver. */
  incidentId: string;
  /** The CA's identity: its name and the domain it issues IncidentIDs under (IncidentID@name). */
  ca: { name: string; domain: string; contactEmail?: string; url?: string };
  /** Every name of the request (dNSNames of the order/CSR). */
  requestedNames: string[];
  /** The names CAA refused, each with the engine's result. */
  refused: RefusedName[];
  /** The ACME validation method (RFC 8657 §4), or null when unknown. */
  validationMethod: string | null;
  /** Domain validation had already succeeded for the refused names (the high-risk case). */
  validationSucceeded: boolean;
  /** The ACME account URI (RFC 8657 §3); included only when the CA's policy allows it. */
  accountUri: string | null;
  /** When issuance was refused (ISO 8601). */
  detectedAt: string;
  /** When the report was generated (ISO 8601). */
  generatedAt: string;
}

export interface RefusedName {
  name: string;
  /** CAA engine reason code (caa/types.ts `CaaReason`), e.g. `issuer-not-authorized`. */
  reason: string;
  /** One sentence for a human (the engine's explanation). */
  explanation: string;
  /** Where the relevant record set was found (RFC 8659 §3), and the alias target if any. */
  foundAt: string | null;
  aliasTarget: string | null;
  /** The relevant record set in zone-file presentation, e.g. `0 issue "letsencrypt.org"`. */
  records: string[];
  dnssec: 'secure' | 'insecure' | 'bogus' | 'unknown';
}

/** How risky a refused issuance looks to the owner (one word in every one-line summary). */
export type IodefRisk = 'high' | 'medium' | 'low';

/** What a receiver extracts from any IODEF v1/v2 document or RID envelope (lenient parse). */
export interface IodefSummary {
  /** 'iodef-2.0' | 'iodef-1.0', and 'rid' when it came in a RID envelope (RFC 6545). */
  format: 'iodef-2.0' | 'iodef-1.0';
  envelope: 'none' | 'rid';
  incidentId: string | null;
  incidentIdName: string | null;
  reportTime: string | null;
  generationTime: string | null;
  detectTime: string | null;
  /** Who reported: Contact names/emails/URLs found. */
  reporter: string[];
  /** Names the report is about (DomainData/Name, Node/DomainData, …). */
  names: string[];
  /** Free-text descriptions, truncated. */
  descriptions: string[];
  /** certvigil reports carry these; other CAs' may not. */
  reason: string | null;
  validationMethod: string | null;
  validationSucceeded: boolean | null;
  accountUri: string | null;
  caaRecords: string[];
  risk: IodefRisk;
  /**
   * Per refused name, when the report carries certvigil's per-name data (src/iodef/document.ts);
   * absent otherwise. `explanation` is the per-name Description ('' when there is none).
   */
  refused?: RefusedName[];
}
