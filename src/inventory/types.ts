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

/** Stable codes for `InventoryScan.errors` (added by inventory/scan; optional for compatibility). */
export type InventoryErrorCode =
  /** A path given to the scan does not exist or cannot be read: the scan says nothing about it. */
  | 'INVENTORY_PATH_UNREADABLE'
  /** The path could not be listed, opened or read (permissions, I/O error, vanished). */
  | 'INVENTORY_UNREADABLE'
  /** A file was larger than the scan's size limit and was skipped unread. */
  | 'INVENTORY_TOO_LARGE'
  /** A certificate file (or a block in it) is not valid PEM / DER X.509. */
  | 'INVENTORY_BAD_CERTIFICATE'
  /** A file that an ACME client layout says holds a certificate holds none. */
  | 'INVENTORY_NO_CERTIFICATE'
  /** A client's configuration or store file (renewal conf, acme.json, …) could not be parsed. */
  | 'INVENTORY_BAD_CONFIG'
  /** A directory was not descended into: depth or entry-count limit reached. */
  | 'INVENTORY_LIMIT';

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
