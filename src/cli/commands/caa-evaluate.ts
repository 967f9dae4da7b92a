/**
 * @module cli/commands/caa-evaluate
 * `certvigil caa evaluate --zone FILE NAME... --ca ISSUER [--account-uri URI] [--method M] [--json]`:
 * `caa check` offline, over the records of a zone file. Same output and exit codes as `caa check`.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import {
  evaluateCaaMany,
  parseIdentifier,
  parseZone,
  ZoneParseError,
  ZoneResolver,
} from '../../caa/index.js';
import type { ZoneRecord } from '../../caa/index.js';
import { CertvigilError } from '../../errors.js';
import { isSafeText, sanitizeText } from '../../sanitize.js';
import { parseNames, shown } from '../caa-options.js';
import { jsonLine } from '../json-line.js';
import type { ExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import { collect } from '../flags.js';
import { CHECK_EXIT_HELP, caaRequestFromFlags, exitCodeFor, formatHuman } from './caa-check.js';

/** A zone file is text of sensible size: refuse what cannot be one before parsing it. */
const MAX_ZONE_BYTES = 16 << 20;

/**
 * Reads `--zone FILE` for `caa evaluate`: missing, unreadable, a directory, binary content, too
 * large or without any record is a usage error. An empty file must not evaluate to "no CAA records,
 * any CA may issue".
 */
export async function readZoneFile(path: string, origin: string | undefined): Promise<ZoneRecord[]> {
  const name = shown(path);
  let size: number;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new CertvigilError('USAGE', `--zone ${name} is a directory, not a zone file`);
    if (!st.isFile()) throw new CertvigilError('USAGE', `--zone ${name} is not a regular file`);
    size = st.size;
  } catch (err) {
    if (err instanceof CertvigilError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new CertvigilError(
      'USAGE',
      `cannot read zone file ${name}: ${code === 'ENOENT' ? 'no such file' : (code ?? 'error')}`,
    );
  }
  if (size > MAX_ZONE_BYTES)
    throw new CertvigilError('USAGE', `zone file ${name} is larger than ${MAX_ZONE_BYTES >> 20} MiB`);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new CertvigilError(
      'USAGE',
      `cannot read zone file ${name}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  let text: string;
  try {
    if (bytes.includes(0)) throw new Error('NUL byte');
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CertvigilError('USAGE', `zone file ${name} is not text (binary or not UTF-8)`);
  }
  let records: ZoneRecord[];
  try {
    records = parseZone(text, { origin });
  } catch (err) {
    if (err instanceof ZoneParseError)
      throw new CertvigilError(
        'USAGE',
        `zone file ${name}: ${sanitizeText(err.message, { maxLength: 200 })}`,
      );
    throw err;
  }
  if (records.length === 0)
    throw new CertvigilError(
      'USAGE',
      `zone file ${name} has no records (an empty zone would allow every CA)`,
    );
  return records;
}

/**
 * The zones a file speaks for: the owners of its SOA records, else `--origin`. A name outside them
 * would come back NXDOMAIN at every level and read as "no CAA, any CA may issue" — a typo in a name
 * must not look like an answer. Null when the file says neither.
 */
export function zoneApexes(records: readonly ZoneRecord[], origin: string | undefined): string[] | null {
  const soa = [...new Set(records.filter((r) => r.type === 'SOA').map((r) => r.name))];
  if (soa.length > 0) return soa;
  const o = origin?.toLowerCase().replace(/\.$/, '');
  return o ? [o] : null;
}

export function registerCaaEvaluate(
  caa: Command,
  ctx: { logger: Logger; setExit(code: ExitCode): void },
): void {
  caa
    .command('evaluate')
    .summary('decide CAA offline, over the records of a zone file')
    .description(
      'Like "caa check", but the records come from a BIND-style zone file (CAA, CNAME, DNAME; $ORIGIN, $TTL,\n' +
        'RFC 3597 generic CAA) served by an in-memory resolver: names absent from the file are NXDOMAIN.\n' +
        "Every NAME must lie inside the file's zone (its SOA owner, or --origin): a name outside it would\n" +
        'read as "no CAA". A missing, empty, binary or unparsable file is a usage error.',
    )
    .addHelpText('after', CHECK_EXIT_HELP)
    .argument('<names...>', 'domain names to check')
    .requiredOption('--zone <file>', 'zone file with the CAA records')
    .option('--origin <name>', 'initial $ORIGIN for the zone file')
    .requiredOption('--ca <issuer-domain>', "the CA's issuer domain name (repeatable)", collect)
    .option('--account-uri <uri>', 'ACME account URL making the request')
    .option('--method <method>', 'ACME validation method used')
    .option('--json', 'print one JSON object per name, one per line')
    .action(
      async (
        names: string[],
        flags: {
          zone: string;
          origin?: string;
          ca?: string[];
          accountUri?: string;
          method?: string;
          json?: boolean;
        },
      ) => {
        parseNames(names, { allowWildcard: true });
        const request = caaRequestFromFlags(flags);
        let origin: string | undefined;
        if (flags.origin !== undefined) {
          const o = flags.origin.trim();
          if (
            o === '' ||
            !isSafeText(o) ||
            /\s/.test(o) ||
            o
              .replace(/\.$/, '')
              .split('.')
              .some((l) => l === '' || l.length > 63)
          )
            throw new CertvigilError('USAGE', `--origin must be a domain name (got ${shown(flags.origin)})`);
          origin = o;
        }
        const records = await readZoneFile(flags.zone, origin);
        const apexes = zoneApexes(records, origin);
        if (apexes !== null) {
          for (const name of names) {
            const id = parseIdentifier(name);
            const n = id.ok ? id.lookupName : name;
            if (!apexes.some((a) => n === a || n.endsWith(`.${a}`)))
              throw new CertvigilError(
                'USAGE',
                `${shown(name)} is outside the zone in ${shown(flags.zone)} (${apexes.join(', ')}): it would read as "no CAA"`,
              );
          }
        }
        const results = await evaluateCaaMany(names, request, new ZoneResolver(records));
        for (const r of results)
          process.stdout.write(flags.json ? `${jsonLine(r)}\n` : `${formatHuman(r)}\n`);
        ctx.setExit(exitCodeFor(results));
      },
    );
}
