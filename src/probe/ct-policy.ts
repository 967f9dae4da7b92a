/**
 * @module probe/ct-policy
 * Whether a certificate's verified SCTs satisfy a browser's CT policy. Pure.
 *
 * Chrome's CT policy (googlechrome.github.io/CertificateTransparency/ct_policy.html) and Apple's
 * (support.apple.com/en-us/103214) agree on the numbers:
 * - embedded SCTs: 2 for a certificate lifetime of at most 180 days, 3 beyond;
 * - SCTs delivered by OCSP or the TLS extension: 2;
 * - from logs that are Qualified, Usable or ReadOnly now, or Retired after the SCT was made;
 * - at least two distinct log operators.
 * Chrome adds, since it accepts static-ct-api logs, that one SCT must come from an RFC 6962 log.
 * SCTs from the same log count once: a policy asks for independent logs, not repeated promises.
 */
import type { LogInfo } from '../ct/index.js';
import type { SctCheck } from './types.js';

export type CtPolicyName = 'chrome' | 'apple' | 'none';

export interface CtPolicyOptions {
  policy: CtPolicyName;
  /** Overrides the policy's SCT count (`--min-scts`). */
  minScts?: number;
  notBefore: string;
  notAfter: string;
  logs: readonly LogInfo[];
  now: Date;
}

export interface CtPolicyResult {
  compliant: boolean;
  /** Distinct logs with a valid SCT that the policy counts. */
  qualifyingLogs: number;
  operators: number;
  required: number;
  /** Why not compliant (empty when compliant). */
  reasons: string[];
}

const DAY_MS = 86_400_000;
const USABLE_STATES = new Set(['qualified', 'usable', 'readonly']);

/** A log whose SCTs a browser honours at `now` for an SCT made at `sctTime`. */
function logCounts(log: LogInfo | undefined, sctTime: number): boolean {
  if (!log) return false;
  if (USABLE_STATES.has(log.state)) return true;
  if (log.state === 'retired' && log.stateTimestamp) return sctTime < Date.parse(log.stateTimestamp);
  return false;
}

export function evaluateCtPolicy(scts: readonly SctCheck[], options: CtPolicyOptions): CtPolicyResult {
  const logs = new Map(options.logs.map((l) => [l.logId, l]));
  const valid = scts.filter((s) => s.status === 'valid');
  const lifetimeDays = (Date.parse(options.notAfter) - Date.parse(options.notBefore)) / DAY_MS;
  const embeddedOnly = valid.every((s) => s.source === 'embedded');

  // The policy is met by one delivery kind's set: embedded, or OCSP + TLS together.
  const evaluateSet = (set: SctCheck[], embedded: boolean): CtPolicyResult => {
    const policyCount = options.policy === 'none' ? 0 : embedded ? (lifetimeDays <= 180 ? 2 : 3) : 2;
    const required = options.minScts ?? policyCount;
    const counted = new Map<string, SctCheck>();
    for (const s of set)
      if (options.policy === 'none' || logCounts(logs.get(s.logId), s.timestamp)) counted.set(s.logId, s);
    const operators = new Set(
      [...counted.values()].map((s) => logs.get(s.logId)?.operator ?? s.operator ?? s.logId),
    );
    const reasons: string[] = [];
    if (counted.size < required)
      reasons.push(
        `${counted.size} SCT${counted.size === 1 ? '' : 's'} from qualifying logs, ${required} required`,
      );
    if (options.policy !== 'none' && required > 0 && operators.size < 2)
      reasons.push(`SCTs from ${operators.size} log operator${operators.size === 1 ? '' : 's'}, 2 required`);
    if (
      options.policy === 'chrome' &&
      required > 0 &&
      counted.size > 0 &&
      ![...counted.values()].some((s) => logs.get(s.logId)?.kind === 'rfc6962')
    )
      reasons.push('no SCT from an RFC 6962 log (Chrome requires one)');
    return {
      compliant: reasons.length === 0,
      qualifyingLogs: counted.size,
      operators: operators.size,
      required,
      reasons,
    };
  };

  const embedded = evaluateSet(
    valid.filter((s) => s.source === 'embedded'),
    true,
  );
  if (embedded.compliant || embeddedOnly) return embedded;
  const delivered = evaluateSet(
    valid.filter((s) => s.source !== 'embedded'),
    false,
  );
  return delivered.compliant || delivered.qualifyingLogs > embedded.qualifyingLogs ? delivered : embedded;
}
