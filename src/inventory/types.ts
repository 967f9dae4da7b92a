/**
 * @module inventory/types
 * Certificates the organisation obtained itself, read from where ACME clients keep them: the
 * "internal check" compares what CT shows with these.
 */

export type InventorySource = 'certbot' | 'dehydrated' | 'acme.sh' | 'lego' | 'caddy' | 'traefik' | 'pem';

export interface InventoryCertificate {
  source: InventorySource;
  /** File the certificate came from (for Traefik: `acme.json#<resolver>/<domain>`). */
  path: string;
  certSha256: string;
  /** Without CT poison/SCT-list extensions: equal to the TBS hash of the logged precertificate. */
  tbsSha256: string;
  spkiSha256: string;
  dnsNames: string[];
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
}

export interface InventoryScan {
  certificates: InventoryCertificate[];
  /** Names an ACME client on this machine is configured to manage (renewal configs, accounts). */
  managedNames: string[];
  /** Files that could not be read or parsed; a scan never stops at one bad file. */
  errors: { path: string; error: string }[];
}
