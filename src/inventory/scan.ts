/**
 * @module inventory/scan
 * `scanInventory`: walks the given paths, lets each detected ACME client layout (layouts.ts) read
 * its own tree, treats everything else as a plain folder of certificate files, and returns the
 * leaf certificates (deduplicated), the names the clients manage, and every file that failed.
 *
 * Walking rules:
 * - Symlinks are never followed to directories (so a link loop cannot recurse); a symlink to a
 *   file is read only when it resolves inside the scanned path (so `live/` symlinks into certbot's
 *   `archive/` count, and a link to `/` or another tree does not), under its real path.
 * - A directory is entered once per scan (by device and inode: bind mounts and overlapping paths
 *   are walked once), at most `maxDepth` levels below the scanned path, within `maxEntries`
 *   directory entries per scan; a cut is recorded as `INVENTORY_LIMIT`.
 * - Files over `maxFileBytes` (`maxStoreBytes` for Traefik stores) are not read
 *   (`INVENTORY_TOO_LARGE`); FIFOs, sockets and devices are ignored, never opened for blocking.
 * - Plain folders: `*.pem`, `*.crt`, `*.cer`, `*.der` (any case) holding PEM or DER certificates;
 *   other PEM (keys, CSRs) and empty files are ignored. A file named `acme.json`, or any `*.json`
 *   with a Traefik store's shape, is read as Traefik's ACME store.
 * - A path given that does not exist or cannot be read is `INVENTORY_PATH_UNREADABLE` (never an
 *   empty inventory); every file, entry or certificate not taken is told to `onSkip` with why.
 * - Only certificates held for a name are kept (the issuers of a chain and chain-only files are
 *   dropped, see certs.ts `leavesFromDer`; a self-signed CA:TRUE leaf is kept), one record per
 *   certificate (by SHA-256 of the DER) however many paths hold it; the client's own per-version
 *   file wins over a bundle, a "current" symlink, or a loose copy (context.ts `RANK`).
 */
import { basename, dirname, join, resolve } from 'node:path';
import { ScanContext, RANK } from './context.js';
import type { ScanLimits, SkipListener } from './context.js';
import { InventoryFault } from './errors.js';
import {
  describeError,
  inventoryPathProblem,
  isInside,
  listDir,
  lstatOrNull,
  readBounded,
  realpath,
  resolveInside,
  stat,
} from './files.js';
import { detectLayout } from './layouts.js';
import { parseTraefikStore } from './traefik-format.js';
import type { InventoryScan } from './types.js';

export interface ScanInventoryOptions {
  /** Directory levels below each given path that are walked. Default 16. */
  maxDepth?: number;
  /** Certificate and config files larger than this are skipped. Default 1 MiB. */
  maxFileBytes?: number;
  /** Traefik `acme.json` stores larger than this are skipped. Default 64 MiB. */
  maxStoreBytes?: number;
  /** Directory entries looked at per scan before it stops descending. Default 1,000,000. */
  maxEntries?: number;
  /** Directories never entered (unless given as a path). Default `/proc`, `/sys`, `/dev`. */
  excludePaths?: string[];
  /** Told why each file, entry or certificate was not taken (the CLI logs it at debug level). */
  onSkip?: SkipListener;
}

const DEFAULTS: ScanLimits = {
  maxDepth: 16,
  maxFileBytes: 1 << 20,
  maxStoreBytes: 64 << 20,
  maxEntries: 1_000_000,
  excludePaths: ['/proc', '/sys', '/dev'],
};

const CERT_FILE_RE = /\.(?:pem|crt|cer|der)$/i;
/**
 * Loose files that by name hold only a chain (issuers): certbot's `chain.pem`, acme.sh's `ca.cer`,
 * lego's `X.issuer.crt`, `ca.pem`, `*-chain.pem`, `intermediate.pem`. `fullchain*` is not one: it
 * starts with the leaf.
 */
const CHAIN_FILE_RE =
  /^(?:chain[-\d]*|ca|ca-bundle|cabundle|intermediates?|.+[._-]chain|.+\.issuer)\.(?:pem|crt|cer)$/i;

/**
 * Reads the certificates the ACME clients on this machine obtained, from each path (a directory
 * or a file; a missing or unreadable path is recorded in `errors`). Never throws for bad input
 * files: every failure is an `errors` entry with a stable `code`, and the scan goes on.
 *
 * @example
 * const inv = await scanInventory(['/etc/letsencrypt', '/var/lib/dehydrated', '/root/.acme.sh']);
 * for (const c of inv.certificates) index.set(c.tbsSha256, c); // matches the CT precertificate
 * for (const e of inv.errors) log.warn(e, 'inventory: file not read');
 */
export async function scanInventory(
  paths: string[],
  options: ScanInventoryOptions = {},
): Promise<InventoryScan> {
  const limits: ScanLimits = {
    maxDepth: options.maxDepth ?? DEFAULTS.maxDepth,
    maxFileBytes: options.maxFileBytes ?? DEFAULTS.maxFileBytes,
    maxStoreBytes: options.maxStoreBytes ?? DEFAULTS.maxStoreBytes,
    maxEntries: options.maxEntries ?? DEFAULTS.maxEntries,
    excludePaths: options.excludePaths ?? DEFAULTS.excludePaths,
  };
  const ctx = new ScanContext(limits, options.onSkip);
  for (const p of paths) await scanPath(ctx, resolve(p));
  return ctx.result();
}

/** The paths of a scan that could not be scanned at all (`INVENTORY_PATH_UNREADABLE`), with why. */
export function unreadablePaths(scan: InventoryScan): { path: string; error: string }[] {
  return scan.errors.filter((e) => e.code === 'INVENTORY_PATH_UNREADABLE');
}

async function scanPath(ctx: ScanContext, path: string): Promise<void> {
  // A given path that is missing or unreadable is its own error code: callers refuse it (CLI) or
  // raise a health alert and keep the last good inventory (daemon), never treat it as empty.
  const problem = await inventoryPathProblem(path);
  if (problem !== null) {
    ctx.error(path, 'INVENTORY_PATH_UNREADABLE', problem);
    return;
  }
  let real: string;
  let st;
  try {
    real = await realpath(path);
    st = await stat(real);
  } catch (err) {
    ctx.error(path, 'INVENTORY_PATH_UNREADABLE', describeError(err));
    return;
  }
  if (st.isDirectory()) {
    ctx.root = real;
    await walk(ctx, real, 0);
  } else if (st.isFile()) {
    ctx.root = dirname(real);
    await looseFile(ctx, real, basename(path), true);
  }
}

/** Why a walked entry is not read, for `onSkip`. */
const SKIP_NOT_CERT_NAME = 'not a certificate file name (*.pem, *.crt, *.cer, *.der) nor a Traefik *.json';

async function walk(ctx: ScanContext, dir: string, depth: number): Promise<void> {
  const st = await lstatOrNull(dir);
  if (st === null || !st.isDirectory() || !ctx.enterDir(st.dev, st.ino)) return;
  let entries;
  try {
    entries = await listDir(dir);
  } catch (err) {
    ctx.fault(dir, err);
    return;
  }
  if (!ctx.spendEntries(dir, entries.length)) return;

  const layout = await detectLayout(dir, entries);
  if (layout !== null) {
    await layout.read(ctx, dir);
    if (layout.consumed === 'all') return;
  }
  for (const e of entries) {
    if (layout !== null && layout.consumed !== 'all' && layout.consumed.has(e.name)) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) {
      if (ctx.limits.excludePaths.some((x) => isInside(x, path))) {
        ctx.skip(path, 'excluded directory: not entered');
        continue;
      }
      if (depth + 1 > ctx.limits.maxDepth) {
        ctx.error(path, 'INVENTORY_LIMIT', `more than ${ctx.limits.maxDepth} levels deep; not descended`);
        continue;
      }
      await walk(ctx, path, depth + 1);
    } else if (e.isFile()) {
      await looseFile(ctx, path, e.name, false);
    } else if (e.isSymbolicLink()) {
      // Directories behind symlinks are never followed; files only inside the scanned tree. A link
      // that cannot be resolved is an error only if its name says it should hold certificates.
      let r;
      try {
        r = await resolveInside(ctx.root, path);
      } catch (err) {
        if (CERT_FILE_RE.test(e.name) || e.name.toLowerCase().endsWith('.json')) ctx.fault(path, err);
        continue;
      }
      if (r !== null && r.kind === 'file') await looseFile(ctx, r.path, e.name, false, basename(r.path));
      else if (r === null)
        ctx.skip(path, 'symlink that leads nowhere or out of the scanned tree: not followed');
      else ctx.skip(path, `symlink to a ${r.kind === 'dir' ? 'directory' : 'special file'}: not followed`);
    } else {
      ctx.skip(path, 'not a regular file (FIFO, socket or device): not opened');
    }
  }
}

/** A file outside any detected layout: a Traefik store, a certificate file, or ignored. */
async function looseFile(
  ctx: ScanContext,
  path: string,
  name: string,
  given: boolean,
  targetName = name,
): Promise<void> {
  const lower = name.toLowerCase();
  const isAcmeJson = lower === 'acme.json' || targetName.toLowerCase() === 'acme.json';
  if (isAcmeJson || lower.endsWith('.json')) {
    await traefikStore(ctx, path, isAcmeJson || given);
  } else if (CERT_FILE_RE.test(name) || CERT_FILE_RE.test(targetName) || given) {
    const chainOnly = CHAIN_FILE_RE.test(name) || CHAIN_FILE_RE.test(targetName);
    await ctx.collect(path, 'pem', RANK.loose, { expectCertificate: given, chainOnly });
  } else {
    ctx.skip(path, SKIP_NOT_CERT_NAME);
  }
}

/**
 * Reads a Traefik ACME store. `strict` (a file named acme.json, or one given explicitly): any
 * failure is an error. Otherwise a JSON file that is not a Traefik store is silently ignored.
 */
async function traefikStore(ctx: ScanContext, path: string, strict: boolean): Promise<void> {
  let bytes: Uint8Array | null;
  try {
    bytes = await readBounded(path, ctx.limits.maxStoreBytes);
  } catch (err) {
    if (strict) ctx.fault(path, err);
    return;
  }
  // local_store.go CheckFile: an empty file is a store with no data yet.
  if (bytes === null || bytes.length === 0) return;
  const text = Buffer.from(bytes).toString('utf8');
  // Cheap pre-filter before parsing every JSON file of a tree: all generations have this key.
  if (!strict && !/"certificates"|"domainscertificate"/i.test(text)) {
    ctx.skip(path, 'JSON file that is not a Traefik ACME store');
    return;
  }
  let entries;
  try {
    entries = parseTraefikStore(text);
  } catch (err) {
    if (strict || !(err instanceof InventoryFault)) ctx.fault(path, err);
    else ctx.skip(path, 'JSON file that is not a Traefik ACME store');
    return;
  }
  for (const entry of entries) {
    // local_store.go `get`: Traefik deletes entries without a certificate or key on load, so they
    // are neither certificates nor managed names.
    if (!entry.hasKey || entry.certificate === null) continue;
    const label = `${path}#${entry.label}`;
    if ('error' in entry.certificate) {
      ctx.error(label, 'INVENTORY_BAD_CERTIFICATE', entry.certificate.error);
    } else {
      ctx.addBytes(entry.certificate, 'traefik', label, RANK.canonical, true);
    }
    ctx.addManaged(entry.names, 'traefik', path);
  }
}
