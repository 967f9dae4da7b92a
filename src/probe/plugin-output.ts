/**
 * @module probe/plugin-output
 * The monitoring-plugins text format (Monitoring Plugins Development Guidelines, "Plugin Output"):
 * one status line `CERTVIGIL STATUS - text | perfdata`, then long output, one finding per line.
 * Nagios and Icinga keep the first line as the service status and the rest as details, and the
 * status arithmetic of findings (worst wins, CRITICAL > UNKNOWN > WARNING > OK). Pure.
 */
import { safeJsonStringify, sanitizeText } from '../sanitize.js';
import type { Finding, FindingSeverity, PerfDatum, PluginStatus } from './types.js';

const SEVERITY_ORDER: Record<FindingSeverity, number> = {
  critical: 0,
  unknown: 1,
  warning: 2,
  info: 3,
  ok: 4,
};
const LABEL: Record<FindingSeverity, string> = {
  critical: 'CRITICAL',
  unknown: 'UNKNOWN',
  warning: 'WARNING',
  info: 'INFO',
  ok: 'OK',
};

const SEVERITY_RANK: Record<FindingSeverity, number> = {
  ok: 0,
  info: 0,
  warning: 1,
  unknown: 2,
  critical: 3,
};
const STATUS_RANK: Record<PluginStatus, number> = { OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3 };

/** Monitoring-plugins precedence: CRITICAL > UNKNOWN > WARNING > OK (guidelines, "Plugin Return Codes"). */
export function worstStatus(statuses: Iterable<PluginStatus>): PluginStatus {
  let worst: PluginStatus = 'OK';
  for (const s of statuses) if (STATUS_RANK[s] > STATUS_RANK[worst]) worst = s;
  return worst;
}

export function statusOfFindings(findings: readonly Finding[]): PluginStatus {
  let rank = 0;
  for (const f of findings) rank = Math.max(rank, SEVERITY_RANK[f.severity]);
  return (['OK', 'WARNING', 'UNKNOWN', 'CRITICAL'] as const)[rank] ?? 'UNKNOWN';
}

/**
 * Text for a status or long-output line. `|` starts perfdata and a line break starts long output,
 * so neither belongs in it; the rest may be outside text (certificate subjects, issuers, SANs,
 * STARTTLS banners, error bodies), which must not drive the terminal or web UI that shows it.
 */
export function statusText(text: string): string {
  return sanitizeText(text.replace(/\|/g, '/').replace(/\s*[\r\n]+\s*/g, ' '), { maxLength: 4000 });
}

/** The status line of a check that could not run (usage error, unreadable input, crash). */
export function unknownStatusLine(message: string): string {
  return `CERTVIGIL UNKNOWN - ${statusText(message)}\n`;
}

/** `'label'=value[UOM];[warn];[crit];[min];[max]`; the label is quoted when it needs to be. */
export function formatPerfDatum(p: PerfDatum): string {
  const label = /^[A-Za-z0-9_.-]+$/.test(p.label) ? p.label : `'${p.label.replace(/'/g, "''")}'`;
  const n = (x: number | undefined): string => (x === undefined ? '' : String(x));
  const fields = [`${label}=${p.value}${p.uom}`, n(p.warn), n(p.crit), n(p.min)];
  while (fields.length > 1 && fields[fields.length - 1] === '') fields.pop();
  return fields.join(';');
}

export function formatPluginOutput(
  status: PluginStatus,
  summary: string,
  findings: readonly Finding[],
  perfdata: readonly PerfDatum[],
): string {
  const perf = perfdata.map(formatPerfDatum).join(' ');
  const head = `CERTVIGIL ${status} - ${statusText(summary)}${perf ? ` | ${perf}` : ''}`;
  const lines = [...findings]
    .sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity])
    .map(
      (f) =>
        `[${LABEL[f.severity]}] ${f.address === '*' ? '' : `${statusText(f.address)}: `}${statusText(f.id)}: ${statusText(f.message)}`,
    );
  return [head, ...lines].join('\n') + '\n';
}

/**
 * A `--json` result as one line (no newline): certificate fields and server banners are outside
 * text, so every code point a terminal would act on is escaped, losslessly (`safeJsonStringify`).
 */
export function safeJson(value: unknown): string {
  return safeJsonStringify(value);
}
