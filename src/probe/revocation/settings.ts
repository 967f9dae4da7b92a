/**
 * @module probe/revocation/settings
 * The revocation settings of `check endpoint` and the per-check cache, apart from the checker so that
 * parsing flags and YAML does not load pkijs (the checker is imported only when a check needs it).
 */

export const REVOCATION_MODES = ['leaf', 'chain', 'off'] as const;
/** `leaf`: the served certificate; `chain`: also every intermediate; `off`: nothing (no must-staple either). */
export type RevocationMode = (typeof REVOCATION_MODES)[number];

export const UNREACHABLE_SEVERITIES = ['ok', 'warning', 'critical'] as const;
/** Severity of `revocation-unknown` when no responder or CRL gave an answer (`ok` shows it as INFO). */
export type UnreachableSeverity = (typeof UNREACHABLE_SEVERITIES)[number];

export interface RevocationSettings {
  mode: RevocationMode;
  unreachable: UnreachableSeverity;
}

export const DEFAULT_REVOCATION: RevocationSettings = { mode: 'leaf', unreachable: 'warning' };

/**
 * Fetched verdicts per (certificate, issuer), shared by the addresses of one check so that each
 * certificate's responder is asked once. Holds promises: concurrent askers share one fetch.
 */
export class RevocationCache {
  private readonly entries = new Map<string, Promise<unknown>>();
  get<T>(key: string, make: () => Promise<T>): Promise<T> {
    let p = this.entries.get(key) as Promise<T> | undefined;
    if (!p) {
      p = make();
      this.entries.set(key, p);
    }
    return p;
  }
}
