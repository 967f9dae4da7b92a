/**
 * @module package-files
 * Files shipped with the package (`package.json`, `data/`), found from wherever the running code
 * sits. The same module runs from `src/` (tests, tsx), from `dist/<module>/` (the library) and
 * inlined into the bundled CLI (`dist/bin/certvigil.js`, any depth): a path fixed relative to
 * `import.meta.url` (`'../../data/'`) is right for only some of them, and silently wrong in the
 * bundle, where every module shares the bundle's URL. So the package root is searched for instead:
 * the nearest directory above this code whose `package.json` names certvigil.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'certvigil';

interface PackageJson {
  name?: unknown;
  version?: unknown;
}

/** `dir/package.json` parsed, or null when it is missing or not JSON. */
function readPackageJson(dir: string): PackageJson | null {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
  } catch {
    return null;
  }
}

/**
 * The nearest directory at or above `from` whose package.json is certvigil's, with that file.
 * Pure apart from reading files; exported for tests (an installed copy: `node_modules/certvigil`).
 */
export function findPackageRoot(from: string): { root: string; pkg: PackageJson } {
  for (let dir = from; ;) {
    const pkg = readPackageJson(dir);
    if (pkg?.name === PACKAGE_NAME) return { root: dir, pkg };
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  // Not a user error: the installation itself is broken (files moved out of the package). A plain
  // Error on purpose, so that the CLI reports it as `internal error:`, not as bad input.
  throw new Error(`certvigil: no package.json of ${PACKAGE_NAME} above ${from}`);
}

let found: { root: string; pkg: PackageJson } | undefined;

function here(): { root: string; pkg: PackageJson } {
  found ??= findPackageRoot(dirname(fileURLToPath(import.meta.url)));
  return found;
}

/** The package's root directory (holds package.json and data/). */
export function packageRoot(): string {
  return here().root;
}

/** The package's version, from its package.json. */
export function packageVersion(): string {
  const { version } = here().pkg;
  return typeof version === 'string' ? version : '0.0.0';
}

/** A file or directory in the shipped `data/` folder. */
export function dataPath(...parts: string[]): string {
  return join(packageRoot(), 'data', ...parts);
}
