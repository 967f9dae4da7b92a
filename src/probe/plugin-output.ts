/**
 * @module probe/plugin-output
 * The monitoring-plugins text format (Monitoring Plugins Development Guidelines, "Plugin Output"):
 * one status line `CERTVIGIL STATUS - text | perfdata`, then long output, one finding per line.
 * Nagios and Icinga keep the first line as the service status and the rest as details. Pure.
 */
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

/** `'label'=value[UOM];[warn];[crit];[min];[max]`; the label is quoted when it needs to be. */
export function formatPerfDatum(p: PerfDatum): string {
  const label = /^[A-Za-z0-9_.-]+$/.test(p.label) ? p.label : `'${p.label.replace(/'/g, "''")}'`;
  const n = (x: number | undefined): string => (x === undefined ? '' : String(x));
  const fields = [`${label}=${p.value}${p.uom}`, n(p.warn), n(p.crit), n(p.min)];
  while (fields.length > 1 && fields[fields.length - 1] === '') fields.pop();
  return fields.join(';');
}

/** The `|` and newline would break the format; they never belong in a status text. */
const clean = (text: string): string => text.replace(/\|/g, '/').replace(/[\r\n]+/g, ' ');

export function formatPluginOutput(
  status: PluginStatus,
  summary: string,
  findings: readonly Finding[],
  perfdata: readonly PerfDatum[],
): string {
  const perf = perfdata.map(formatPerfDatum).join(' ');
  const head = `CERTVIGIL ${status} - ${clean(summary)}${perf ? ` | ${perf}` : ''}`;
  const lines = [...findings]
    .sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity])
    .map(
      (f) =>
        `[${LABEL[f.severity]}] ${f.address === '*' ? '' : `${f.address}: `}${f.id}: ${clean(f.message)}`,
    );
  return [head, ...lines].join('\n') + '\n';
}
