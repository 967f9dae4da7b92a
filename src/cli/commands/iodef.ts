/**
 * @module cli/commands/iodef
 * CAA iodef (RFC 8659 §4.4), both ends:
 * - `certvigil iodef build NAME --ca ISSUER [--account-uri URI] [--method M] [--resolver HOST:PORT]`:
 *   evaluates CAA as the CA would and, when it denies and names an iodef target, prints the IODEF v2
 *   document that would be sent (exit 0); otherwise says why no report is due (exit 1); a CAA
 *   lookup that failed or bad input is exit 2 (a failed lookup is not "nothing to report").
 *
 * Every flag is checked before anything is opened or created (exit 2, one line): host:port pairs,
 * durations (cli/flags `parseDuration`), bounded numbers, domain names, URLs, and files that are
 * missing, empty, directories, binary or not PEM. Everything from outside (DNS, documents, peers)
 * goes through `sanitizeText` before it reaches stdout, stderr or a log line.
 * - `certvigil iodef send NAME --ca ISSUER …`: the CA-side reporter for testing and small CAs —
 *   enqueue into the durable outbox (dedup, rate limits, opt-out, anti-spam rule), then deliver.
 * - `certvigil iodef serve --listen HOST:PORT --state-dir DIR [--tls-cert F --tls-key F]`: the
 *   owner-side receiver (RFC 6546 HTTPS, optional SMTP intake), storing and alerting.
 * - `certvigil iodef list --state-dir DIR [--json]`: what arrived, one line (or object) per report.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { evaluateCaa } from '../../caa/index.js';
import type { CaaResult } from '../../caa/index.js';
import { CertvigilError } from '../../errors.js';
import {
  buildIodefDocument,
  checkTlsMaterial,
  decideReports,
  drainOutbox,
  formatReportLine,
  reportDenial,
  reporterPolicy,
  startHttpReceiver,
  startSmtpReceiver,
} from '../../iodef/index.js';
import type { IodefSummary, PreventedIssuance } from '../../iodef/index.js';
import { sanitizeDeep, sanitizeText } from '../../sanitize.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import { collect, positiveInt, writeLine } from '../flags.js';
import { isHostName, parseListen, readInputFile, textArg } from './iodef-flags.js';
import type { Logger } from '../logger.js';
import {
  addStateOptions,
  loadConfig,
  notifiersFor,
  openConfiguredStore,
  withStore,
} from '../monitor-setup.js';
import type { MonitorFlags } from '../monitor-setup.js';
import { hostResolverVia, parseResolverLimits, resolverFromFlags } from '../resolver-options.js';
import { parseAccountUri, parseIssuerDomains, parseNames, parseValidationMethod } from '../caa-options.js';
import type { ResolverFlags } from '../resolver-options.js';

interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}

/** `--timeout` and `--attempts` checked up front (the same bounds as `caa check`), before any I/O. */
function resolverFlagsChecked(flags: ResolverFlags): ResolverFlags {
  parseResolverLimits(flags);
  return flags;
}

/**
 * Checks the build/send flags shared by both commands, with the same validators as `caa check`
 * (one definition of an issuer domain, an ACME method and an account URI); returns the issuers.
 */
function checkBuildFlags(name: string, flags: BuildFlags): string[] {
  parseNames([name], { allowWildcard: true });
  const issuers = parseIssuerDomains(flags.ca.flatMap((c) => c.split(',')).map((c) => c.trim()));
  if (flags.accountUri !== undefined) parseAccountUri(flags.accountUri);
  if (flags.method !== undefined) parseValidationMethod(flags.method);
  if (flags.caName !== undefined) textArg(flags.caName, '--ca-name', 200);
  return issuers;
}

interface BuildFlags extends ResolverFlags {
  ca: string[];
  accountUri?: string;
  method?: string;
  validationSucceeded?: boolean;
  includeAccountUri?: boolean;
  caName?: string;
}

/** The iodef URLs of the relevant record set (RFC 8659 §4.4), as published. */
function iodefValues(result: CaaResult): string[] {
  return result.records.filter((r) => r.tag.toLowerCase() === 'iodef').map((r) => r.value);
}

function addBuildOptions(cmd: Command): Command {
  return cmd
    .argument('<name>', 'the domain name the CA was asked to issue for')
    .requiredOption(
      '--ca <issuer-domain>',
      "the CA's issuer domain name (repeatable), e.g. letsencrypt.org",
      collect,
    )
    .option('--ca-name <name>', 'the CA’s name in the report (default: the first --ca)')
    .option('--account-uri <uri>', 'ACME account URL of the request (RFC 8657)')
    .option('--method <method>', 'ACME validation method used, e.g. http-01, dns-01')
    .option('--validation-succeeded', 'domain validation had already succeeded (the high-risk case)')
    .option('--include-account-uri', 'put the account URI into the report (the CA’s policy allows it)')
    .option(
      '--resolver <host:port>',
      'recursive resolver to ask (repeatable; default: /etc/resolv.conf); `send` resolves https: iodef hosts there too',
      collect,
    )
    .option('--timeout <duration>', 'per-query timeout (500ms, 3s; a bare number is milliseconds)', '3000')
    .option('--attempts <n>', 'rounds over the resolver list before giving up (1-10)', '2');
}

async function evaluate(name: string, flags: BuildFlags, issuerDomains: string[]): Promise<CaaResult> {
  const resolver = await resolverFromFlags(resolverFlagsChecked(flags));
  return evaluateCaa(
    { name, issuerDomains, accountUri: flags.accountUri ?? null, validationMethod: flags.method ?? null },
    resolver,
  );
}

function preventedIssuance(result: CaaResult, flags: BuildFlags, now: Date): PreventedIssuance {
  const caDomain = flags.ca[0] ?? '';
  return {
    incidentId: randomUUID(),
    ca: { name: flags.caName ?? caDomain, domain: caDomain },
    requestedNames: [result.name],
    refused: [
      {
        name: result.name,
        reason: result.reason,
        explanation: result.explanation,
        foundAt: result.foundAt,
        aliasTarget: result.aliasTarget,
        records: result.records.map((r) => r.text),
        dnssec: result.dnssec,
      },
    ],
    validationMethod: flags.method ?? null,
    validationSucceeded: flags.validationSucceeded ?? false,
    accountUri: flags.includeAccountUri ? (flags.accountUri ?? null) : null,
    detectedAt: now.toISOString(),
    generatedAt: now.toISOString(),
  };
}

/**
 * Why no report is due for this result, with its exit status, or null when one is: 1 when CAA
 * allows or names no iodef target (a result), 2 when CAA could not be evaluated (a lookup error:
 * "nothing to report" would be a wrong answer, the CA must not issue and nobody was told).
 */
export function noReportReason(result: CaaResult): { exit: 1 | 2; why: string } | null {
  const name = sanitizeText(result.name, { maxLength: 253 });
  const reason = sanitizeText(result.reason, { maxLength: 80 });
  if (result.decision === 'allow')
    return {
      exit: 1,
      why: `CAA allows issuance for ${name} (${reason}): nothing was refused, no report is due`,
    };
  if (result.decision === 'error')
    return {
      exit: 2,
      why: `CAA for ${name} could not be evaluated (${reason}${result.explanation ? `: ${sanitizeText(result.explanation, { maxLength: 200 })}` : ''}): the CA must not issue; no record set to read iodef targets from`,
    };
  if (iodefValues(result).length === 0)
    return {
      exit: 1,
      why: `CAA denies ${name} (${reason}), but its record set${result.foundAt ? ` at ${sanitizeText(result.foundAt, { maxLength: 253 })}` : ''} names no iodef target: no report is due`,
    };
  return null;
}

const BUILD_EXIT =
  '\n\nExit status: 0 a report is due (the IODEF document on stdout), 1 no report is due (CAA allows, or\n' +
  'its record set names no iodef target; the reason on stderr), 2 a CAA lookup failed or bad input / usage error.';

export function registerIodef(program: Command, ctx: Ctx): void {
  const iodef = program
    .command('iodef')
    .description('CAA iodef (RFC 8659 §4.4): report refused issuance (CA side), receive reports (owner side)')
    .addHelpText(
      'after',
      '\nExit status: see each subcommand (`certvigil iodef build --help`, …); 2 for a usage error.',
    );

  addBuildOptions(
    iodef
      .command('build')
      .summary('evaluate CAA as a CA and print the IODEF v2 report that would be sent')
      .description(
        'Evaluate CAA for NAME as the CA named by --ca would. When CAA denies issuance and the relevant record set\n' +
          'has iodef targets, print the IODEF v2 document (RFC 7970) that would be sent to them.\n\n' +
          BUILD_EXIT.trimStart(),
      ),
  ).action(async (name: string, flags: BuildFlags) => {
    const issuers = checkBuildFlags(name, flags);
    const result = await evaluate(name, flags, issuers);
    const none = noReportReason(result);
    if (none !== null) {
      process.stderr.write(`certvigil: ${none.why}\n`);
      ctx.setExit(none.exit === 2 ? EXIT.ERROR : EXIT.FINDING);
      return;
    }
    process.stdout.write(buildIodefDocument(preventedIssuance(result, flags, new Date())));
    ctx.setExit(EXIT.OK);
  });

  addStateOptions(
    addBuildOptions(
      iodef
        .command('send')
        .summary('the CA-side reporter: enqueue the report of a refused issuance, then deliver it')
        .description(
          'Evaluate CAA for NAME as the CA named by --ca would and, when it denies, enqueue a report for every iodef\n' +
            'target in the durable outbox of the state (deduplicated per recipient, names and reason within a day,\n' +
            'rate-limited per recipient and per registered domain, mailto only within the name’s registered domain,\n' +
            'no private addresses for https unless --allow-private-addresses), then deliver what is due: mail via\n' +
            '--smtp, https by RFC 6546 POST. Prints one JSON line per target outcome and per delivery.\n\n' +
            'Exit status: 0 reports enqueued (and delivered, retried or given up: see the JSON lines) or already\n' +
            'sent, 1 no report is due (CAA allows, or names no iodef target), 2 a CAA lookup failed, bad input or a\n' +
            'usage error (e.g. a mailto: target without --smtp): nothing is enqueued or created then.',
        ),
    ),
  )
    .option('--smtp <host:port>', 'SMTP relay for mailto reports')
    .requiredOption('--from <address>', 'the CA’s reporting address (mail From, Message-ID domain)')
    .option('--https-ca-file <pem>', 'extra trust anchors for https iodef endpoints')
    .option('--allow-private-addresses', 'allow https targets on private or loopback addresses (labs, tests)')
    .option(
      '--only-after-validation',
      'report only when domain validation had succeeded (cheap, high-value mode)',
    )
    .option('--opt-out <recipient|domain>', 'never report to this recipient or domain (repeatable)', collect)
    .option('--no-deliver', 'only enqueue; a later `iodef send` (or the embedding CA) delivers')
    .action(
      async (
        name: string,
        flags: BuildFlags &
          MonitorFlags & {
            smtp?: string;
            from: string;
            httpsCaFile?: string;
            allowPrivateAddresses?: boolean;
            onlyAfterValidation?: boolean;
            optOut?: string[];
            deliver: boolean;
          },
      ) => {
        // Everything checked before the DNS lookup and before the state is opened or created.
        const issuers = checkBuildFlags(name, flags);
        if (
          !/^[^\s@<>"]{1,64}@[A-Za-z0-9.-]{1,253}$/.test(flags.from) ||
          !isHostName(flags.from.split('@')[1] ?? '')
        )
          throw new CertvigilError(
            'USAGE',
            `--from must be a mail address (got ${JSON.stringify(sanitizeText(flags.from, { maxLength: 80 }))})`,
          );
        const optOut = (flags.optOut ?? []).map((o) => textArg(o, '--opt-out', 320));
        const smtpAt = flags.smtp ? parseListen(flags.smtp, '--smtp') : null;
        const httpsCa = flags.httpsCaFile
          ? await readInputFile(flags.httpsCaFile, '--https-ca-file', { pem: true })
          : undefined;
        const result = await evaluate(name, flags, issuers);
        const resolveHosts =
          flags.resolver && flags.resolver.length > 0
            ? hostResolverVia(await resolverFromFlags(resolverFlagsChecked(flags)))
            : null;
        const none = noReportReason(result);
        if (none !== null) {
          process.stderr.write(`certvigil: ${none.why}\n`);
          ctx.setExit(none.exit === 2 ? EXIT.ERROR : EXIT.FINDING);
          return;
        }
        const policy = reporterPolicy({
          includeAccountUri: flags.includeAccountUri ?? false,
          onlyAfterValidation: flags.onlyAfterValidation ?? false,
          allowPrivateAddresses: flags.allowPrivateAddresses ?? false,
          optOut,
        });
        // A mailto: report could never leave without a relay: say so now, before anything is enqueued.
        const mailto = decideReports(
          result,
          { validationSucceeded: flags.validationSucceeded ?? false },
          policy,
        ).report.find((r) => r.target.channel === 'mailto');
        if (mailto !== undefined && smtpAt === null && flags.deliver)
          throw new CertvigilError(
            'USAGE',
            `the iodef target ${sanitizeText(mailto.target.recipient, { maxLength: 200 })} needs an SMTP relay: give --smtp HOST:PORT (or --no-deliver)`,
          );
        const caDomain = issuers[0] ?? '';
        await withStore(flags, async (store) => {
          const outcomes = await reportDenial(
            store,
            {
              result,
              requestedNames: [result.name],
              validationMethod: flags.method ?? null,
              validationSucceeded: flags.validationSucceeded ?? false,
              accountUri: flags.accountUri ?? null,
              ca: { name: flags.caName ?? caDomain, domain: caDomain },
            },
            policy,
          );
          // Target values come from the zone and errors from remote servers: sanitised before stdout.
          for (const o of outcomes) await writeLine(JSON.stringify(sanitizeDeep({ kind: 'enqueue', ...o })));
          if (!flags.deliver) return;
          const drained = await drainOutbox(store, {
            policy,
            from: flags.from,
            ...(smtpAt ? { smtp: { host: smtpAt.host, port: smtpAt.port, secure: false } } : {}),
            https: {
              ...(httpsCa ? { ca: httpsCa } : {}),
              // With --resolver, https: targets are resolved there too (the CA's own resolver).
              ...(resolveHosts ? { resolve: resolveHosts } : {}),
            },
          });
          for (const d of drained.deliveries)
            await writeLine(JSON.stringify(sanitizeDeep({ kind: 'delivery', ...d })));
        });
        ctx.setExit(EXIT.OK);
      },
    );

  addStateOptions(
    iodef
      .command('serve')
      .summary('receive iodef reports over HTTPS (RFC 6546) and optionally SMTP; store, deduplicate, alert')
      .description(
        'Listen for CAA iodef reports: POSTed IODEF documents (RFC 6546; plain HTTP only without --tls-cert, for use\n' +
          'behind a TLS-terminating proxy) and, with --smtp-listen, mail carrying them. Each report is parsed\n' +
          'safely, stored once per sender and document (a report under an IncidentID already seen with other\n' +
          'content is stored and alerted as a conflicting report) and alerted through the monitor’s sinks (--config\n' +
          '`alerts:`; JSON lines on stdout when none is configured). Per-client limits (IPv6 per /64), a daily cap,\n' +
          'and reports older than --keep-days are deleted. Runs until SIGINT/SIGTERM.\n\n' +
          'Exit status: 0 stopped by SIGINT/SIGTERM, 2 bad input or a usage error (a flag, an unreadable, empty,\n' +
          'binary or non-PEM file, a certificate and key that do not match), or it cannot listen or open its state.',
      ),
  )
    .requiredOption('--listen <host:port>', 'address and port of the HTTP(S) endpoint')
    .option('--path <path>', 'URL path reports are POSTed to', '/')
    .option('--tls-cert <file>', 'PEM certificate (chain) of the HTTPS endpoint')
    .option('--tls-key <file>', 'PEM private key of the HTTPS endpoint')
    .option('--client-ca <file>', 'require client certificates issued by these CAs (mutual TLS)')
    .option('--smtp-listen <host:port>', 'also accept reports by mail on this address')
    .option('--keep-days <n>', 'delete received reports older than this many days (1-3650)', '90')
    .option(
      '--max-reports-per-day <n>',
      'store at most this many reports per rolling day, all senders (1-1000000)',
      '1000',
    )
    .option(
      '--max-mib-per-day <n>',
      'store at most this many MiB of documents per rolling day (1-10240)',
      '64',
    )
    .action(
      async (
        flags: MonitorFlags & {
          listen: string;
          path: string;
          tlsCert?: string;
          tlsKey?: string;
          clientCa?: string;
          smtpListen?: string;
          keepDays: string;
          maxReportsPerDay: string;
          maxMibPerDay: string;
        },
      ) => {
        // Every flag and file is checked before the state is opened (or created).
        const listen = parseListen(flags.listen);
        const smtpAt = flags.smtpListen ? parseListen(flags.smtpListen, '--smtp-listen') : null;
        if (!/^\/[\x21-\x7e]{0,200}$/.test(flags.path))
          throw new CertvigilError(
            'USAGE',
            `--path must start with / and hold printable ASCII only (got ${JSON.stringify(sanitizeText(flags.path, { maxLength: 60 }))})`,
          );
        const keepDays = positiveInt(flags.keepDays, '--keep-days', 3650);
        const quota = {
          maxReportsPerDay: positiveInt(flags.maxReportsPerDay, '--max-reports-per-day', 1_000_000),
          maxBytesPerDay: positiveInt(flags.maxMibPerDay, '--max-mib-per-day', 10_240) * 1024 * 1024,
        };
        if (Boolean(flags.tlsCert) !== Boolean(flags.tlsKey))
          throw new CertvigilError('USAGE', '--tls-cert and --tls-key go together');
        if (flags.clientCa && !flags.tlsCert)
          throw new CertvigilError('USAGE', '--client-ca needs --tls-cert');
        const tls =
          flags.tlsCert && flags.tlsKey
            ? {
                cert: await readInputFile(flags.tlsCert, '--tls-cert', { pem: true }),
                key: await readInputFile(flags.tlsKey, '--tls-key', { pem: true }),
                ...(flags.clientCa
                  ? {
                      requestClientCert: true,
                      clientCa: await readInputFile(flags.clientCa, '--client-ca', { pem: true }),
                    }
                  : {}),
              }
            : undefined;
        if (tls !== undefined) {
          try {
            checkTlsMaterial(tls);
          } catch (err) {
            // A certificate/key pair that cannot work is the operator's input error: exit 2, before listening.
            throw new CertvigilError(
              'USAGE',
              `${(err as Error).message.replace(/^iodef receiver: /, '')} (--tls-cert/--tls-key${flags.clientCa ? '/--client-ca' : ''})`,
            );
          }
        }
        const config = await loadConfig(flags);
        const store = await openConfiguredStore(config);
        const alert = notifiersFor(config);
        // Retention (RFC 8659 leaves it to the owner): a sweep at start, then hourly.
        const sweep = async (): Promise<void> => {
          const cutoff = new Date(Date.now() - keepDays * 86_400_000).toISOString();
          try {
            const removed = await store.deleteReceivedIodefBefore(cutoff);
            if (removed > 0) ctx.logger.info({ removed, keepDays }, 'iodef retention: deleted old reports');
          } catch (err) {
            ctx.logger.warn({ err: sanitizeText((err as Error).message) }, 'iodef retention sweep failed');
          }
        };
        await sweep();
        const sweeper = setInterval(() => void sweep(), 3_600_000);
        sweeper.unref();
        // Events carry peer-chosen text (certificate subjects, envelope senders, document fields).
        const http = await startHttpReceiver({
          host: listen.host,
          port: listen.port,
          path: flags.path,
          ...(tls ? { tls } : {}),
          store,
          alert,
          limits: { quota },
          onReport: (e) => ctx.logger.info(sanitizeDeep(e), 'iodef request'),
        });
        const smtp = smtpAt
          ? await startSmtpReceiver({
              host: smtpAt.host,
              port: smtpAt.port,
              store,
              alert,
              intake: { quota },
              ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
              onMessage: (m) => ctx.logger.info(sanitizeDeep(m), 'iodef mail'),
            })
          : null;
        process.stderr.write(
          `certvigil: iodef receiver on ${http.url}${smtp ? ` and smtp://${smtpAt?.host ?? ''}:${smtp.port}` : ''}\n`,
        );
        await new Promise<void>((resolve) => {
          const stop = (): void => resolve();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        clearInterval(sweeper);
        await http.close();
        await smtp?.close();
        await store.close();
        ctx.setExit(EXIT.OK);
      },
    );

  addStateOptions(
    iodef
      .command('list')
      .summary('the reports received, one line each (or --json)')
      .description(
        'The reports `iodef serve` received, oldest first: one line each (risk, time, who was refused what,\n' +
          'where and why; CONFLICTING REPORT when another report claimed the same IncidentID with other content),\n' +
          'or one JSON object per line with --json. Every field from a report is sanitised (no terminal escapes,\n' +
          'no bidi overrides).\n\n' +
          'Exit status: 0 listed (also when there is none), 2 no state to read, or bad input / usage error.',
      ),
  )
    .option('--json', 'one JSON object per stored report, one per line')
    .action(async (flags: MonitorFlags & { json?: boolean }) => {
      const reports = await withStore(flags, (store) => store.listReceivedIodef(), { readOnly: true });
      for (const r of reports) {
        const summary = r.summary as IodefSummary;
        // formatReportLine sanitises every document field; --json sanitises every string too
        // (JSON.stringify escapes C0 controls but passes C1, bidi overrides and U+2028/2029).
        const line = formatReportLine(summary, r);
        if (flags.json) {
          const { document, ...rest } = r;
          await writeLine(
            JSON.stringify({
              ...sanitizeDeep(rest),
              document: sanitizeText(document, { keepNewlines: true }),
              line,
            }),
          );
        } else await writeLine(line);
      }
      ctx.setExit(EXIT.OK);
    });
}
