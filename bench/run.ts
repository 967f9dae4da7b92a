/**
 * `npm run bench`: runs every benchmark and prints one table each, headed by the machine it ran on.
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { benchCaa, formatRows } from './caa.js';

function version(cmd: string, args: string[]): string {
  try {
    return (
      execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
        .split('\n')[0]
        ?.trim() ?? '?'
    );
  } catch (err) {
    const out = (err as { stdout?: string }).stdout ?? '';
    return out.split('\n')[0]?.trim() || 'unavailable';
  }
}

const cpus = os.cpus();
console.log('# certvigil benchmarks');
console.log(
  `machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
    `${os.type()} ${os.release()}, node ${process.version}`,
);
console.log(`resolver: ${version('unbound', ['-V'])}; authoritative: ${version('knotd', ['--version'])}`);
console.log('\n## CAA engine against local Unbound (warm cache)\n');
console.log(formatRows(await benchCaa()));
