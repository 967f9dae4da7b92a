/**
 * @module cli/commands/ct
 * `certvigil ct entries` — print log entries as certificate summaries.
 * `certvigil ct audit`   — verify a log: signed head, every entry, the rebuilt tree, consistency
 *                          with the heads seen before. Exit 0 holds, 1 misbehaves, 2 unverifiable.
 */
import type { Command } from 'commander';
import {
  auditLog,
  createLogReader,
  HeadStore,
  isMalformed,
  LogMisbehaviourError,
  Rfc6962LogClient,
  toStoredHead,
} from '../../ct/index.js';
import type { AuditResult } from '../../ct/index.js';
import { CertvigilError } from '../../errors.js';
import { malformedSummary, summarizeEntry } from '../../monitor/index.js';
import { sanitizeText } from '../../sanitize.js';
import { addCtOptions, checkCtFlags, defaultStateDir, httpFromFlags, resolveLog } from '../ct-options.js';
import { writeLine } from '../flags.js';
import { jsonLine } from '../json-line.js';
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

/**
 * An entry index: decimal digits only, at most 2^53 − 1 (a log index is a uint64, but no tree that
 * size exists and JavaScript numbers stop being exact there). `-1`, `1.5`, `1e3`, `0x10` and
 * `99999999999999999999` all get the same one-line usage error.
 */
export function entryIndex(value: string, flag: string): number {
  const n = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n))
    throw new CertvigilError(
      'USAGE',
      `${flag} must be an entry index, a whole number from 0 to ${Number.MAX_SAFE_INTEGER} (got ${sanitizeText(JSON.stringify(value), { maxLength: 40 })})`,
    );
  return n;
}

/**
 * The entries `[start, end]` (inclusive) of a tree of `treeSize`, or why not: a range reaching
 * past the tree is a usage error naming the tree size, not a silently shorter answer.
 */
export function entriesWithinTree(
  start: number,
  end: number | undefined,
  treeSize: number,
): [number, number] {
  if (treeSize === 0) throw new CertvigilError('USAGE', 'the log has no entries yet (tree size 0)');
  const last = treeSize - 1;
  if (start > last)
    throw new CertvigilError(
      'USAGE',
      `--start ${start} is past the end of the log: it has ${treeSize} entries (0..${last})`,
    );
  if (end !== undefined && end > last)
    throw new CertvigilError(
      'USAGE',
      `--end ${end} is past the end of the log: it has ${treeSize} entries (0..${last}); leave out --end to read to the end`,
    );
  return [start, end ?? last];
}

/** Outside text (a log's error, a certificate field) made safe for one terminal line. */
const safe = (text: string): string => sanitizeText(text, { maxLength: 1000 });

export function registerCt(program: Command, ctx: Ctx): Command {
  const ct = program.command('ct').description('Certificate Transparency logs (RFC 6962 and static-ct-api)');

  addCtOptions(
    ct
      .command('entries')
      .summary('print log entries [start, end] as certificate summaries')
      .description(
        'Download entries START..END (inclusive, as RFC 6962 get-entries) from the log and print one summary per entry.\n' +
          'The tree head is fetched first and its signature verified with the log list key. Without --end, read to the\n' +
          'last entry of that tree head; a --start or --end past the tree is a usage error naming the tree size.',
      )
      .addHelpText(
        'after',
        '\nExit status: 0 entries printed (malformed ones included, as {"malformed": true}), 1 the log misbehaved\n' +
          '(its tree head signature does not verify), 2 the log could not be read, or a usage error (bad flag,\n' +
          'a range past the tree, a log not in the list).',
      )
      .requiredOption('--start <n>', 'first entry index')
      .option('--end <n>', 'last entry index (inclusive; default: the last entry of the tree)'),
  ).action(async (flags: CtFlags & { start: string; end?: string }) => {
    const start = entryIndex(flags.start, '--start');
    const end = flags.end === undefined ? undefined : entryIndex(flags.end, '--end');
    if (end !== undefined && end < start)
      throw new CertvigilError('USAGE', `--end (${end}) is before --start (${start})`);
    const settings = checkCtFlags(flags);
    const log = await resolveLog(flags, ctx.logger);
    const { http, concurrency } = httpFromFlags(settings, ctx.logger);
    try {
      const reader = createLogReader(log, { http, concurrency });
      let sth;
      try {
        sth = await reader.treeHead();
      } catch (err) {
        throw unreadable(log, err);
      }
      const [first, last] = entriesWithinTree(start, end, sth.treeSize);
      try {
        for await (const batch of reader.entries(first, last + 1, sth.treeSize)) {
          for (const entry of batch.entries) {
            const summary = isMalformed(entry) ? malformedSummary(entry) : summarizeEntry(entry);
            await writeLine(flags.json ? jsonLine(summary) : formatSummary(summary));
          }
        }
      } catch (err) {
        throw unreadable(log, err);
      }
      ctx.setExit(EXIT.OK);
    } catch (err) {
      if (err instanceof LogMisbehaviourError) {
        process.stderr.write(`certvigil: ${safe(log.description)} misbehaves: ${safe(err.message)}\n`);
        ctx.setExit(EXIT.FINDING);
        return;
      }
      throw err;
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
          'in earlier audits (kept in --state-dir, created 0700; one others can write is refused). Evidence of\n' +
          'misbehaviour is printed and saved there. Entries whose certificate cannot be parsed are counted and\n' +
          'listed as malformed (the same ones `ct entries` marks), without failing the audit.',
      )
      .addHelpText(
        'after',
        '\nExit status: 0 everything holds, 1 the log is proven to misbehave (evidence saved), 2 it could not be\n' +
          'checked (unreachable, timeouts, unreadable data) or a usage error (bad flag, unsafe --state-dir).',
      )
      .option('--state-dir <dir>', 'where tree heads seen before and evidence are kept', defaultStateDir()),
  ).action(async (flags: CtFlags & { stateDir: string }) => {
    const settings = checkCtFlags(flags);
    const store = new HeadStore(flags.stateDir);
    // Before any download: a state directory others can write is refused now, not after an hour.
    await store.check();
    const log = await resolveLog(flags, ctx.logger);
    const { http, concurrency } = httpFromFlags(settings, ctx.logger);
    const progress = makeProgress(`audit ${safe(log.description)}`, ctx.logger);
    try {
      const reader = createLogReader(log, { http, concurrency, batchSize: 256 });
      const rfc6962 = log.kind === 'rfc6962' ? new Rfc6962LogClient(log.url, http) : null;
      const result = await auditLog(reader, {
        knownHeads: await store.load(log.logId),
        onProgress: (done, total) => progress.update(done, total),
        consistencyProof: rfc6962 ? (first, second) => rfc6962.getSthConsistency(first, second) : undefined,
        checkEntry: (entry) => {
          const summary = summarizeEntry(entry);
          return 'malformed' in summary ? summary.error : null;
        },
      });
      progress.stop();
      let evidenceFile: string | null = null;
      if (result.status === 'consistent' && result.treeHead) {
        await store.remember(log.logId, log.description, result.treeHead);
      } else if (result.status === 'misbehaving') {
        evidenceFile = await store.saveEvidence(log.logId, auditJson(log, result, null));
      }
      const out = auditJson(log, result, evidenceFile);
      if (flags.json) await writeLine(jsonLine(out));
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

/** Why a log could not be read, as one line (the log's own words sanitised). */
function unreadable(log: { url: string }, err: unknown): unknown {
  if (err instanceof LogMisbehaviourError) return err;
  return new CertvigilError('CT_UNREACHABLE', `cannot read ${log.url}: ${safe((err as Error).message)}`, {
    cause: err,
  });
}

function formatSummary(s: ReturnType<typeof summarizeEntry>): string {
  if ('malformed' in s) return `#${s.index} MALFORMED ${safe(s.error)}`;
  // Names and issuer come from the certificate: whoever got it logged chose them.
  return safe(
    `#${s.index} ${s.type} ${s.dnsNames.join(',') || '(no names)'} issuer="${s.issuer}" ${s.notBefore}..${s.notAfter} tbs=${s.tbsSha256}`,
  );
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

function formatAudit(rawName: string, url: string, r: AuditResult, evidenceFile: string | null): string {
  const style = makeStyle(process.stdout);
  const name = safe(rawName);
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
      lines.push(`  ${f.kind}: ${safe(f.message)}`);
      for (const h of f.heads) {
        lines.push(
          `    signed head: size ${h.treeSize}, time ${new Date(h.timestamp).toISOString()}, root ${b64(h.rootHash)}, signature ${b64(h.signature.signature)}`,
        );
      }
    }
    if (evidenceFile) lines.push(`  evidence saved to ${evidenceFile}`);
  } else {
    lines.push(`${style.yellow('UNVERIFIABLE')} ${name} (${url}): ${safe(r.error ?? 'unknown error')}`);
  }
  if (r.status !== 'consistent' && r.malformedCount > 0)
    lines.push(`  ${r.malformedCount} malformed entr${r.malformedCount === 1 ? 'y' : 'ies'}`);
  for (const m of r.malformedEntries.slice(0, 10))
    lines.push(`  malformed entry #${m.index}: ${safe(m.error)}`);
  if (r.malformedCount > 10) lines.push(`  … and ${r.malformedCount - 10} more (--json lists up to 1000)`);
  return lines.join('\n');
}
