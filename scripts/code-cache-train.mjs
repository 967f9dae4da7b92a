// @ts-check
/**
 * Training run of a short run's bundle (scripts/bundle.mjs, src/cli/code-cache.ts):
 * `node scripts/code-cache-train.mjs dist/bin/short/NAME.cjs ARGS...` runs the bundle on ARGS as
 * the binary would, and as the process exits writes what V8 compiled meanwhile (`cacheFileFor`). Run
 * at build time only; the binary itself never writes a cache.
 */
import { writeFileSync } from 'node:fs';
import { cacheFileFor, readBundle, runBundle } from '../dist/cli/code-cache.js';

const [file, ...args] = process.argv.slice(2);
if (file === undefined || !file.endsWith('.cjs'))
  throw new Error('usage: code-cache-train.mjs FILE.cjs ARGS...');
process.argv = [process.argv[0] ?? 'node', file, ...args];
/** @type {import('node:vm').Script | undefined} */
let script;
// The short runs end with process.exit once their output is flushed: 'exit' still runs.
process.on('exit', () => {
  if (script) writeFileSync(cacheFileFor(file), script.createCachedData());
});
script = runBundle(file, readBundle(file), undefined);
