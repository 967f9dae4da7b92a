/**
 * @module inventory/files
 * The file-system edge of the inventory scan: bounded reads that never block, never follow a
 * symlink by accident, and turn every failure into an `InventoryFault` the scan records before
 * moving on. Nothing else in src/inventory opens a file.
 */
import { constants } from 'node:fs';
import type { Dirent, Stats } from 'node:fs';
import { lstat, open, opendir, readdir, realpath, stat } from 'node:fs/promises';
import { sep } from 'node:path';
import { InventoryFault } from './errors.js';

/** `ENOENT: no such file…` style text for a Node system error, or the plain message. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code !== undefined && !err.message.startsWith(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

// O_NONBLOCK: opening a FIFO someone named `cert.pem` must not hang the scan (open(2): with
// O_NONBLOCK a read-only open of a FIFO returns at once). O_NOFOLLOW: callers pass paths they have
// already resolved; if the last component was swapped for a symlink since, refuse rather than follow.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/**
 * Reads a regular file of at most `maxBytes`. Returns null for something that is not a regular
 * file (FIFO, socket, device), which the scan ignores. Throws `InventoryFault`
 * `INVENTORY_TOO_LARGE` past the limit (checked on the open descriptor, and again while reading in
 * case the file grows) and `INVENTORY_UNREADABLE` for any I/O error.
 */
export async function readBounded(path: string, maxBytes: number): Promise<Uint8Array | null> {
  let handle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (err) {
    throw new InventoryFault('INVENTORY_UNREADABLE', describeError(err), { cause: err });
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) return null;
    if (st.size > maxBytes) {
      throw new InventoryFault('INVENTORY_TOO_LARGE', `${st.size} bytes is over the ${maxBytes}-byte limit`);
    }
    const buf = new Uint8Array(Math.min(st.size, maxBytes) + 1);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, filled, buf.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled > maxBytes) {
        throw new InventoryFault('INVENTORY_TOO_LARGE', `file grew past the ${maxBytes}-byte limit`);
      }
      if (filled === buf.length) break;
    }
    return buf.subarray(0, filled);
  } catch (err) {
    if (err instanceof InventoryFault) throw err;
    throw new InventoryFault('INVENTORY_UNREADABLE', describeError(err), { cause: err });
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** Directory entries sorted by name (so scans are deterministic); throws `INVENTORY_UNREADABLE`. */
export async function listDir(path: string): Promise<Dirent[]> {
  try {
    const entries = await readdir(path, { withFileTypes: true });
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (err) {
    throw new InventoryFault('INVENTORY_UNREADABLE', describeError(err), { cause: err });
  }
}

/** Entry names of a directory, or an empty list if it cannot be listed (for detection peeks). */
export async function peekDir(path: string): Promise<Dirent[]> {
  try {
    return await listDir(path);
  } catch {
    return [];
  }
}

/** True when `child` is `root` itself or lies under it (both absolute, already resolved). */
export function isInside(root: string, child: string): boolean {
  if (child === root) return true;
  const prefix = root.endsWith(sep) ? root : root + sep;
  return child.startsWith(prefix);
}

export type ResolvedKind = 'file' | 'dir' | 'other';

export interface Resolved {
  /** The real path (symlinks resolved). */
  path: string;
  kind: ResolvedKind;
  /** The path given was a symlink (or had one in it). */
  viaSymlink: boolean;
  dev: number;
  ino: number;
}

/** Errors that mean "nothing there": a missing path, a dangling or looping symlink. */
const ABSENT = new Set(['ENOENT', 'ENOTDIR', 'ELOOP']);

function absent(err: unknown): boolean {
  return ABSENT.has((err as NodeJS.ErrnoException).code ?? '');
}

/**
 * Resolves `path` and returns where it really is, or null when it does not exist (a dangling
 * symlink is not an error: certbot and dehydrated both leave them behind) or resolves outside
 * `root` (the scan never follows a symlink out of the tree it was given). Throws
 * `INVENTORY_UNREADABLE` when it cannot be resolved for another reason (EACCES on a parent).
 */
export async function resolveInside(root: string, path: string): Promise<Resolved | null> {
  try {
    const real = await realpath(path);
    if (!isInside(root, real)) return null;
    const st = await stat(real);
    const kind: ResolvedKind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : 'other';
    return { path: real, kind, viaSymlink: real !== path, dev: st.dev, ino: st.ino };
  } catch (err) {
    if (absent(err)) return null;
    throw new InventoryFault('INVENTORY_UNREADABLE', describeError(err), { cause: err });
  }
}

/**
 * Entries of a directory a layout expects (sorted): an empty list when it does not exist, null
 * when it exists but cannot be listed (the fault is passed to `onFault`).
 */
export async function listExpected(
  path: string,
  onFault: (err: InventoryFault) => void,
): Promise<Dirent[] | null> {
  try {
    return await listDir(path);
  } catch (err) {
    if (err instanceof InventoryFault && absent(err.cause)) return [];
    onFault(
      err instanceof InventoryFault ? err : new InventoryFault('INVENTORY_UNREADABLE', describeError(err)),
    );
    return null;
  }
}

/** `no such file or directory (ENOENT)`: Node's text without the path it repeats. */
export function fsReason(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const text = err.message.replace(/^[A-Z0-9_]+: /, '').replace(/, \w+ '.*'$/s, '');
  return code !== undefined && text !== code ? `${text} (${code})` : text;
}

/**
 * Why a path given to the scan cannot be scanned at all, or null when it can: it must exist (after
 * symlinks), and be a directory that can be listed or a file that can be opened. A missing or
 * unreadable inventory is not an empty one: every one of the owner's certificates would then look
 * foreign, so callers refuse it (CLI) or raise a health alert (daemon) instead of scanning nothing.
 */
export async function inventoryPathProblem(path: string): Promise<string | null> {
  try {
    const real = await realpath(path);
    const st = await stat(real);
    if (st.isDirectory()) {
      const dir = await opendir(real);
      await dir.read();
      await dir.close();
      return null;
    }
    if (st.isFile()) {
      const handle = await open(real, OPEN_FLAGS);
      await handle.close();
      return null;
    }
    return 'not a file or directory';
  } catch (err) {
    return fsReason(err);
  }
}

/** `lstat` that reports a missing path as null. */
export async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch {
    return null;
  }
}

export { realpath, stat };
