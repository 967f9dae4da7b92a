#!/usr/bin/env node
/**
 * @module cli/bin
 * The entry of the shipped binary (scripts/bundle.mjs makes it dist/bin/certvigil.js): a short run
 * (`check endpoint`, `check endpoints`, `jarm`) starts from its code-cached bundle in
 * dist/bin/short/ (cli/code-cache), every other command from the ESM program (cli/main). Here,
 * `import.meta.url` is the binary's own: this file is only ever the bundle's entry (tsc's
 * dist/cli/bin.js finds no short/ beside it and takes the ESM path).
 */
import { runFromCodeCache } from './code-cache.js';

if (!runFromCodeCache(process.argv, import.meta.url)) await import('./main.js');
