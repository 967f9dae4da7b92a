/**
 * @module state-files
 * The rules every file certvigil keeps on disk obeys (the monitor's SQLite state, `ct audit`'s tree
 * heads and evidence, the log list cache). A shared leaf like `errors.ts`: it imports only that.
 *
 * Why: these files decide what the monitor believes (which heads a log signed, which certificates
 * are ours). Whoever can write the directory can swap them, or plant a symlink so that certvigil
 * writes through it into a file of the attacker's choosing (classic /tmp symlink attacks).
 * - The directory: created 0700; an existing one must belong to the current user and not be
 *   group- or world-writable (like OpenSSH's StrictModes for ~/.ssh), else refused with the fix.
 * - Files: created 0600 with O_EXCL (never through an existing name), read with O_NOFOLLOW, and a
 *   symlink where a state file or side file should be is refused, never followed.
 * Once the directory is ours and private, nobody else can create a symlink in it between our
 * checks and our opens, so the `lstat` checks cannot be raced by another user.
 *
 * Shared read-only with a group (`certvigil monitor --group GROUP`, for a monitoring user such as
 * `nagios` that runs `check monitor`): the directory is 2750 (setgid, so that every file created in
 * it gets its group) and the database 0640. Still never group- or world-writable, so the reasoning
 * above holds: only the owner can create, replace or link anything in it. A reader (who never
 * writes) may use a directory owned by someone else for the same reason.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, chown, lstat, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { CertvigilError } from './errors.js';

interface StateFileErrorCodes {
  /**
   * A state directory or file that others could tamper with (group/world-writable, a foreign
   * owner, a symlink): refused, with the fix in the message.
   */
  STATE_UNSAFE: 'state-files';
  /** The state cannot be opened, created or reached (I/O error, permissions, a database down). */
  STORE_UNAVAILABLE: 'state-files';
}

declare module './errors.js' {
  interface ErrorCodes extends StateFileErrorCodes {}
}

/** The codes of this module. */
export type StateFileErrorCode = keyof StateFileErrorCodes;

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
/** A state directory shared read-only with its group: setgid, group may list and enter. */
export const SHARED_DIR_MODE = 0o2750;
/** The database in a shared state directory: its group may read it. */
export const SHARED_FILE_MODE = 0o640;

/**
 * Whether a directory mode says "shared read-only with the group": setgid and group r-x, group w
 * not set. The setgid bit is the deliberate part: a directory that merely happens to be 0750 or
 * 0755 (a packager's default) stays private for certvigil's files.
 */
export function isSharedDirMode(mode: number): boolean {
  return (mode & 0o2070) === 0o2050;
}

function unsafe(message: string): CertvigilError {
  return new CertvigilError('STATE_UNSAFE', message);
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/** The current user's uid, or undefined where there are none (Windows). */
function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

export interface StateDirCheck {
  /**
   * Only reads (a plugin such as `check monitor` as the `nagios` user): the directory may belong
   * to someone else. It still must not be writable by group or others, or someone other than its
   * owner could have swapped the state the check is about to trust.
   */
  reader?: boolean;
}

/**
 * Checks an existing state directory: a directory, owned by the current user (any owner for a
 * reader), not writable by group or others. Returns false when it does not exist (nothing is
 * created).
 */
export async function checkStateDir(dir: string, options: StateDirCheck = {}): Promise<boolean> {
  let st;
  try {
    // stat, not lstat: a state directory reached through a symlink the user made is fine; what
    // matters is who can write the directory itself.
    st = await stat(dir);
  } catch (err) {
    if (errno(err) === 'ENOENT') return false;
    throw new CertvigilError(
      'STORE_UNAVAILABLE',
      `cannot use state directory ${dir}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  if (!st.isDirectory()) throw unsafe(`state directory ${dir} is not a directory`);
  const uid = currentUid();
  if (uid !== undefined && st.uid !== uid && options.reader !== true) {
    throw unsafe(
      `state directory ${dir} is owned by uid ${st.uid}, not by you (uid ${uid}): use a directory of your own, or \`chown ${uid} ${dir}\``,
    );
  }
  if ((st.mode & 0o022) !== 0) {
    const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
    throw unsafe(
      `state directory ${dir} is writable by ${st.mode & 0o002 ? 'everyone' : 'its group'} (mode ${mode}): run \`chmod ${(st.mode & 0o2050) === 0o2050 ? '2750' : '700'} ${dir}\``,
    );
  }
  return true;
}

/** Creates the state directory (and missing parents) 0700 if needed, then checks it. */
export async function ensureStateDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (err) {
    if (errno(err) !== 'EEXIST')
      throw new CertvigilError(
        'STORE_UNAVAILABLE',
        `cannot create state directory ${dir}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
  }
  await checkStateDir(dir);
}

/** A SQLite database and the side files SQLite (and our run lock) open by name beside it. */
export function sqliteFiles(path: string): string[] {
  return [path, `${path}-wal`, `${path}-shm`, `${path}-journal`, `${path}.lock`];
}

/** Whether the existing state directory `dir` is shared read-only with its group (see above). */
export async function stateDirIsShared(dir: string): Promise<boolean> {
  try {
    return isSharedDirMode((await stat(dir)).mode);
  } catch (err) {
    if (errno(err) === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Shares the state directory read-only with group `gid`: creates it if needed (as ensureStateDir),
 * gives it to the group with mode 2750, and makes the existing `files` (the database and its
 * journals; never followed if they are symlinks) group-readable 0640. Files created later get the
 * group from the setgid bit and their mode from the writer (store/sqlite.ts). Idempotent. The
 * caller checked that the current user may give files to `gid` (root, or a member).
 */
export async function shareStateDir(dir: string, gid: number, files: readonly string[]): Promise<void> {
  await ensureStateDir(dir);
  const fail = (what: string, err: unknown): never => {
    throw new CertvigilError(
      'STORE_UNAVAILABLE',
      `cannot share ${what} with group ${gid}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  };
  // Nothing to change is changed: under systemd's RestrictSUIDSGID= even a chmod that keeps the
  // setgid bit is refused, and StateDirectoryMode=2750 may have set it up already.
  const st = await stat(dir);
  if (st.gid !== gid || (st.mode & 0o7777) !== SHARED_DIR_MODE) {
    // Group first, then the mode: chown(2) may clear the setgid bit.
    await chown(dir, -1, gid).catch((err: unknown) => fail(dir, err));
    await chmod(dir, SHARED_DIR_MODE).catch((err: unknown) => fail(dir, err));
  }
  for (const file of files) {
    await refuseSymlink(file);
    let handle;
    try {
      handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      if (errno(err) === 'ENOENT') continue;
      return fail(file, err);
    }
    try {
      // Through the descriptor: the file changed is the one checked, whatever happens to the name.
      const fst = await handle.stat();
      if (fst.gid !== gid) await handle.chown(-1, gid);
      if ((fst.mode & 0o7777) !== SHARED_FILE_MODE) await handle.chmod(SHARED_FILE_MODE);
    } catch (err) {
      fail(file, err);
    } finally {
      await handle.close();
    }
  }
}

/**
 * Refuses a symlink (or anything but a regular file) at `path`; a missing path is fine. For files
 * that another library opens by name (SQLite's database, -wal, -shm and lock files).
 */
export async function refuseSymlink(path: string): Promise<void> {
  let st;
  try {
    st = await lstat(path);
  } catch (err) {
    if (errno(err) === 'ENOENT') return;
    throw err;
  }
  if (st.isSymbolicLink())
    throw unsafe(`${path} is a symbolic link: certvigil never follows links for its state files; remove it`);
  if (!st.isFile()) throw unsafe(`${path} is not a regular file`);
}

/** Reads a state file without following a symlink; null when it does not exist. */
export async function readStateFile(path: string): Promise<string | null> {
  let handle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if (errno(err) === 'ENOENT') return null;
    if (errno(err) === 'ELOOP')
      throw unsafe(
        `${path} is a symbolic link: certvigil never follows links for its state files; remove it`,
      );
    throw err;
  }
  try {
    if (!(await handle.stat()).isFile()) throw unsafe(`${path} is not a regular file`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Writes a state file atomically: a new `*.tmp` created with O_EXCL (so never through a symlink or
 * a file someone else made) and 0600, synced, then renamed over `path` (rename replaces a symlink
 * at `path` itself, never its target). A crash leaves the old file or the new one, never half.
 */
export async function writeStateFile(path: string, content: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(
    tmp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    PRIVATE_FILE_MODE,
  );
  try {
    await handle.writeFile(content);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
