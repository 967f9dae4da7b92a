/**
 * @module cli/commands/iodef
 * CAA iodef (RFC 8659 §4.4), both ends:
 * - `certvigil iodef build NAME --ca ISSUER [--account-uri URI] [--method M] [--resolver HOST:PORT]`:
 *   evaluates CAA as the CA would and, when it denies and names an iodef target, prints the IODEF v2
 *   document that would be sent (exit 0); otherwise says why no report is due (exit 1).
 * - `certvigil iodef send NAME --ca ISSUER …`: the CA-side reporter for testing and small CAs —
 *   enqueue into the durable outbox (dedup, rate limits, opt-out, anti-spam rule), then deliver.
 * - `certvigil iodef serve --listen HOST:PORT --state-dir DIR [--tls-cert F --tls-key F]`: the
 *   owner-side receiver (RFC 6546 HTTPS, optional SMTP intake), storing and alerting.
 * - `certvigil iodef list --state-dir DIR [--json]`: what arrived, one line (or object) per report.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { evaluateCaa } from '../../caa/index.js';
import type { CaaResult } from '../../caa/index.js';
import { CertvigilError } from '../../errors.js';
import { buildIodefDocument } from '../../iodef/document.js';
import { formatReportLine, startHttpReceiver, startSmtpReceiver } from '../../iodef/receiver/index.js';
import { drainOutbox } from '../../iodef/reporter/send.js';
import { reportDenial } from '../../iodef/reporter/enqueue.js';
import { reporterPolicy } from '../../iodef/reporter/policy.js';
import type { IodefSummary, PreventedIssuance } from '../../iodef/types.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import { collect, writeLine } from '../flags.js';
import type { Logger } from '../logger.js';
import {
  addStateOptions,
  loadConfig,
  notifiersFor,
  openConfiguredStore,
  withStore,
} from '../monitor-setup.js';
import type { MonitorFlags } from '../monitor-setup.js';
import { resolverFromFlags } from '../resolver-options.js';
import type { ResolverFlags } from '../resolver-options.js';

interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}

/** `HOST:PORT` or `[V6]:PORT` for a listener. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text.trim());
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new CertvigilError('USAGE', `--listen wants HOST:PORT (got ${text})`);
  return { host: m[1] ?? m[2] ?? '', port };
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
      'recursive resolver to ask (repeatable; default: /etc/resolv.conf)',
      collect,
    )
    .option('--timeout <ms>', 'per-query timeout in milliseconds', '3000')
    .option('--attempts <n>', 'rounds over the resolver list before giving up', '2');
}

async function evaluate(name: string, flags: BuildFlags): Promise<CaaResult> {
  const issuerDomains = flags.ca
    .flatMap((c) => c.split(','))
    .map((c) => c.trim())
    .filter(Boolean);
  if (issuerDomains.length === 0) throw new CertvigilError('USAGE', '--ca needs an issuer domain name');
  const resolver = await resolverFromFlags(flags);
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

/** Why no report is due for this result, or null when one is. */
export function noReportReason(result: CaaResult): string | null {
  if (result.decision === 'allow')
    return `CAA allows issuance for ${result.name} (${result.reason}): nothing was refused, no report is due`;
  if (result.decision === 'error')
    return `CAA for ${result.name} could not be evaluated (${result.reason}): the CA must not issue, but there is no record set to read iodef targets from, so no report is due`;
  if (iodefValues(result).length === 0)
    return `CAA denies ${result.name} (${result.reason}), but its record set${result.foundAt ? ` at ${result.foundAt}` : ''} names no iodef target: no report is due`;
  return null;
}

export function registerIodef(program: Command, ctx: Ctx): void {
  const iodef = program
    .command('iodef')
    .description(
      'CAA iodef (RFC 8659 §4.4): report refused issuance (CA side), receive reports (owner side)',
    );

  addBuildOptions(
    iodef
      .command('build')
      .summary('evaluate CAA as a CA and print the IODEF v2 report that would be sent')
      .description(
        'Evaluate CAA for NAME as the CA named by --ca would. When CAA denies issuance and the relevant record set\n' +
          'has iodef targets, print the IODEF v2 document (RFC 7970) that would be sent to them.\n\n' +
          'Exit status: 0 a report is due (printed), 1 no report is due (the reason on stderr), 2 usage error.',
      ),
  ).action(async (name: string, flags: BuildFlags) => {
    const result = await evaluate(name, flags);
    const why = noReportReason(result);
    if (why !== null) {
      process.stderr.write(`certvigil: ${why}\n`);
      ctx.setExit(EXIT.FINDING);
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
            'Exit status: 0 reports enqueued or already sent, 1 no report is due, 2 usage or delivery setup error.',
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
        const result = await evaluate(name, flags);
        const why = noReportReason(result);
        if (why !== null) {
          process.stderr.write(`certvigil: ${why}\n`);
          ctx.setExit(EXIT.FINDING);
          return;
        }
        const policy = reporterPolicy({
          includeAccountUri: flags.includeAccountUri ?? false,
          onlyAfterValidation: flags.onlyAfterValidation ?? false,
          allowPrivateAddresses: flags.allowPrivateAddresses ?? false,
          optOut: flags.optOut ?? [],
        });
        const smtpAt = flags.smtp ? parseListen(flags.smtp) : null;
        const httpsCa = flags.httpsCaFile ? await readFile(flags.httpsCaFile, 'utf8') : undefined;
        const caDomain = flags.ca[0] ?? '';
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
          for (const o of outcomes) await writeLine(JSON.stringify({ kind: 'enqueue', ...o }));
          if (!flags.deliver) return;
          const drained = await drainOutbox(store, {
            policy,
            from: flags.from,
            ...(smtpAt ? { smtp: { host: smtpAt.host, port: smtpAt.port, secure: false } } : {}),
            ...(httpsCa ? { https: { ca: httpsCa } } : {}),
          });
          for (const d of drained.deliveries) await writeLine(JSON.stringify({ kind: 'delivery', ...d }));
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
          'safely, stored once (by the sender’s incident id) and alerted through the monitor’s sinks (--config\n' +
          '`alerts:`; JSON lines on stdout when none is configured). Runs until SIGINT/SIGTERM.',
      ),
  )
    .requiredOption('--listen <host:port>', 'address and port of the HTTP(S) endpoint')
    .option('--path <path>', 'URL path reports are POSTed to', '/')
    .option('--tls-cert <file>', 'PEM certificate (chain) of the HTTPS endpoint')
    .option('--tls-key <file>', 'PEM private key of the HTTPS endpoint')
    .option('--client-ca <file>', 'require client certificates issued by these CAs (mutual TLS)')
    .option('--smtp-listen <host:port>', 'also accept reports by mail on this address')
    .action(
      async (
        flags: MonitorFlags & {
          listen: string;
          path: string;
          tlsCert?: string;
          tlsKey?: string;
          clientCa?: string;
          smtpListen?: string;
        },
      ) => {
        const listen = parseListen(flags.listen);
        if (Boolean(flags.tlsCert) !== Boolean(flags.tlsKey))
          throw new CertvigilError('USAGE', '--tls-cert and --tls-key go together');
        if (flags.clientCa && !flags.tlsCert)
          throw new CertvigilError('USAGE', '--client-ca needs --tls-cert');
        const read = async (f: string): Promise<string> => {
          try {
            return await readFile(f, 'utf8');
          } catch (e) {
            throw new CertvigilError('USAGE', `cannot read ${f}: ${(e as Error).message}`);
          }
        };
        const tls =
          flags.tlsCert && flags.tlsKey
            ? {
                cert: await read(flags.tlsCert),
                key: await read(flags.tlsKey),
                ...(flags.clientCa ? { requestClientCert: true, clientCa: await read(flags.clientCa) } : {}),
              }
            : undefined;
        const config = await loadConfig(flags);
        const store = await openConfiguredStore(config);
        const alert = notifiersFor(config);
        const http = await startHttpReceiver({
          host: listen.host,
          port: listen.port,
          path: flags.path,
          ...(tls ? { tls } : {}),
          store,
          alert,
          onReport: (e) => ctx.logger.info(e, 'iodef request'),
        });
        const smtpAt = flags.smtpListen ? parseListen(flags.smtpListen) : null;
        const smtp = smtpAt
          ? await startSmtpReceiver({
              host: smtpAt.host,
              port: smtpAt.port,
              store,
              alert,
              ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}),
              onMessage: (m) => ctx.logger.info(m, 'iodef mail'),
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
        await http.close();
        await smtp?.close();
        await store.close();
        ctx.setExit(EXIT.OK);
      },
    );

  addStateOptions(iodef.command('list').summary('the reports received, one line each (or --json)'))
    .option('--json', 'one JSON object per stored report, one per line')
    .action(async (flags: MonitorFlags & { json?: boolean }) => {
      const reports = await withStore(flags, (store) => store.listReceivedIodef(), { readOnly: true });
      for (const r of reports) {
        const summary = r.summary as IodefSummary;
        const line = formatReportLine(summary, r);
        await writeLine(flags.json ? JSON.stringify({ ...r, line }) : line);
      }
      ctx.setExit(EXIT.OK);
    });
}
