/**
 * @module inventory
 * The certificates this organisation's own ACME clients obtained, read from where the clients
 * keep them (certbot, dehydrated, acme.sh, lego, Caddy, Traefik, plain PEM/DER folders): the
 * "internal check" compares what CT shows with these, by `tbsSha256` (equal for a logged
 * precertificate and its final certificate).
 *
 * @example
 * import { scanInventory } from 'certvigil/inventory'; // (subpath export to be added)
 * const inv = await scanInventory(['/etc/letsencrypt', '/var/lib/caddy/.local/share/caddy']);
 * const ours = new Set(inv.certificates.map((c) => c.tbsSha256));
 * if (!ours.has(entry.tbsSha256)) alert('certificate not obtained by a local ACME client');
 */
export { scanInventory, unreadablePaths } from './scan.js';
export { inventoryPathProblem } from './files.js';
export type { SkipListener } from './context.js';
export { InventoryFault } from './errors.js';
export type { InventoryErrorCode } from './errors.js';
export type { ScanInventoryOptions } from './scan.js';
export type { InventoryCertificate, InventoryScan, InventorySource, ManagedNameSource } from './types.js';
