import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SHIPPED_SNAPSHOT_DIR } from './ct/loglist-source.js';
import { dataPath, findPackageRoot, packageRoot, packageVersion } from './package-files.js';

const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));
const work = mkdtempSync(join(tmpdir(), 'certvigil-pkgfiles-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function put(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
}

describe('findPackageRoot', () => {
  // An installed copy: node_modules/certvigil inside someone else's project, with a bundle deep down.
  put(join(work, 'app/package.json'), '{"name": "someone-else", "version": "1.0.0"}');
  put(join(work, 'app/node_modules/certvigil/package.json'), '{"name": "certvigil", "version": "9.9.9"}');
  put(join(work, 'app/node_modules/certvigil/dist/bin/chunks/x.js'), '');
  put(join(work, 'app/node_modules/certvigil/dist/bin/package.json'), 'not json');
  put(join(work, 'lost/dist/ct/x.js'), '');

  it.each([
    ['a chunk of the bundle', 'app/node_modules/certvigil/dist/bin/chunks', 'app/node_modules/certvigil'],
    [
      'the bundle (skipping a package.json that is not JSON)',
      'app/node_modules/certvigil/dist/bin',
      'app/node_modules/certvigil',
    ],
    ['the package root itself', 'app/node_modules/certvigil', 'app/node_modules/certvigil'],
  ])('from %s', (_what, from, root) => {
    const found = findPackageRoot(join(work, from));
    expect(found.root).toBe(join(work, root));
    expect(found.pkg.version).toBe('9.9.9');
  });

  it("never settles on another package's package.json, and fails when there is none of ours", () => {
    expect(() => findPackageRoot(join(work, 'app'))).toThrow(/no package.json of certvigil/);
    expect(() => findPackageRoot(join(work, 'lost/dist/ct'))).toThrow(/no package.json of certvigil/);
  });
});

describe('this checkout', () => {
  it('finds the repository root, its version and the shipped data/', () => {
    expect(packageRoot()).toBe(REPO);
    expect(packageVersion()).toMatch(/^\d+\.\d+\.\d+/);
    expect(existsSync(dataPath('ca-caa-identifiers.json'))).toBe(true);
    // Same value as before the bundle (a directory with a trailing separator).
    expect(SHIPPED_SNAPSHOT_DIR).toBe(join(REPO, 'data') + '/');
    expect(existsSync(join(SHIPPED_SNAPSHOT_DIR, 'loglist-google-v3.json'))).toBe(true);
  });
});
