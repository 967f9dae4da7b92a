/**
 * @module probe/public-roots
 * The publicly trusted roots, as hashes: Node's bundled Mozilla root store and the system's CA
 * bundle (what OpenSSL-based tools on the machine trust). Used only to tell whether a chain that
 * validated against a `--ca-file` ends at a public root (`ct-scope.ts`), so a hash set is enough.
 */
import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { sha256Hex } from '../hash.js';

/** Where Debian/Ubuntu, RHEL/Fedora and Alpine/macOS-style systems keep their bundle. */
export const SYSTEM_CA_FILES: readonly string[] = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/cert.pem',
];

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----/g;

/** DER of every certificate in a PEM text (other blocks and text between them ignored). */
export function pemCertificates(pem: string): Buffer[] {
  const out: Buffer[] = [];
  for (const m of pem.matchAll(PEM_BLOCK)) out.push(Buffer.from((m[1] ?? '').replace(/\s+/g, ''), 'base64'));
  return out;
}

/** `$SSL_CERT_FILE` first (as OpenSSL honours it), then the usual bundle paths. */
export function systemBundlePaths(): string[] {
  return [...(process.env.SSL_CERT_FILE ? [process.env.SSL_CERT_FILE] : []), ...SYSTEM_CA_FILES];
}

/**
 * The system's CA bundle as PEM text: the first readable of `paths` (OpenSSL reads one bundle);
 * null when none can be read.
 */
export async function readSystemBundle(
  paths: readonly string[] = systemBundlePaths(),
): Promise<string | null> {
  for (const path of paths) {
    try {
      return await readFile(path, 'utf8');
    } catch {
      // try the next
    }
  }
  return null;
}

/**
 * Hex SHA-256 of the DER of every public root: Node's bundled roots and the system bundle
 * (`readSystemBundle(systemFiles)`).
 */
export async function publicRootHashes(
  systemFiles: readonly string[] = systemBundlePaths(),
): Promise<Set<string>> {
  const hashes = new Set<string>();
  for (const pem of rootCertificates) for (const der of pemCertificates(pem)) hashes.add(sha256Hex(der));
  const bundle = await readSystemBundle(systemFiles);
  if (bundle !== null) for (const der of pemCertificates(bundle)) hashes.add(sha256Hex(der));
  return hashes;
}
