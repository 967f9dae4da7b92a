import { existsSync, statSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkStateDir,
  ensureStateDir,
  readStateFile,
  refuseSymlink,
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
