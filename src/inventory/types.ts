/**
 * @module inventory/types
 * Certificates the organisation obtained itself, read from where ACME clients keep them: the
 * "internal check" compares what CT shows with these.
 */
import type { InventoryErrorCode } from './errors.js';

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

/** Where one managed name was found (added by inventory/scan; optional for compatibility). */
export interface ManagedNameSource {
  name: string;
  source: InventorySource;
  /** The configuration file (or certificate, for names taken from it) that names it. */
  path: string;
}

export interface InventoryScan {
  certificates: InventoryCertificate[];
  /** Names an ACME client on this machine is configured to manage (renewal configs, accounts). */
  managedNames: string[];
  /** Each managed name with the client and file it came from, sorted by name then path. */
  managedNameSources?: ManagedNameSource[];
  /** Files that could not be read or parsed; a scan never stops at one bad file. */
  errors: { path: string; error: string; code?: InventoryErrorCode }[];
}
