/**
 * @module cli/commands/certs
 * `certvigil certs list|show|authorize|unauthorize` — what the monitor found, whether it is ours,
 * and why not. `list` and `show` only read: they open the state read-only and create nothing.
 */
import type { Command } from 'commander';
import { CertvigilError } from '../../errors.js';
import { issuanceViews } from '../../monitor/index.js';
import type { IssuanceView } from '../../monitor/index.js';
import { sanitizeText } from '../../sanitize.js';
import type { Issuance, Store } from '../../store/index.js';
import { writeLine } from '../flags.js';
import { jsonLine } from '../json-line.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import { addStateOptions, withStore } from '../monitor-setup.js';
import type { MonitorFlags } from '../monitor-setup.js';
import { makeStyle } from '../style.js';

interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}

function human(v: IssuanceView): string {
  const style = makeStyle(process.stdout);
  const label = v.known
    ? style.green('KNOWN  ')
    : v.severity === 'critical'
      ? style.red('UNKNOWN')
      : style.yellow('UNKNOWN');
  const why = v.known ? `(${v.knownBy})` : v.reasons.map((r) => r.code).join(', ');
  const notes = v.authorizations
    .filter((a) => a.note !== null)
    .map((a) => ` note=${JSON.stringify(a.note)}`)
    .join('');
  // Names, issuer and notes are outside text (the certificate's, the operator's): made safe.
  return `${label} ${safe(`${v.tbsSha256.slice(0, 16)} ${v.dnsNames.join(',')} issuer="${v.issuer}" ${v.notBefore.slice(0, 10)}..${v.notAfter.slice(0, 10)} ${why}${notes}`)}`;
}

const safe = (text: string): string => sanitizeText(text, { maxLength: 2000 });

function checkHash(hash: string): string {
  const h = hash.toLowerCase();
  if (!/^[0-9a-f]{8,64}$/.test(h))
    throw new CertvigilError(
      'USAGE',
      `not a SHA-256 hash (hex, at least 8 digits): ${sanitizeText(JSON.stringify(hash), { maxLength: 80 })}`,
    );
  return h;
}

/** What a full hash names in the state, for `certs authorize` to say (or to say it names nothing). */
async function describeMatch(store: Store, hash: string): Promise<string | null> {
  const found = await store.findIssuances(hash);
  const names = (i: Issuance): string => safe(i.dnsNames.slice(0, 5).join(',') || '(no names)');
  const [one] = found;
  if (one) return `the ${one.tbsSha256 === hash ? 'issuance' : 'certificate'} for ${names(one)}`;
  const byKey = (await store.listIssuances()).filter((i) => i.spkiSha256 === hash);
  if (byKey.length > 0)
    return `the key of ${byKey.length} issuance${byKey.length === 1 ? '' : 's'} (${byKey.map(names).join('; ')})`;
  const inventory = (await store.listInventory()).find(
    (r) => r.certSha256 === hash || r.tbsSha256 === hash || r.spkiSha256 === hash,
  );
  if (inventory) return `an inventory certificate for ${safe(inventory.dnsNames.join(','))}`;
  return null;
}

const READ_EXIT =
  '\nExit status: 0 printed, 2 no certvigil state at the state directory or database (run `certvigil monitor`\n' +
  'first; nothing is created), an unsafe state directory, or a usage error.';

export function registerCerts(program: Command, ctx: Ctx): void {
  const certs = program.command('certs').description('certificates the monitor found for your names');

  addStateOptions(
    certs.command('list').summary('every issuance found, known or not, with the reasons it looks wrong'),
  )
    .option('--unknown', 'only issuances that are not ours')
    .option('--json', 'one JSON object per issuance, one per line')
    .addHelpText('after', READ_EXIT)
    .action(async (flags: MonitorFlags & { unknown?: boolean; json?: boolean }) => {
      await withStore(
        flags,
        async (store) => {
          const all = await issuanceViews(store, await store.listIssuances());
          for (const v of all.filter((x) => !flags.unknown || !x.known))
            await writeLine(flags.json ? jsonLine(v) : human(v));
        },
        { readOnly: true },
      );
      ctx.setExit(EXIT.OK);
    });

  addStateOptions(
    certs
      .command('show')
      .summary('one issuance in full')
      .argument('<hash>', 'TBS or certificate SHA-256 (a unique prefix will do)'),
  )
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      READ_EXIT.replace('2 no certvigil', '2 no issuance or several match HASH, no certvigil'),
    )
    .action(async (hash: string, flags: MonitorFlags & { json?: boolean }) => {
      const wanted = checkHash(hash);
      await withStore(
        flags,
        async (store) => {
          const found = await store.findIssuances(wanted);
          if (found.length === 0) throw new CertvigilError('USAGE', `no issuance matches ${wanted}`);
          if (found.length > 1)
            throw new CertvigilError(
              'USAGE',
              `${wanted} is ambiguous (${found.length} issuances): give more digits`,
            );
          const [v] = await issuanceViews(store, found);
          if (!v) return;
          if (flags.json) await writeLine(jsonLine(v));
          else {
            await writeLine(human(v));
            for (const r of v.reasons) await writeLine(safe(`  ${r.severity}: ${r.code}: ${r.message}`));
            for (const a of v.authorizations)
              await writeLine(
                safe(
                  `  authorized by ${a.matches} hash ${a.hash} on ${a.createdAt}${a.note === null ? '' : `: ${a.note}`}`,
                ),
              );
            for (const e of v.entries)
              await writeLine(
                safe(`  logged: ${e.log} #${e.index} (${e.type}, ${new Date(e.timestamp).toISOString()})`),
              );
            await writeLine(
              safe(
                `  serial ${v.serial}, key ${v.keyType} spki ${v.spkiSha256}, certificates ${v.certSha256s.join(', ')}`,
              ),
            );
          }
        },
        { readOnly: true },
      );
      ctx.setExit(EXIT.OK);
    });

  addStateOptions(
    certs
      .command('authorize')
      .summary('mark a certificate (TBS/certificate SHA-256) or a key (SPKI SHA-256) as ours')
      .description(
        'Mark a certificate (its TBS or certificate SHA-256) or a key (its SPKI SHA-256) as ours: matching\n' +
          'issuances count as known, now and when found later. A prefix (8+ digits) must name exactly one found\n' +
          'issuance. A full hash that matches nothing seen yet is still recorded, on purpose (authorising a new\n' +
          'key, or a certificate about to be issued, before it is logged), and the output says it matched nothing.',
      )
      .argument('<hash>', 'a full SHA-256 (64 hex digits), or a unique prefix of a found issuance'),
  )
    .option('--note <text>', 'why (kept with the authorisation, shown by certs list and certs show)')
    .addHelpText(
      'after',
      '\nExit status: 0 authorised (the output says what it matched, or that it matched nothing yet), 2 a prefix\n' +
        'that names no issuance or several, an unsafe state directory, or a usage error.',
    )
    .action(async (hash: string, flags: MonitorFlags & { note?: string }) => {
      let full = checkHash(hash);
      const note = flags.note === undefined ? null : flags.note;
      if (note !== null && (note.length > 1000 || note.trim() === ''))
        throw new CertvigilError('USAGE', '--note must be 1 to 1000 characters');
      await withStore(flags, async (store) => {
        if (full.length < 64) {
          const found = await store.findIssuances(full);
          if (found.length === 0)
            throw new CertvigilError(
              'USAGE',
              `no issuance matches ${full}: give all 64 digits to authorise a certificate or key not seen yet`,
            );
          if (found.length > 1 || !found[0])
            throw new CertvigilError(
              'USAGE',
              `${full} is ambiguous (${found.length} issuances): give more digits`,
            );
          full = found[0].tbsSha256;
        }
        const what = await describeMatch(store, full);
        await store.authorize(full, note);
        await writeLine(
          what === null
            ? `authorized ${full}: it matches no certificate or key seen so far; issuances found later with this TBS, certificate or key hash will count as known`
            : `authorized ${full}: ${what}`,
        );
      });
      ctx.setExit(EXIT.OK);
    });

  addStateOptions(
    certs
      .command('unauthorize')
      .summary('withdraw a `certs authorize` (its full hash, or a unique prefix of it)')
      .argument('<hash>', 'the authorised SHA-256, or a unique prefix (8+ digits)'),
  )
    .addHelpText(
      'after',
      '\nExit status: 0 withdrawn, 2 no authorisation or several match HASH, no certvigil state (nothing is\n' +
        'created), an unsafe state directory, or a usage error.',
    )
    .action(async (hash: string, flags: MonitorFlags) => {
      const prefix = checkHash(hash);
      await withStore(
        flags,
        async (store) => {
          const matching = (await store.listAuthorizations()).filter((a) =>
            a.hash.toLowerCase().startsWith(prefix),
          );
          const [one] = matching;
          if (!one) throw new CertvigilError('USAGE', `no authorization matches ${prefix}`);
          if (matching.length > 1)
            throw new CertvigilError(
              'USAGE',
              `${prefix} is ambiguous (${matching.length} authorizations): give more digits`,
            );
          await store.unauthorize(one.hash);
          await writeLine(
            safe(`unauthorized ${one.hash}${one.note === null ? '' : ` (note was: ${one.note})`}`),
          );
        },
        { readOnly: false, mustExist: true },
      );
      ctx.setExit(EXIT.OK);
    });
}
