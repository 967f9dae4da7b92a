/**
 * @module cli/commands/certs
 * `certvigil certs list|show|authorize` — what the monitor found, whether it is ours, and why not.
 * `inventory scan` and `notify test` live here too: small commands over the same state.
 */
import type { Command } from 'commander';
import { CertvigilError } from '../../errors.js';
import { scanInventory } from '../../inventory/index.js';
import { classify } from '../../monitor/classify.js';
import type { Classification, KnownIndex } from '../../monitor/classify.js';
import { historyFor, loadKnownIndex } from '../../monitor/known.js';
import { recordInventory } from '../../monitor/monitor.js';
import { deliverAll } from '../../notify/index.js';
import type { MonitorEvent, Reason } from '../../notify/types.js';
import { sanitizeDeep, sanitizeText } from '../../sanitize.js';
import type { Issuance, Store } from '../../store/types.js';
import { writeLine } from '../flags.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import {
  addStateOptions,
  loadConfig,
  notifiersFor,
  requireReadableInventory,
  withStore,
} from '../monitor-setup.js';
import type { MonitorFlags } from '../monitor-setup.js';
import { makeStyle } from '../style.js';

interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}

interface IssuanceView {
  tbsSha256: string;
  dnsNames: string[];
  issuer: string;
  notBefore: string;
  notAfter: string;
  known: boolean;
  knownBy: string | null;
  severity: string;
  reasons: Reason[];
  entries: { log: string; index: number; type: string; timestamp: number }[];
  certSha256s: string[];
  serial: string;
  spkiSha256: string;
  keyType: string;
  ipAddresses: string[];
  firstSeen: string;
}

/** Reasons are recomputed against today's inventory; the CAA verdict comes from the alert (DNS is not re-asked). */
async function view(
  store: Store,
  i: Issuance,
  known: KnownIndex,
  alerted: Map<string, MonitorEvent>,
  logUrls: Map<string, string>,
): Promise<IssuanceView> {
  const c: Classification = classify(i, known, await historyFor(store, i.dnsNames, known));
  const fromAlert = alerted.get(i.tbsSha256);
  const caaReasons =
    fromAlert?.type === 'issuance' ? fromAlert.reasons.filter((r) => r.code === 'caa-disallowed') : [];
  const reasons = c.known
    ? []
    : [...c.reasons, ...caaReasons.filter((r) => !c.reasons.some((x) => x.code === r.code))];
  const severity = c.known
    ? 'info'
    : reasons.some((r) => r.severity === 'critical')
      ? 'critical'
      : c.severity;
  return {
    tbsSha256: i.tbsSha256,
    dnsNames: i.dnsNames,
    issuer: i.issuer,
    notBefore: i.notBefore,
    notAfter: i.notAfter,
    known: c.known,
    knownBy: c.knownBy,
    severity,
    reasons,
    entries: i.entries.map((e) => ({
      log: logUrls.get(e.logId) ?? e.logId,
      index: e.index,
      type: e.type,
      timestamp: e.timestamp,
    })),
    certSha256s: i.certSha256s,
    serial: i.serial,
    spkiSha256: i.spkiSha256,
    keyType: i.keyType,
    ipAddresses: i.ipAddresses,
    firstSeen: i.firstSeen,
  };
}

async function views(store: Store, issuances: Issuance[]): Promise<IssuanceView[]> {
  const known = await loadKnownIndex(store);
  const alerted = new Map<string, MonitorEvent>();
  for (const a of await store.listAlerts()) {
    const e = a.payload as MonitorEvent;
    if (e.type === 'issuance') alerted.set(e.issuance.tbsSha256, e);
  }
  const logUrls = new Map((await store.listCursors()).map((c) => [c.logId, c.url]));
  return Promise.all(issuances.map((i) => view(store, i, known, alerted, logUrls)));
}

function human(v: IssuanceView): string {
  const style = makeStyle(process.stdout);
  const label = v.known
    ? style.green('KNOWN  ')
    : v.severity === 'critical'
      ? style.red('UNKNOWN')
      : style.yellow('UNKNOWN');
  const why = v.known ? `(${v.knownBy})` : v.reasons.map((r) => r.code).join(', ');
  return `${label} ${v.tbsSha256.slice(0, 16)} ${v.dnsNames.join(',')} issuer="${v.issuer}" ${v.notBefore.slice(0, 10)}..${v.notAfter.slice(0, 10)} ${why}`;
}

function checkHash(hash: string): string {
  const h = hash.toLowerCase();
  if (!/^[0-9a-f]{8,64}$/.test(h))
    throw new CertvigilError('USAGE', `not a SHA-256 hash (hex, at least 8 digits): ${hash}`);
  return h;
}

export function registerCerts(program: Command, ctx: Ctx): void {
  const certs = program.command('certs').description('certificates the monitor found for your names');

  addStateOptions(
    certs.command('list').summary('every issuance found, known or not, with the reasons it looks wrong'),
  )
    .option('--unknown', 'only issuances that are not ours')
    .option('--json', 'one JSON object per issuance, one per line')
    .action(async (flags: MonitorFlags & { unknown?: boolean }) => {
      await withStore(flags, async (store) => {
        const all = await views(store, await store.listIssuances());
        for (const v of all.filter((x) => !flags.unknown || !x.known))
          await writeLine(flags.json ? JSON.stringify(v) : human(v));
      });
      ctx.setExit(EXIT.OK);
    });

  addStateOptions(
    certs
      .command('show')
      .summary('one issuance in full')
      .argument('<hash>', 'TBS or certificate SHA-256 (a unique prefix will do)'),
  )
    .option('--json', 'machine-readable output')
    .action(async (hash: string, flags: MonitorFlags) => {
      await withStore(flags, async (store) => {
        const found = await store.findIssuances(checkHash(hash));
        if (found.length === 0) throw new CertvigilError('USAGE', `no issuance matches ${hash}`);
        if (found.length > 1)
          throw new CertvigilError(
            'USAGE',
            `${hash} is ambiguous (${found.length} issuances): give more digits`,
          );
        const [v] = await views(store, found);
        if (!v) return;
        if (flags.json) await writeLine(JSON.stringify(v));
        else {
          await writeLine(human(v));
          for (const r of v.reasons) await writeLine(`  ${r.severity}: ${r.code}: ${r.message}`);
          for (const e of v.entries)
            await writeLine(
              `  logged: ${e.log} #${e.index} (${e.type}, ${new Date(e.timestamp).toISOString()})`,
            );
          await writeLine(
            `  serial ${v.serial}, key ${v.keyType} spki ${v.spkiSha256}, certificates ${v.certSha256s.join(', ')}`,
          );
        }
      });
      ctx.setExit(EXIT.OK);
    });

  addStateOptions(
    certs
      .command('authorize')
      .summary('mark a certificate (TBS/certificate SHA-256) or a key (SPKI SHA-256) as ours')
      .argument('<hash>', 'a full SHA-256 (64 hex digits), or a unique prefix of a found issuance'),
  )
    .option('--note <text>', 'why (kept with the authorisation)')
    .action(async (hash: string, flags: MonitorFlags & { note?: string }) => {
      await withStore(flags, async (store) => {
        let full = checkHash(hash);
        if (full.length < 64) {
          const found = await store.findIssuances(full);
          if (found.length !== 1 || !found[0])
            throw new CertvigilError(
              'USAGE',
              `${hash} does not name exactly one issuance: give all 64 digits`,
            );
          full = found[0].tbsSha256;
        }
        await store.authorize(full, flags.note ?? null);
        await writeLine(`authorized ${full}`);
      });
      ctx.setExit(EXIT.OK);
    });

  const inventory = program.command('inventory').description('certificates your own ACME clients obtained');
  addStateOptions(inventory.command('scan').summary('read ACME client storage into the inventory'))
    .option(
      '--inventory <dir>',
      'certbot/dehydrated/acme.sh/lego/Caddy/Traefik storage or PEM folders (repeatable)',
      (v: string, p: string[] = []) => [...p, v],
    )
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nWhy a file or certificate was not taken is logged with --log-level debug.\n' +
        'Exit status: 0 every file read, 1 some files could not be read or parsed (listed on stderr),\n' +
        '2 usage error: no inventory given, or an inventory path that is missing or unreadable (nothing is stored).',
    )
    .action(async (flags: MonitorFlags) => {
      const config = await loadConfig(flags);
      if (config.inventory.length === 0)
        throw new CertvigilError('USAGE', 'give --inventory DIR (or `inventory:` in the config)');
      // A missing path is not an empty inventory: refuse it before the store is opened.
      await requireReadableInventory(config);
      const scan = await scanInventory(config.inventory, {
        onSkip: (path, reason) =>
          ctx.logger.debug({ path: sanitizeText(path) }, `inventory: skipped: ${sanitizeText(reason)}`),
      });
      await withStore(flags, (store) => recordInventory(store, scan));
      if (flags.json) await writeLine(JSON.stringify(sanitizeDeep(scan)));
      else {
        for (const c of scan.certificates)
          await writeLine(
            sanitizeText(
              `${c.source} ${c.path} ${c.dnsNames.join(',')} ${c.notBefore.slice(0, 10)}..${c.notAfter.slice(0, 10)}`,
            ),
          );
        for (const e of scan.errors)
          process.stderr.write(`unreadable: ${sanitizeText(`${e.path}: ${e.error}`)}\n`);
        await writeLine(
          sanitizeText(
            `${scan.certificates.length} certificates; managed names: ${scan.managedNames.join(', ') || 'none'}`,
          ),
        );
      }
      ctx.setExit(scan.errors.length > 0 ? EXIT.FINDING : EXIT.OK);
    });

  const notify = program.command('notify').description('alert sinks');
  addStateOptions(notify.command('test').summary('send a test alert through every configured sink'))
    .addHelpText(
      'after',
      '\nExit status: 0 every sink accepted the test alert, 2 a sink failed (named on stderr) or usage error\n' +
        '(bad config file).',
    )
    .action(async (flags: MonitorFlags) => {
      const config = await loadConfig(flags);
      const event: MonitorEvent = {
        type: 'test',
        severity: 'info',
        message: 'certvigil test alert: if you read this, alerts reach you.',
      };
      const results = await deliverAll(notifiersFor(config), event);
      for (const r of results)
        process.stderr.write(
          `${r.name}: ${r.ok ? 'ok' : `FAILED ${sanitizeText(r.error.message, { maxLength: 500 })}`}\n`,
        );
      ctx.setExit(results.every((r) => r.ok) ? EXIT.OK : EXIT.ERROR);
    });
}
