/**
 * @module probe/endpoint-result
 * Assembles the monitoring-plugins result of `check endpoint` from the per-address results: the
 * endpoint-wide findings (log list, addresses that disagree, the proxy path), the worst status, the
 * text after `CERTVIGIL STATUS - ` and the performance data (Monitoring Plugins Development
 * Guidelines: `'label'=value[UOM];[warn];[crit];[min];[max]`). Pure: the findings are already drawn.
 */
import { wholeDays } from './checks.js';
import type {
  AddressResult,
  EndpointCheckOptions,
  EndpointCheckResult,
  LogsForCheck,
} from './endpoint-types.js';
import { statusOfFindings, worstStatus } from './plugin-output.js';
import { proxyFinding } from './proxy.js';
import type { Finding, PerfDatum, PluginStatus } from './types.js';

/** What was checked, as the result names it (the same whether the check got far or not). */
export type EndpointTarget = Pick<EndpointCheckResult, 'target' | 'host' | 'port' | 'starttls' | 'sni'>;

/** The result when the host's addresses could not be resolved: UNKNOWN, no address checked. */
export function resolveFailedResult(base: EndpointTarget, reason: string): EndpointCheckResult {
  const f: Finding = { id: 'resolve-failed', severity: 'unknown', message: reason, address: '*' };
  return {
    ...base,
    status: 'UNKNOWN',
    summary: `${base.target}: ${f.message}`,
    addresses: [],
    findings: [f],
    perfdata: [],
  };
}

/** Why an older log list serves (INFO), or why there is none (WARNING: SCTs unverified). */
export function logListFindings(logs: LogsForCheck | null): Finding[] {
  if (!logs?.note) return [];
  return [
    {
      id: logs.logs ? 'loglist-fallback' : 'loglist-unavailable',
      severity: logs.logs ? 'info' : 'warning',
      message: logs.note,
      address: '*',
    },
  ];
}

/** The endpoint-wide findings drawn from all addresses together, after the per-address ones. */
export function crossAddressFindings(results: AddressResult[], options: EndpointCheckOptions): Finding[] {
  const findings: Finding[] = [];
  const distinct = new Set(results.map((r) => r.certificate?.sha256).filter((x): x is string => !!x));
  // A dual-certificate server presents one certificate per key type, on every address alike.
  if (distinct.size > (options.keyTypes?.length || 1))
    findings.push({
      id: 'certificates-differ',
      severity: 'warning',
      message: `addresses present ${distinct.size} different certificates: ${results
        .map((r) => `${r.address} ${r.certificate?.sha256.slice(0, 16) ?? '-'}`)
        .join(', ')}`,
      address: '*',
    });
  // Which proxy the check went through (never its credentials): the path that was checked.
  if (options.proxy) findings.push(proxyFinding(options.proxy));
  return findings;
}

/** The whole result: `findings` is every finding, per address and endpoint-wide, in output order. */
export function endpointResult(
  base: EndpointTarget,
  results: AddressResult[],
  findings: Finding[],
  options: EndpointCheckOptions,
): EndpointCheckResult {
  const status = worstStatus([statusOfFindings(findings), ...results.map((r) => r.status)]);
  return {
    ...base,
    status,
    summary: summarize(base.target, status, results, findings),
    addresses: results,
    findings,
    perfdata: perfdata(results, options),
  };
}

/** Distinct addresses checked: with `--key-types` each address has one result per key type. */
function addressCount(results: readonly AddressResult[]): number {
  return new Set(results.map((r) => r.address.replace(/ \[[a-z0-9]+\]$/, ''))).size;
}

/** OK: what the certificate is and how long it lasts; else the first three findings of the worst severity. */
function summarize(
  target: string,
  status: PluginStatus,
  results: AddressResult[],
  findings: Finding[],
): string {
  const n = addressCount(results);
  const where = `${target}${n > 1 ? ` (${n} addresses)` : ''}`;
  if (status === 'OK') {
    const withCert = results.filter((r) => r.certificate);
    const c = withCert[0]?.certificate;
    if (!c) return `${where}: OK`;
    // The same day count as the perfdata and the expiry finding: whole days, the soonest address.
    const days = Math.min(...withCert.map((r) => wholeDays(r.certificate?.daysLeft ?? 0)));
    const ct = withCert.filter((r) => r.ctScope === 'public');
    const scts =
      ct.length > 0
        ? `, ${Math.min(...ct.map((r) => r.scts.filter((s) => s.status === 'valid').length))} valid SCTs`
        : withCert.some((r) => r.ctScope === 'private')
          ? ', private CA'
          : '';
    return `${where}: certificate for ${c.dnsNames[0] ?? c.subject} from ${c.issuer}, ${days} days left${scts}`;
  }
  const wanted = status === 'CRITICAL' ? 'critical' : status === 'UNKNOWN' ? 'unknown' : 'warning';
  const bad = findings.filter((f) => f.severity === wanted);
  const shown = bad
    .slice(0, 3)
    .map((f) => (n > 1 && f.address !== '*' ? `${f.address}: ${f.message}` : f.message));
  const more = bad.length > 3 ? ` (+${bad.length - 3} more)` : '';
  return `${where}: ${shown.join('; ')}${more}`;
}

/** Days left, valid SCTs (only where CT applies), slowest handshake, addresses checked and failed. */
function perfdata(results: AddressResult[], options: EndpointCheckOptions): PerfDatum[] {
  const withCert = results.filter((r) => r.certificate);
  const out: PerfDatum[] = [];
  if (withCert.length > 0) {
    const days = Math.min(...withCert.map((r) => wholeDays(r.certificate?.daysLeft ?? 0)));
    out.push({
      label: 'days',
      value: days,
      uom: '',
      warn: options.warnDays,
      crit: options.critDays,
      min: 0,
    });
    // SCTs are counted only where CT applies: a private CA's 0 is not a value worth graphing.
    const ct = withCert.filter((r) => r.ctScope === 'public');
    if (ct.length > 0) {
      const scts = Math.min(...ct.map((r) => r.scts.filter((s) => s.status === 'valid').length));
      out.push({ label: 'scts', value: scts, uom: '', min: 0 });
    }
    const ms = Math.max(...withCert.map((r) => r.handshakeMs ?? 0));
    out.push({ label: 'handshake', value: Math.round(ms) / 1000, uom: 's', min: 0 });
  }
  out.push({ label: 'addresses', value: addressCount(results), uom: '', min: 0 });
  out.push({ label: 'failed', value: addressCount(results.filter((r) => r.error)), uom: '', min: 0 });
  return out;
}
