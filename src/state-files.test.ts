import { existsSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkStateDir,
  ensureStateDir,
  isSharedDirMode,
  readStateFile,
  refuseSymlink,
  shareStateDir,
  stateDirIsShared,
  writeStateFile,
} from './state-files.js';

let work = '';
let n = 0;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'certvigil-state-files-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});
const fresh = (): string => join(work, `d${++n}`);

describe('state directories', () => {
  it('are created 0700, parents included, and a missing one is reported, not created', async () => {
    const dir = join(fresh(), 'a', 'b');
    expect(await checkStateDir(dir)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await ensureStateDir(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, '..')).mode & 0o777).toBe(0o700);
    expect(await checkStateDir(dir)).toBe(true);
  });

  it.each([
    [0o750, true],
    [0o755, true],
    [0o770, false],
    [0o702, false],
    [0o1777, false],
  ])('mode %o accepted: %s', async (mode, accepted) => {
    const dir = fresh();
    await mkdir(dir);
    await chmod(dir, mode);
    const result = checkStateDir(dir);
    if (accepted) await expect(result).resolves.toBe(true);
    else
      await expect(result).rejects.toMatchObject({
        code: 'STATE_UNSAFE',
        message: expect.stringContaining(`run \`chmod 700 ${dir}\``),
      });
  });

  it('refuses a directory owned by someone else, and a file where a directory should be', async () => {
    const dir = fresh();
    await mkdir(dir, { mode: 0o700 });
    await chown(dir, 65534, 65534);
    await expect(ensureStateDir(dir)).rejects.toMatchObject({ code: 'STATE_UNSAFE' });
    const file = fresh();
    await writeFile(file, '');
    await expect(checkStateDir(file)).rejects.toMatchObject({ code: 'STATE_UNSAFE' });
  });
});

describe('state files', () => {
  it('are written 0600 atomically, leaving no *.tmp, and read back', async () => {
    const dir = fresh();
    await ensureStateDir(dir);
    const file = join(dir, 'heads.json');
    await writeStateFile(file, '{"a":1}\n');
    await writeStateFile(file, '{"a":2}\n');
    expect(await readStateFile(file)).toBe('{"a":2}\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['heads.json']);
    expect(await readStateFile(join(dir, 'missing.json'))).toBeNull();
  });

  it('are never read or written through a symlink; the target stays untouched', async () => {
    const dir = fresh();
    await ensureStateDir(dir);
    const victim = join(work, `victim-${n}`);
    await writeFile(victim, 'precious');
    const link = join(dir, 'heads.json');
    await symlink(victim, link);
    await expect(readStateFile(link)).rejects.toMatchObject({ code: 'STATE_UNSAFE' });
    await expect(refuseSymlink(link)).rejects.toMatchObject({ code: 'STATE_UNSAFE' });
    // Writing replaces the link itself (rename), never writes into its target.
    await writeStateFile(link, 'new');
    expect(await readFile(victim, 'utf8')).toBe('precious');
    expect(await readStateFile(link)).toBe('new');
    await expect(refuseSymlink(join(dir, 'absent'))).resolves.toBeUndefined();
  });
});

describe('state directories shared read-only with a group (issue 14)', () => {
  it.each([
    [0o2750, true],
    [0o2710, false], // the group cannot list it
    [0o2770, false], // the group could write: never shared, and checkStateDir refuses it anyway
    [0o750, false], // no setgid: a packager's default, not a decision to share
    [0o755, false],
    [0o2755, true],
    [0o700, false],
  ])('mode %o is shared: %s', (mode, shared) => {
    expect(isSharedDirMode(mode | 0o040000)).toBe(shared);
  });

  it('shareStateDir: 2750 of the group, the given files 0640, a symlink refused', async () => {
    const dir = join(fresh(), 'state');
    const gid = 65534;
    const db = join(dir, 'db');
    await ensureStateDir(dir);
    await writeFile(db, 'x', { mode: 0o600 });
    await shareStateDir(dir, gid, [db, join(dir, 'absent')]);
    expect(statSync(dir).mode & 0o7777).toBe(0o2750);
    expect(statSync(dir).gid).toBe(gid);
    expect(statSync(db).mode & 0o777).toBe(0o640);
    expect(statSync(db).gid).toBe(gid);
    expect(await stateDirIsShared(dir)).toBe(true);
    // Idempotent without touching anything (ctime unchanged: no chmod/chown, which systemd's
    // RestrictSUIDSGID= would refuse for a setgid directory), and the writer's checks accept it.
    const before = [statSync(dir).ctimeMs, statSync(db).ctimeMs];
    await new Promise((resolve) => setTimeout(resolve, 20));
    await shareStateDir(dir, gid, [db]);
    expect([statSync(dir).ctimeMs, statSync(db).ctimeMs]).toEqual(before);
    expect(await checkStateDir(dir)).toBe(true);
    const victim = join(work, `victim-share-${n}`);
    await writeFile(victim, 'precious', { mode: 0o600 });
    await symlink(victim, join(dir, 'link'));
    await expect(shareStateDir(dir, gid, [join(dir, 'link')])).rejects.toMatchObject({
      code: 'STATE_UNSAFE',
    });
    expect(statSync(victim).mode & 0o777).toBe(0o600);
  });

  it('a reader may use a directory of another owner, never a group-writable one', async () => {
    const dir = fresh();
    await mkdir(dir, { mode: 0o750 });
    await chown(dir, 65534, 65534);
    await expect(checkStateDir(dir)).rejects.toMatchObject({ code: 'STATE_UNSAFE' });
    await expect(checkStateDir(dir, { reader: true })).resolves.toBe(true);
    await chmod(dir, 0o2770);
    await expect(checkStateDir(dir, { reader: true })).rejects.toMatchObject({
      code: 'STATE_UNSAFE',
      message: expect.stringContaining(`run \`chmod 2750 ${dir}\``),
    });
  });
});
