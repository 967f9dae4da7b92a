/**
 * @module acme/types
 * An ACME account as found in a client's storage.
 */
export type AcmeClient = 'certbot' | 'dehydrated' | 'acme.sh' | 'lego' | 'caddy' | 'traefik' | 'cert-manager';

export interface AcmeAccount {
  client: AcmeClient;
  /** The file the account URI was read from. */
  path: string;
  /** The CA's ACME directory URL, when the client records it (or it can be derived). */
  caDirectory: string | null;
  /** The CA's CAA issuer domain (RFC 8659 §4.2) for that directory, or null when unknown. */
  caIssuer: string | null;
  /** The account URL (RFC 8555 §7.3 "Location"), as RFC 8657 `accounturi` must match it. */
  accountUri: string;
  /** Names this account obtains certificates for, where the client records them. */
  names: string[];
  /** ACME challenge types this client uses with the account, where its configuration says so. */
  challengeTypes: string[];
}
