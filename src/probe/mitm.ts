/**
 * @module probe/mitm
 * `certvigil mitm learn` and `certvigil check mitm`: run the JARM fingerprint and the TCP
 * traceroute to each configured port of a target, then either merge what was seen into the stored
 * baseline or compare it with the baseline (`mitm-compare.ts`, pure).
 *
 * Ports are probed in parallel; JARM and traceroute of one port too. Learning runs several rounds
 * so that a load-balanced service or path shows its variants before anything is compared with it.
 */
import type { Store } from '../store/index.js';
import { compareMitm, EMPTY_JARM, mergeBaseline } from './mitm-compare.js';
import type { MitmVerdict, PortObservation } from './mitm-compare.js';
import type { JarmResult, PortBaseline, TraceResult } from './mitm-types.js';
import { hostPort } from './connect.js';
import { jarmFingerprint } from './jarm-scan.js';
import { lastHops, tcpTraceroute } from './traceroute.js';
import type { StartTlsProtocol } from './types.js';

export interface MitmProbeOptions {
  /** Host name or IP address. */
  target: string;
  ports: number[];
  /** STARTTLS before the JARM probes, per port (e.g. 5222 → xmpp). */
  starttls?: Readonly<Record<number, StartTlsProtocol>>;
  /** SNI for the JARM probes (default: the target when it is a name). */
  serverName?: string;
  jarm: boolean;
  trace: boolean;
  /** How many last hops before the target to keep and compare. */
  hops: number;
  family?: 4 | 6;
  /** Per JARM probe. */
  jarmTimeoutMs: number;
  /** Per traceroute run. */
  traceTimeoutMs: number;
  signal?: AbortSignal;
}

export interface PortProbe {
  port: number;
  jarm: JarmResult | null;
  jarmError: string | null;
  trace: TraceResult | null;
  traceError: string | null;
  observation: PortObservation;
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

async function probePort(o: MitmProbeOptions, port: number): Promise<PortProbe> {
  const starttls = o.starttls?.[port];
  const [j, t] = await Promise.allSettled([
    o.jarm
      ? jarmFingerprint(hostPort(o.target, port), {
          port,
          ...(starttls ? { starttls } : {}),
          ...(o.serverName ? { serverName: o.serverName } : {}),
          timeoutMs: o.jarmTimeoutMs,
          ...(o.signal ? { signal: o.signal } : {}),
        })
      : Promise.resolve(null),
    o.trace
      ? tcpTraceroute(o.target, {
          port,
          ...(o.family ? { family: o.family } : {}),
          timeoutMs: o.traceTimeoutMs,
          ...(o.signal ? { signal: o.signal } : {}),
        })
      : Promise.resolve(null),
  ]);
  const jarm = j.status === 'fulfilled' ? j.value : null;
  const jarmError =
    j.status === 'rejected'
      ? message(j.reason)
      : jarm && jarm.errors.length > 0
        ? jarm.errors.join('; ')
        : null;
  const trace = t.status === 'fulfilled' ? t.value : null;
  let traceError = t.status === 'rejected' ? message(t.reason) : null;
  if (trace && !trace.reached) traceError = `the traceroute did not reach ${trace.address}:${port}`;
  const observation: PortObservation = { port };
  if (o.jarm) {
    observation.jarm = jarm ? jarm.jarm : null;
    if (jarmError) observation.jarmError = jarmError;
  }
  if (o.trace) {
    observation.path = trace && trace.reached ? lastHops(trace, o.hops) : null;
    if (traceError) observation.pathError = traceError;
  }
  return { port, jarm, jarmError, trace, traceError, observation };
}

/** Probes every port once, in parallel. */
export async function probePorts(o: MitmProbeOptions): Promise<PortProbe[]> {
  return Promise.all(o.ports.map((port) => probePort(o, port)));
}

export interface LearnResult {
  baselines: PortBaseline[];
  rounds: PortProbe[][];
}

/**
 * Learns (or with `replace`, re-learns from scratch) the baseline of every port over `rounds`
 * rounds and stores it. A port whose JARM was all zeros and whose traceroute failed in every round
 * is stored with nothing learned, so `check mitm` reports it rather than silently skipping it.
 */
export async function learnMitm(
  store: Store,
  o: MitmProbeOptions,
  options: { rounds: number; replace: boolean; now?: () => Date },
): Promise<LearnResult> {
  const now = options.now ?? (() => new Date());
  const existing = options.replace ? [] : await store.listMitmBaselines(o.target);
  const baselines = new Map<number, PortBaseline | null>(
    o.ports.map((p) => [p, existing.find((b) => b.port === p) ?? null]),
  );
  const rounds: PortProbe[][] = [];
  for (let r = 0; r < options.rounds; r++) {
    const probes = await probePorts(o);
    rounds.push(probes);
    for (const p of probes) {
      const learnedPath = p.observation.path ?? null;
      const jarm = p.observation.jarm && p.observation.jarm !== EMPTY_JARM ? p.observation.jarm : null;
      baselines.set(
        p.port,
        mergeBaseline(baselines.get(p.port) ?? null, o.target, p.port, { jarm, path: learnedPath }, now()),
      );
    }
  }
  if (options.replace) await store.deleteMitmBaselines(o.target, o.ports);
  const out: PortBaseline[] = [];
  for (const b of baselines.values()) {
    if (!b) continue;
    await store.putMitmBaseline(b);
    out.push(b);
  }
  return { baselines: out, rounds };
}

export interface CheckMitmResult extends MitmVerdict {
  target: string;
  ports: number[];
  probes: PortProbe[];
  baselines: PortBaseline[];
}

/** Probes the ports (default: every port with a baseline) and compares them with the baseline. */
export async function checkMitm(store: Store, o: MitmProbeOptions): Promise<CheckMitmResult> {
  const baselines = await store.listMitmBaselines(o.target);
  const ports = o.ports.length > 0 ? o.ports : baselines.map((b) => b.port);
  if (ports.length === 0)
    return {
      status: 'UNKNOWN',
      summary: `${o.target}: no baseline learned: run "certvigil mitm learn ${o.target} --ports …" first`,
      findings: [],
      target: o.target,
      ports,
      probes: [],
      baselines,
    };
  const probes = await probePorts({ ...o, ports });
  const verdict = compareMitm(
    o.target,
    baselines,
    probes.map((p) => p.observation),
  );
  return { ...verdict, target: o.target, ports, probes, baselines };
}
