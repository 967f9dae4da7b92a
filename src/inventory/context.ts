/**
 * @module inventory/context
 * The state one `scanInventory` call accumulates — certificates (deduplicated), managed names,
 * errors — and the one way layouts read a certificate file (`collect`), so that every layout gets
 * the same size limit, memoisation, error recording and dedupe.
 */
import { leavesFromBytes } from './certs.js';
import type { LeafRecord } from './certs.js';
import type { Dirent } from 'node:fs';
import { InventoryFault } from './errors.js';
import type { InventoryErrorCode } from './errors.js';
import { describeError, listExpected, readBounded, resolveInside } from './files.js';
import type { Resolved } from './files.js';
import type { InventoryCertificate, InventoryScan, InventorySource, ManagedNameSource } from './types.js';

/** Resolved scan limits (see `ScanInventoryOptions` in scan.ts for the meaning and defaults). */
export interface ScanLimits {
  maxDepth: number;
  maxFileBytes: number;
  maxStoreBytes: number;
  maxEntries: number;
  excludePaths: string[];
}

/**
 * Preference among records of one certificate found at several paths: lower wins, then the
 * lexicographically smaller path. Layouts rank the client's own per-version file first (certbot
 * `archive/L/certN.pem`, dehydrated `cert-T.pem`, …), bundles of the same certificate next, files
 * reached through the client's "current" symlinks or copies after, and loose PEM files last.
 */
export const RANK = {
  canonical: 0,
  bundle: 1,
  current: 2,
  loose: 5,
} as const;

interface Kept {
  record: InventoryCertificate;
  rank: number;
}

export interface CollectOptions {
  /** The layout says this file holds a certificate: zero certificates in it is an error. */
  expectCertificate?: boolean;
  /** The file holds only a chain (issuers): nothing of it is kept (certs.ts `LeafOptions`). */
  chainOnly?: boolean;
}

/** Told why a file, entry or certificate was not taken into the inventory (debug logs). */
export type SkipListener = (path: string, reason: string) => void;

export class ScanContext {
  private readonly byHash = new Map<string, Kept>();
  private readonly memo = new Map<string, LeafRecord[]>();
  private readonly managed = new Map<string, ManagedNameSource>();
  private readonly errorList: { path: string; error: string; code: InventoryErrorCode }[] = [];
  private readonly visitedDirs = new Set<string>();
  private entriesSeen = 0;
  private limitReported = false;
  /** Real path of the scan root being walked; symlinks must resolve inside it. */
  root = '/';

  constructor(
    readonly limits: ScanLimits,
    private readonly onSkip: SkipListener = () => undefined,
  ) {}

  /** Says why `path` (a file, an entry, a certificate in a file) is not in the inventory. */
  skip(path: string, reason: string): void {
    this.onSkip(path, reason);
  }

  error(path: string, code: InventoryErrorCode, message: string): void {
    this.errorList.push({ path, code, error: `${code}: ${message}` });
  }

  fault(path: string, err: unknown): void {
    if (err instanceof InventoryFault) this.error(path, err.code, err.message);
    else this.error(path, 'INVENTORY_UNREADABLE', describeError(err));
  }

  /** Marks a directory (by device and inode) as walked; false if it already was (loop, overlap). */
  enterDir(dev: number, ino: number): boolean {
    const key = `${dev}:${ino}`;
    if (this.visitedDirs.has(key)) return false;
    this.visitedDirs.add(key);
    return true;
  }

  /** Counts directory entries against `maxEntries`; false (and one error) once the budget is spent. */
  spendEntries(path: string, n: number): boolean {
    this.entriesSeen += n;
    if (this.entriesSeen <= this.limits.maxEntries) return true;
    if (!this.limitReported) {
      this.limitReported = true;
      this.error(
        path,
        'INVENTORY_LIMIT',
        `more than ${this.limits.maxEntries} directory entries; scan cut short`,
      );
    }
    return false;
  }

  /** `resolveInside` the current root; an unresolvable path is recorded and yields null. */
  async resolve(path: string): Promise<Resolved | null> {
    try {
      return await resolveInside(this.root, path);
    } catch (err) {
      this.fault(path, err);
      return null;
    }
  }

  /** Entries of a directory a layout expects: [] if absent, null (recorded) if unreadable. */
  list(path: string): Promise<Dirent[] | null> {
    return listExpected(path, (err) => this.fault(path, err));
  }

  /**
   * Reads the certificate file at `realPath` (already resolved), records its leaves under
   * `source` with preference `rank`, and returns them. Each real path is read once per scan; a
   * second call returns the first result (so a "current" symlink costs nothing). Failures are
   * recorded against the path and yield an empty list. An empty file yields nothing and no error
   * (dehydrated leaves an empty `cert-T.pem` behind when signing fails).
   */
  async collect(
    realPath: string,
    source: InventorySource,
    rank: number,
    opts: CollectOptions = {},
  ): Promise<LeafRecord[]> {
    const cached = this.memo.get(realPath);
    if (cached !== undefined) {
      // Read before through another name (a "current" symlink, an overlapping scan path): the
      // better rank still applies, and a client layout's attribution beats a loose-file one.
      const leaves = cached.map((l) => (l.source === source ? l : { ...l, source }));
      for (const leaf of leaves) this.keep(leaf, rank);
      return leaves;
    }
    this.memo.set(realPath, []);
    let bytes: Uint8Array | null;
    try {
      bytes = await readBounded(realPath, this.limits.maxFileBytes);
    } catch (err) {
      this.fault(realPath, err);
      return [];
    }
    if (bytes === null) {
      this.skip(realPath, 'not a regular file (FIFO, socket or device): not opened');
      return [];
    }
    if (bytes.length === 0) {
      this.skip(realPath, 'empty file');
      return [];
    }
    const leaves = this.addBytes(
      bytes,
      source,
      realPath,
      rank,
      opts.expectCertificate ?? false,
      opts.chainOnly,
    );
    this.memo.set(realPath, leaves);
    return leaves;
  }

  /** Like `collect` for bytes that are not a file of their own (a Traefik store entry). */
  addBytes(
    bytes: Uint8Array,
    source: InventorySource,
    path: string,
    rank: number,
    expectCertificate: boolean,
    chainOnly = false,
  ): LeafRecord[] {
    let parsed;
    try {
      parsed = leavesFromBytes(bytes, source, path, { chainOnly, onSkip: this.onSkip });
    } catch (err) {
      this.fault(path, err);
      return [];
    }
    if (parsed === null) {
      // Neither PEM nor DER: a loose `*.crt` may be a placeholder text; a client's own file not.
      if (expectCertificate)
        this.error(path, 'INVENTORY_BAD_CERTIFICATE', 'neither a PEM certificate nor DER');
      else this.skip(path, 'neither a PEM certificate nor DER');
      return [];
    }
    if (parsed.certificateCount === 0 && !expectCertificate)
      this.skip(path, 'PEM without a CERTIFICATE block (a key, a CSR, parameters)');
    for (const msg of parsed.blockErrors) this.error(path, 'INVENTORY_BAD_CERTIFICATE', msg);
    if (expectCertificate && parsed.certificateCount === 0) {
      this.error(path, 'INVENTORY_NO_CERTIFICATE', 'no certificate in a file the client keeps one in');
    }
    for (const leaf of parsed.leaves) this.keep(leaf, rank);
    return parsed.leaves;
  }

  private keep(record: InventoryCertificate, rank: number): void {
    const prev = this.byHash.get(record.certSha256);
    if (prev === undefined || rank < prev.rank || (rank === prev.rank && record.path < prev.record.path)) {
      this.byHash.set(record.certSha256, { record, rank });
    }
  }

  /** Records names a client manages; names are lower-cased, empty ones dropped. */
  addManaged(names: Iterable<string>, source: InventorySource, path: string): void {
    for (const raw of names) {
      const name = raw.trim().toLowerCase();
      if (name === '') continue;
      const key = `${name}\u0000${source}\u0000${path}`;
      if (!this.managed.has(key)) this.managed.set(key, { name, source, path });
    }
  }

  result(): InventoryScan {
    const certificates = [...this.byHash.values()]
      .map((k) => k.record)
      .sort((a, b) => cmp(a.path, b.path) || cmp(a.certSha256, b.certSha256));
    const managedNameSources = [...this.managed.values()].sort(
      (a, b) => cmp(a.name, b.name) || cmp(a.path, b.path) || cmp(a.source, b.source),
    );
    const managedNames = [...new Set(managedNameSources.map((m) => m.name))];
    return { certificates, managedNames, managedNameSources, errors: [...this.errorList] };
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
