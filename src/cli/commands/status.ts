/**
 * @module cli/commands/status
 * `certvigil status` — the monitor's health at a glance: per log its status, newest and
 * verified tree size, position, backlog, last contact and how far behind the verified view is; the
 * alert outbox; the log list. Read-only: opens the state read-only and creates nothing.
 */
import type { Command } from 'commander';
import { readHealthReport, roughAge, unitsView } from '../../health/index.js';
import type { HealthReport, LogView, UnitsView } from '../../health/index.js';
import { sanitizeText } from '../../sanitize.js';
import { EXIT } from '../exit-codes.js';
import type { ExitCode } from '../exit-codes.js';
import { writeLine } from '../flags.js';
import { jsonLine } from '../json-line.js';
import type { Logger } from '../logger.js';
import { addStateOptions, withStore } from '../monitor-setup.js';
import type { MonitorFlags } from '../monitor-setup.js';
import { makeStyle } from '../style.js';
import type { Style } from '../style.js';

interface Ctx {
  logger: Logger;
  setExit(code: ExitCode): void;
}

const safe = (text: string, maxLength = 300): string => sanitizeText(text, { maxLength });

function statusCell(l: LogView, style: Style): string {
  const text = l.status.padEnd(11);
  if (l.status === 'ok') return style.green(text);
  if (l.status === 'unreachable' || l.status === 'unknown') return style.yellow(text);
  return style.red(text);
}

const num = (n: number | null): string => (n === null ? '-' : String(n));
const time = (iso: string | null): string => (iso === null ? 'never' : iso.replace(/\.\d{3}Z$/, 'Z'));

/** The human form: one table row per log, then the outbox and the log list. Outside text sanitised. */
export function formatStatus(r: HealthReport, style: Style): string[] {
  const header = [
    'STATUS     ',
    'TREE'.padStart(10),
    'VERIFIED'.padStart(10),
    'POSITION'.padStart(10),
    'BACKLOG'.padStart(9),
    'BEHIND'.padStart(8),
    ' LAST CONTACT        ',
    'LOG',
  ];
  const lines = [style.bold(header.join(' '))];
  for (const l of r.logs) {
    lines.push(
      [
        statusCell(l, style),
        num(l.treeSize).padStart(10),
        num(l.verifiedSize).padStart(10),
        String(l.position).padStart(10),
        num(l.backlog).padStart(9),
        (l.behindSeconds === null ? '-' : roughAge(l.behindSeconds)).padStart(8),
        ` ${time(l.lastContact).padEnd(20)}`,
        safe(l.url, 200),
      ].join(' '),
    );
    if (l.lastError !== null && l.status !== 'ok')
      lines.push(style.dim(`    last error: ${safe(l.lastError)}`));
  }
  if (r.logs.length === 0) lines.push('(no log monitored yet)');
  lines.push('');
  const pending = `${r.pendingAlerts}${r.pendingAlertsTruncated ? '+' : ''}`;
  lines.push(
    `alerts pending: ${pending}` +
      (r.oldestPendingAlertAgeSeconds === null
        ? ''
        : `, oldest ${roughAge(r.oldestPendingAlertAgeSeconds)} old`) +
      (r.failingAlerts > 0 ? `, ${r.failingAlerts} failing delivery` : ''),
  );
  lines.push(
    `log list: ${safe(r.logList.source ?? 'unknown')}, fetched ${time(r.logList.fetchedAt)}` +
      (r.logList.ageSeconds === null ? '' : ` (${roughAge(r.logList.ageSeconds)} ago)`) +
      (r.logList.error === null ? '' : `; last refresh failed: ${safe(r.logList.error)}`),
  );
  lines.push(
    `last pass completed: ${time(r.lastCycleAt)}; last heartbeat: ${time(r.lastHeartbeatAt)}; inventory errors: ${r.inventoryErrors}`,
  );
  return lines;
}

/** The work units and the workers holding them (issue 18); nothing when no unit is pending. */
export function formatUnits(u: UnitsView): string[] {
  if (u.open + u.claimed + u.expired + u.done === 0) return [];
  const lines = [
    `work units: ${u.open} open, ${u.claimed} claimed, ${u.expired} with a run-out lease, ${u.done} done (not folded yet)`,
  ];
  for (const w of u.workers)
    lines.push(
      `  worker ${sanitizeText(w.workerId, { maxLength: 128 })}: ${w.holding} unit(s), lease until ${w.leaseUntil}`,
    );
  return lines;
}

export function registerStatus(program: Command, ctx: Ctx): void {
  addStateOptions(
    program
      .command('status')
      .summary("the monitor's health: per log backlog, last contact, status; pending alerts; log list")
      .description(
        "Show the CT monitor's own health from its state (read-only; nothing is created or changed): per log its\n" +
          'status (ok, unreachable, misbehaving, internal; unknown before the monitor recorded any), newest and\n' +
          'verified tree size, download position, backlog (newest tree size − position), how far behind the\n' +
          'verified view is, and the last correct contact; the alerts waiting for delivery; the log list.\n\n' +
          '--json prints one object: {"logs":[{"url","treeSize","position","verifiedSize","backlog","lastContact",\n' +
          '"status",…}],"pendingAlerts":N,"logList":{"source","fetchedAt",…},…}.',
      ),
  )
    .option('--json', 'one JSON object')
    .addHelpText(
      'after',
      '\nExit status: 0 printed (whatever the health: use `certvigil check monitor` for a verdict), 2 no certvigil\n' +
        'state at the state directory or database (nothing is created), an unsafe state directory, or a usage error.',
    )
    .action(async (flags: MonitorFlags & { json?: boolean }) => {
      const now = new Date();
      const { report, units } = await withStore(
        flags,
        async (store) => ({
          report: await readHealthReport(store, now),
          units: unitsView(await store.listUnits(), now),
        }),
        { readOnly: true },
      );
      if (flags.json) await writeLine(jsonLine({ ...report, units }));
      else {
        for (const line of formatStatus(report, makeStyle(process.stdout))) await writeLine(line);
        for (const line of formatUnits(units)) await writeLine(line);
      }
      ctx.setExit(EXIT.OK);
    });
}
