/**
 * @module cli/code-cache
 * The short runs (`check endpoint`, `check endpoints`, `jarm`; cli/short-run) start from a bundle of
 * their own, compiled with a V8 code cache that `npm run build` made (scripts/bundle.mjs), instead
 * of the ESM chunks every other command loads.
 *
 * Why (perf -e cpu-clock, `check endpoint` on loopback, 2-core bench machine, Node 20.20): V8
 * parsing and compiling our JavaScript was ~30% of the CPU of a check (80-87 ms of ~275 ms under
 * perf; 42 ms of a `check endpoint --help`). Node 20 has no compile cache for ES modules
 * (module.enableCompileCache is Node 22), but `vm.Script` takes V8's `cachedData`: the functions
 * compiled in a training run, ready to use. Only CommonJS-shaped code can go through it, hence one
 * CommonJS bundle per short run (dist/bin/short/NAME.cjs, and its cache beside it).
 *
 * Robust by construction: V8 checks the cache (its own version, the V8 flags, the source length)
 * and compiles from source when it does not fit, with the same result; a missing bundle or cache
 * (tsc's unbundled dist/cli, a partial copy, another Node: `cacheFileFor`) or one made under other
 * V8 flags (`cacheFits`) means the ESM path. Nothing is ever written here: the
 * cache is made at build time only (read-only commands write nothing).
 * `CERTVIGIL_CODE_CACHE=off` takes the ESM path (tests compare both).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { endsWithItsAction, positionals } from './short-run.js';

/** The parameters the bundle's code sees, as a CommonJS module does, plus its own URL. */
const PARAMS = ['exports', 'require', 'module', '__filename', '__dirname', '__certvigilUrl'] as const;

/**
 * The script V8 compiles for a bundle: its source inside a function of PARAMS. Training
 * (scripts/code-cache-train.mjs) and running must compile the very same text (V8 checks its length).
 */
export function wrapBundle(source: string): string {
  return `(function (${PARAMS.join(', ')}) {${source.replace(/^#!.*/, '')}\n})`;
}

/** The short run's bundle name for a command line (`check`, `jarm`), or undefined. */
export function shortBundleName(argv: readonly string[]): string | undefined {
  if (!endsWithItsAction(argv)) return undefined;
  return positionals(argv)[0];
}

/**
 * Compiles a bundle made by scripts/bundle.mjs (`source`, read from `file`) with `cachedData`, and
 * runs it.
 * @returns the compiled script (training asks it for its cache after the run)
 */
export function runBundle(file: string, source: string, cachedData: Buffer | undefined): Script {
  const script = new Script(wrapBundle(source), {
    filename: file,
    ...(cachedData !== undefined ? { cachedData } : {}),
  });
  const main = script.runInThisContext() as (...args: unknown[]) => void;
  const module = { exports: {} };
  main(module.exports, createRequire(file), module, file, dirname(file), pathToFileURL(file).href);
  return script;
}

/** A bundle's text as V8 will see it: ASCII (scripts/bundle.mjs), read as latin1, the cheapest decoding. */
export function readBundle(file: string): string {
  return readFileSync(file, 'latin1');
}

/**
 * The cache of a bundle for this Node (`check.cjs` -> `check.v20.20.2-x64.cache`): under another
 * Node, V8 would refuse it and compile all of the bundle from source, which costs more than the
 * ESM path's few chunks, so a bundle without a cache for this Node is not used at all.
 */
export function cacheFileFor(bundleFile: string): string {
  return bundleFile.replace(/\.cjs$/, `.${process.version}-${process.arch}.cache`);
}

/**
 * Whether V8 will take `cache`: made by this V8 under the same V8 flags. V8 refuses a cache made
 * under other flags (`NODE_OPTIONS=--max-old-space-size=…` is one) and then compiles all of the
 * bundle from source: ~90 ms more CPU than with the cache, more than the ESM path costs. The
 * answer comes from the header of a cache made now for a tiny script: V8's SerializedCodeData
 * header starts with a magic number, the version hash, the source hash and the flag hash, 4 bytes
 * each (V8 11.3, Node 20). A different layout in another V8 reads as "does not fit": the ESM path,
 * never a wrong result (test/bundle.test.ts checks that the shipped caches fit).
 */
export function cacheFits(cache: Buffer): boolean {
  const now = new Script('0').createCachedData();
  return (
    cache.length >= 16 &&
    now.length >= 16 &&
    cache.compare(now, 0, 8, 0, 8) === 0 && // magic number, V8 version
    cache.compare(now, 12, 16, 12, 16) === 0 // V8 flags
  );
}

/**
 * Runs this command line from its short-run bundle, if it has one with a cache that fits.
 * @param binUrl `import.meta.url` of the binary (dist/bin/certvigil.js; the bundles are in short/)
 * @returns whether it did (else the caller loads the ESM program)
 */
export function runFromCodeCache(argv: readonly string[], binUrl: string): boolean {
  const name = shortBundleName(argv);
  if (name === undefined || process.env.CERTVIGIL_CODE_CACHE === 'off') return false;
  const file = join(dirname(fileURLToPath(binUrl)), 'short', `${name}.cjs`);
  let source: string;
  let cache: Buffer;
  try {
    source = readBundle(file);
    cache = readFileSync(cacheFileFor(file));
  } catch {
    // None built for it, or for this Node (tsc's unbundled dist/cli, a copy without short/, a
    // Node upgraded since the build).
    return false;
  }
  if (!cacheFits(cache)) return false;
  runBundle(file, source, cache);
  return true;
}
