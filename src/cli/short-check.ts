/**
 * @module cli/short-check
 * The entry of the code-cached bundle of `check endpoint` and `check endpoints` (cli/code-cache):
 * the program with the `check` command alone, as cli/main would load it for these command lines.
 */
import { startCli } from './program.js';

startCli([[['check'], async () => (await import('./commands/check.js')).registerCheck]]);
