/**
 * @module cli/short-jarm
 * The entry of the code-cached bundle of `jarm` (cli/code-cache): the program with the `jarm`
 * command alone, as cli/main would load it for this command line.
 */
import { startCli } from './program.js';

startCli([[['jarm'], async () => (await import('./commands/jarm.js')).registerJarm]]);
