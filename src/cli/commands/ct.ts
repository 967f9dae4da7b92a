/**
 * @module cli/commands/ct
 * `certvigil ct entries` — print log entries as certificate summaries.
 * `certvigil ct audit`   — verify a log: signed head, every entry, the rebuilt tree, consistency
 *                          with the heads seen before. Exit 0 holds, 1 misbehaves, 2 unverifiable.
 */
import type { Command } from 'commander';
import { auditLog } from '../../ct/audit.js';
import type { AuditResult } from '../../ct/audit.js';
import { HeadStore, toStoredHead } from '../../ct/head-store.js';
import { createLogReader, LogMisbehaviourError } from '../../ct/log-reader.js';
import { Rfc6962LogClient } from '../../ct/rfc6962-client.js';
import { CertvigilError } from '../../errors.js';
import { summarizeEntry } from '../../monitor/entry-summary.js';
import { addCtOptions, defaultStateDir, httpFromFlags, resolveLog } from '../ct-options.js';
import { writeLine } from '../flags.js';
import type { CtFlags } from '../ct-options.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import type { Logger } from '../logger.js';
import { makeProgress } from '../progress.js';
import { makeStyle } from '../style.js';

interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}

function nonNegativeInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new CertvigilError('USAGE', `${flag} must be a whole number ≥ 0 (got ${value})`);
  return n;
}

export function registerCt(program: Command, ctx: Ctx): Command {
  const ct = program.command('ct').description('Certificate Transparency logs (RFC 6962 and static-ct-api)');

  addCtOptions(
    ct
      .command('entries')
      .summary('print log entries [start, end] as certificate summaries')
      .description(
        'Download entries START..END (inclusive, as RFC 6962 get-entries) from the log and print one summary per entry.\n' +
          'The tree head is fetched first and its signature verified with the log list key; END is clamped to the tree.\n\n' +
          'Exit status: 0 printed, 1 the log misbehaved (bad tree head signature), 2 could not read the log or usage error.',
      )
      .requiredOption('--start <n>', 'first entry index')
      .requiredOption('--end <n>', 'last entry index (inclusive)'),
  ).action(async (flags: CtFlags & { start: string; end: string }) => {
    const start = nonNegativeInt(flags.start, '--start');
    const end = nonNegativeInt(flags.end, '--end');
    if (end < start) throw new CertvigilError('USAGE', `--end (${end}) is before --start (${start})`);
    const log = await resolveLog(flags, ctx.logger);
    const { http, concurrency } = httpFromFlags(flags, ctx.logger);
    try {
      const reader = createLogReader(log, { http, concurrency });
      const sth = await reader.treeHead();
      const last = Math.min(end, sth.treeSize - 1);
      if (last < end)
        ctx.logger.warn(
          { treeSize: sth.treeSize },
          `the log has ${sth.treeSize} entries: reading up to ${last}`,
        );
      for await (const batch of reader.entries(start, last + 1, sth.treeSize)) {
        for (const entry of batch.entries) {
          const summary = summarizeEntry(entry);
          await writeLine(flags.json ? JSON.stringify(summary) : formatSummary(summary));
        }
      }
      ctx.setExit(EXIT.OK);
    } catch (err) {
      if (err instanceof LogMisbehaviourError) {
        process.stderr.write(`certvigil: ${log.description} misbehaves: ${err.message}\n`);
        ctx.setExit(EXIT.FINDING);
        return;
      }
      throw new CertvigilError('CT_UNREACHABLE', `cannot read ${log.url}: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      await http.close();
    }
  });

  addCtOptions(
    ct
      .command('audit')
      .summary('verify a log: signature, every entry, the rebuilt tree, consistency with heads seen before')
      .description(
        "Fetch the log's current tree head and check its signature with the log list key, download every entry,\n" +
          'rebuild the Merkle tree and compare it with the signed root, and check consistency with every head seen\n' +
          'in earlier audits (kept in --state-dir). Evidence of misbehaviour is printed and saved there.\n\n' +
          'Exit status: 0 all holds, 1 the log is proven to misbehave, 2 it could not be checked (or usage error).',
      )
      .option('--state-dir <dir>', 'where tree heads seen before and evidence are kept', defaultStateDir()),
  ).action(async (flags: CtFlags & { stateDir: string }) => {
    const log = await resolveLog(flags, ctx.logger);
    const { http, concurrency } = httpFromFlags(flags, ctx.logger);
    const store = new HeadStore(flags.stateDir);
    const progress = makeProgress(`audit ${log.description}`, ctx.logger);
    try {
      const reader = createLogReader(log, { http, concurrency, batchSize: 256 });
      const rfc6962 = log.kind === 'rfc6962' ? new Rfc6962LogClient(log.url, http) : null;
      const result = await auditLog(reader, {
        knownHeads: await store.load(log.logId),
        onProgress: (done, total) => progress.update(done, total),
        consistencyProof: rfc6962 ? (first, second) => rfc6962.getSthConsistency(first, second) : undefined,
      });
      progress.stop();
      let evidenceFile: string | null = null;
      if (result.status === 'consistent' && result.treeHead) {
        await store.remember(log.logId, log.description, result.treeHead);
      } else if (result.status === 'misbehaving') {
        evidenceFile = await store.saveEvidence(log.logId, auditJson(log, result, null));
      }
      const out = auditJson(log, result, evidenceFile);
      if (flags.json) await writeLine(JSON.stringify(out));
      else await writeLine(formatAudit(log.description, log.url, result, evidenceFile));
      ctx.setExit(
        result.status === 'consistent'
          ? EXIT.OK
          : result.status === 'misbehaving'
            ? EXIT.FINDING
            : EXIT.ERROR,
      );
    } finally {
      progress.stop();
      await http.close();
    }
  });
  return ct;
}

function formatSummary(s: ReturnType<typeof summarizeEntry>): string {
  if ('malformed' in s) return `#${s.index} MALFORMED ${s.error}`;
  return `#${s.index} ${s.type} ${s.dnsNames.join(',') || '(no names)'} issuer="${s.issuer}" ${s.notBefore}..${s.notAfter} tbs=${s.tbsSha256}`;
}

const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');

function auditJson(
  log: { description: string; url: string; logId: string },
  r: AuditResult,
  evidenceFile: string | null,
) {
  return {
    log: log.description,
    url: log.url,
    logId: log.logId,
    status: r.status,
    treeHead: r.treeHead ? toStoredHead(r.treeHead) : null,
    entriesVerified: r.entriesVerified,
    malformedCount: r.malformedCount,
    malformedEntries: r.malformedEntries,
    consistentWithPreviousHeads: r.consistentWith,
    findings: r.findings.map((f) => ({
      kind: f.kind,
      message: f.message,
      signedHeads: f.heads.map(toStoredHead),
      ...('computedRoot' in f ? { computedRoot: b64(f.computedRoot) } : {}),
    })),
    error: r.error,
    evidenceFile,
    elapsedMs: r.elapsedMs,
  };
}

function formatAudit(name: string, url: string, r: AuditResult, evidenceFile: string | null): string {
  const style = makeStyle(process.stdout);
  const lines: string[] = [];
  if (r.status === 'consistent' && r.treeHead) {
    const rate = r.elapsedMs > 0 ? Math.round((r.entriesVerified * 1000) / r.elapsedMs) : r.entriesVerified;
    lines.push(
      `${style.green('OK')} ${name} (${url}): ${r.entriesVerified} entries rebuild the signed root ${b64(r.treeHead.rootHash)} ` +
        `(tree head of ${new Date(r.treeHead.timestamp).toISOString()}); consistent with ${r.consistentWith} head(s) seen before; ` +
        `${r.malformedCount} malformed entr${r.malformedCount === 1 ? 'y' : 'ies'}; ${rate} entries/s.`,
    );
  } else if (r.status === 'misbehaving') {
    lines.push(`${style.red('MISBEHAVING')} ${name} (${url}):`);
    for (const f of r.findings) {
      lines.push(`  ${f.kind}: ${f.message}`);
      for (const h of f.heads) {
        lines.push(
          `    signed head: size ${h.treeSize}, time ${new Date(h.timestamp).toISOString()}, root ${b64(h.rootHash)}, signature ${b64(h.signature.signature)}`,
        );
      }
    }
    if (evidenceFile) lines.push(`  evidence saved to ${evidenceFile}`);
  } else {
    lines.push(`${style.yellow('UNVERIFIABLE')} ${name} (${url}): ${r.error ?? 'unknown error'}`);
  }
  for (const m of r.malformedEntries.slice(0, 10)) lines.push(`  malformed entry #${m.index}: ${m.error}`);
  return lines.join('\n');
}
