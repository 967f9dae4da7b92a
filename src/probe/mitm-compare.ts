/**
 * @module probe/mitm-compare
 * The decision of `certvigil check mitm`: today's JARM fingerprints and last hops per port against
 * the learned baseline. Pure.
 *
 * The signature of an interception like jabber.ru's (2023) is a change on *some* ports only: a new
 * box in the path to 5222/5269 but not to 443, or another TLS stack answering on those ports. A
 * change on every port at once is more likely the operator's own doing (a server upgrade, a new
 * upstream route): still reported, as a WARNING that asks for `mitm relearn` if it was expected.
 *
 * Tolerance: a baseline keeps every JARM and every last-hop sequence seen while learning, so a
 * load-balanced service (several TLS stacks) or path (ECMP) matches any of them; a hop address
 * counts as new only if it is in none of the learned sequences of that port.
 *
 * "No TLS here": `mitm learn --allow-no-tls` stores EMPTY_JARM among a port's JARMs; no TLS answer
 * then matches it, and a TLS answer is a TLS fingerprint change like any other (CRITICAL when only
 * some of the ports answering TLS changed, WARNING when all of them did).
 */
import { statusOfFindings } from './plugin-output.js';
import type { Finding, FindingSeverity, PluginStatus } from './types.js';
import type { LastHops, PortBaseline } from './mitm-types.js';

export const EMPTY_JARM = '0'.repeat(62);

/** What one `check mitm` run observed on one port (a probe not run is undefined). */
export interface PortObservation {
  port: number;
  jarm?: string | null;
  /** null when the traceroute could not run or did not reach the target. */
  path?: LastHops | null;
  pathError?: string;
  jarmError?: string;
}

export interface MitmVerdict {
  status: PluginStatus;
  summary: string;
  findings: Finding[];
}

/** Merges a new observation into a baseline (`mitm learn` run again, or several rounds). */
export function mergeBaseline(
  base: PortBaseline | null,
  target: string,
  port: number,
  observed: { jarm?: string | null; path?: LastHops | null },
  now: Date,
): PortBaseline {
  const out: PortBaseline = base
    ? {
        ...base,
        jarms: [...base.jarms],
        lastHops: base.lastHops.map((h) => [...h]),
        hopCounts: [...base.hopCounts],
      }
    : { target, port, jarms: [], lastHops: [], hopCounts: [], learnedAt: now.toISOString() };
  if (observed.jarm && observed.jarm !== EMPTY_JARM && !out.jarms.includes(observed.jarm))
    out.jarms.push(observed.jarm);
  if (observed.path) {
    const key = observed.path.hops.join(' ');
    if (!out.lastHops.some((h) => h.join(' ') === key)) out.lastHops.push(observed.path.hops);
    const n = observed.path.hopCount;
    if (n !== null && !out.hopCounts.includes(n)) out.hopCounts.push(n);
  }
  out.learnedAt = now.toISOString();
  return out;
}

interface PortChange {
  port: number;
  jarmChanged: boolean;
  pathChanged: boolean;
  detail: string[];
}

export function compareMitm(
  target: string,
  baselines: readonly PortBaseline[],
  observations: readonly PortObservation[],
): MitmVerdict {
  const findings: Finding[] = [];
  const at = (port: number): string => `${target}:${port}`;
  const add = (port: number, id: string, severity: FindingSeverity, message: string): void => {
    findings.push({ id, severity, message, address: at(port) });
  };
  const changes: PortChange[] = [];
  let jarmPorts = 0;
  let pathPorts = 0;

  for (const o of observations) {
    const base = baselines.find((b) => b.port === o.port);
    if (!base) {
      add(
        o.port,
        'no-baseline',
        'warning',
        `no baseline for port ${o.port}: run "certvigil mitm learn ${target}"`,
      );
      continue;
    }
    if (base.jarms.length === 0 && base.lastHops.length === 0 && base.hopCounts.length === 0) {
      // Stored by a certvigil that learned ports without any answer: comparing with
      // nothing would say OK forever.
      add(
        o.port,
        'baseline-empty',
        'unknown',
        `the baseline of port ${o.port} holds nothing to compare with: run "certvigil mitm relearn ${target} --ports ${o.port}"`,
      );
      continue;
    }
    const change: PortChange = { port: o.port, jarmChanged: false, pathChanged: false, detail: [] };
    const noTlsExpected = base.jarms.includes(EMPTY_JARM);
    const learnedJarms = (): string => base.jarms.map((j) => (j === EMPTY_JARM ? 'no TLS' : j)).join(', ');

    if (o.jarm !== undefined && base.jarms.length > 0) {
      if ((o.jarm === null || o.jarm === EMPTY_JARM) && noTlsExpected) {
        add(o.port, 'jarm-consistent', 'ok', `port ${o.port} answers without TLS, as learned`);
      } else if (o.jarm === null || o.jarm === EMPTY_JARM) {
        add(
          o.port,
          'jarm-unreachable',
          'critical',
          `port ${o.port} no longer answers with TLS${o.jarmError ? ` (${o.jarmError})` : ''}`,
        );
      } else {
        jarmPorts++;
        if (base.jarms.includes(o.jarm))
          add(o.port, 'jarm-consistent', 'ok', `port ${o.port} JARM ${o.jarm} as learned`);
        else {
          // TLS where "no TLS here" was learned (mitm learn --allow-no-tls) is a TLS change too,
          // judged by the same some-ports/every-port rule below.
          change.jarmChanged = true;
          change.detail.push(
            base.jarms.every((j) => j === EMPTY_JARM)
              ? `TLS now answers, JARM ${o.jarm} (learned: no TLS)`
              : `JARM ${o.jarm} (learned: ${learnedJarms()})`,
          );
        }
      }
    }

    if (o.path !== undefined && (base.lastHops.length > 0 || base.hopCounts.length > 0)) {
      if (o.path === null) {
        add(
          o.port,
          'path-unreachable',
          'warning',
          `TCP traceroute to port ${o.port} failed${o.pathError ? `: ${o.pathError}` : ''}`,
        );
      } else {
        pathPorts++;
        const known = new Set(base.lastHops.flat());
        const fresh = o.path.hops.filter((h) => !known.has(h));
        const countChanged =
          o.path.hopCount !== null && base.hopCounts.length > 0 && !base.hopCounts.includes(o.path.hopCount);
        if (fresh.length > 0) {
          change.pathChanged = true;
          change.detail.push(
            `new hop${fresh.length > 1 ? 's' : ''} ${fresh.join(', ')} (last hops now ${o.path.hops.join(' > ')})`,
          );
        }
        if (countChanged) {
          change.pathChanged = true;
          change.detail.push(
            `${o.path.hopCount ?? '?'} hops to the target (learned: ${base.hopCounts.join(' or ')})`,
          );
        }
        if (fresh.length === 0 && !countChanged)
          add(
            o.port,
            'path-consistent',
            'ok',
            `port ${o.port} last hops ${o.path.hops.join(' > ') || '(none answered)'} as learned`,
          );
      }
    }
    if (change.jarmChanged || change.pathChanged) changes.push(change);
  }

  // One port changing while the others stay is the interception signature; all ports changing
  // together is more likely a change of the whole server or route.
  const jarmChangedPorts = changes.filter((c) => c.jarmChanged).length;
  const pathChangedPorts = changes.filter((c) => c.pathChanged).length;
  for (const c of changes) {
    const partialJarm = c.jarmChanged && (jarmPorts === 1 || jarmChangedPorts < jarmPorts);
    const partialPath = c.pathChanged && (pathPorts === 1 || pathChangedPorts < pathPorts);
    const partial = partialJarm || partialPath;
    const kinds = [c.jarmChanged ? 'TLS fingerprint' : null, c.pathChanged ? 'path' : null]
      .filter(Boolean)
      .join(' and ');
    const why = partial
      ? 'changed on this port only: the signature of an interception in front of it'
      : 'changed on every port: a server or route change? run "certvigil mitm relearn" if expected';
    add(
      c.port,
      c.jarmChanged ? 'jarm-changed' : 'path-changed',
      partial ? 'critical' : 'warning',
      `port ${c.port} ${kinds} ${why}: ${c.detail.join('; ')}`,
    );
  }

  const status = statusOfFindings(findings);
  const bad = findings.filter((f) => f.severity === (status.toLowerCase() as FindingSeverity));
  const summary =
    status === 'OK'
      ? `${target}: ${observations.length} port${observations.length === 1 ? '' : 's'} as learned (${observations.map((o) => o.port).join(', ')})`
      : `${target}: ${bad.map((f) => f.message).join('; ')}`;
  return { status, summary, findings };
}
