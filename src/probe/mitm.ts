/**
 * @module probe/mitm
 * `certvigil mitm learn` and `certvigil check mitm`: run the JARM fingerprint and the TCP
 * traceroute to each configured port of a target, then either merge what was seen into the stored
 * baseline or compare it with the baseline (`mitm-compare.ts`, pure).
 *
 * Ports are probed in parallel; JARM and traceroute of one port too. Learning runs several rounds
 * so that a load-balanced service or path shows its variants before anything is compared with it.
 */
import { errorMessage } from '../errors.js';
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
      ? errorMessage(j.reason)
      : jarm && jarm.errors.length > 0
        ? jarm.errors.join('; ')
        : null;
  const trace = t.status === 'fulfilled' ? t.value : null;
  let traceError = t.status === 'rejected' ? errorMessage(t.reason) : null;
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

/** A port `mitm learn` refused to learn, and why (the user sees this; nothing is stored for it). */
export interface PortRefusal {
  port: number;
  reason: string;
}

export interface LearnProbe {
  /** Every round's probes, in order. */
  rounds: PortProbe[][];
  /** Ports with something to learn, in the order of `o.ports`. */
  learnable: number[];
  refused: PortRefusal[];
}

export interface LearnOptions {
  rounds: number;
  /**
   * Record a port without a TLS answer as "no TLS here" (EMPTY_JARM in the baseline's `jarms`), so
   * TLS appearing there later is a change. Without it such a port is refused.
   */
  allowNoTls?: boolean;
}

/**
 * Probes every port `rounds` times and decides which ports can be learned. Nothing is stored yet,
 * so a run that learns nothing leaves no trace (the CLI opens the store only if something is
 * learnable).
 *
 * Why a port can be refused: a baseline that holds nothing makes `check mitm` compare nothing and
 * say OK forever (a closed port learned as "JARM (none)"). So, with JARM on, a port must
 * answer with TLS in at least one round (all-zero JARM, refused connections and timeouts in every
 * round are not an answer) unless `allowNoTls` records "no TLS here"; with the traceroute on, it
 * must reach the port in at least one round.
 */
export async function probeForLearning(o: MitmProbeOptions, options: LearnOptions): Promise<LearnProbe> {
  const rounds: PortProbe[][] = [];
  for (let r = 0; r < options.rounds; r++) rounds.push(await probePorts(o));
  const learnable: number[] = [];
  const refused: PortRefusal[] = [];
  for (const port of o.ports) {
    const seen = rounds.map((probes) => probes.find((p) => p.port === port)).filter((p) => p !== undefined);
    const reasons: string[] = [];
    if (o.jarm && !options.allowNoTls && !seen.some((p) => isTlsJarm(p.observation.jarm))) {
      const why = lastOf(seen.map(jarmFailure)) ?? 'no probe got a TLS ServerHello';
      reasons.push(
        `no TLS answer on port ${port} in ${seen.length} round${seen.length === 1 ? '' : 's'} (${why}); ` +
          'give --allow-no-tls to record "no TLS here" as expected, or --starttls PORT=PROTO',
      );
    }
    if (o.trace && !seen.some((p) => p.observation.path)) {
      const why = lastOf(seen.map((p) => p.traceError)) ?? 'no answer';
      reasons.push(
        `the TCP traceroute to port ${port} failed in every round (${why}); give --no-trace to learn the JARM only`,
      );
    }
    if (reasons.length > 0) refused.push({ port, reason: reasons.join('; ') });
    else learnable.push(port);
  }
  return { rounds, learnable, refused };
}

const isTlsJarm = (jarm: string | null | undefined): jarm is string =>
  typeof jarm === 'string' && jarm !== EMPTY_JARM;

/** The first reason of a failed JARM (ten probes usually fail alike), with how many more there were. */
function jarmFailure(p: PortProbe): string | null {
  const errors = p.jarm?.errors ?? (p.jarmError !== null ? [p.jarmError] : []);
  const first = errors[0];
  if (first === undefined) return null;
  const more = errors.length - 1;
  return `${first.replace(/^probe \d+ \([^)]*\): /, '')}${more > 0 ? `, and ${more} more` : ''}`;
}

const lastOf = (values: (string | null)[]): string | undefined =>
  values.filter((v): v is string => v !== null && v !== '').at(-1);

/**
 * Merges what the rounds saw on the learnable ports into the stored baselines (or, with `replace`,
 * replaces those ports' baselines) and stores them. Refused ports are not touched: `relearn`
 * keeps their old baseline rather than leaving them unwatched.
 */
export async function storeLearned(
  store: Store,
  o: MitmProbeOptions,
  probe: LearnProbe,
  options: { replace: boolean; allowNoTls?: boolean; now?: () => Date },
): Promise<PortBaseline[]> {
  const now = options.now ?? (() => new Date());
  const existing = options.replace ? [] : await store.listMitmBaselines(o.target);
  const out: PortBaseline[] = [];
  for (const port of probe.learnable) {
    let baseline: PortBaseline | null = existing.find((b) => b.port === port) ?? null;
    let tlsSeen = false;
    for (const probes of probe.rounds) {
      const p = probes.find((x) => x.port === port);
      if (!p) continue;
      const jarm = isTlsJarm(p.observation.jarm) ? p.observation.jarm : null;
      if (jarm) tlsSeen = true;
      baseline = mergeBaseline(baseline, o.target, port, { jarm, path: p.observation.path ?? null }, now());
    }
    if (!baseline) continue;
    // --allow-no-tls and no TLS in any round: "no TLS here" is what is expected on this port.
    if (o.jarm && options.allowNoTls && !tlsSeen && !baseline.jarms.includes(EMPTY_JARM))
      baseline = { ...baseline, jarms: [...baseline.jarms, EMPTY_JARM] };
    out.push(baseline);
  }
  if (options.replace && out.length > 0)
    await store.deleteMitmBaselines(
      o.target,
      out.map((b) => b.port),
    );
  for (const b of out) await store.putMitmBaseline(b);
  return out;
}

export interface LearnResult extends LearnProbe {
  baselines: PortBaseline[];
}

/** `probeForLearning` then `storeLearned`, with the store already open (library use, tests). */
export async function learnMitm(
  store: Store,
  o: MitmProbeOptions,
  options: LearnOptions & { replace: boolean; now?: () => Date },
): Promise<LearnResult> {
  const probe = await probeForLearning(o, options);
  const baselines = await storeLearned(store, o, probe, options);
  return { ...probe, baselines };
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
