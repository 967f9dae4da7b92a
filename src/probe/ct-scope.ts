/**
 * @module probe/ct-scope
 * Whether the CT policy applies to a presented chain. Certificate Transparency is a requirement of
 * the publicly trusted Web PKI: Chrome's and Apple's CT policies are enforced only for chains that
 * end at a root of their public root programs, and RFC 6962 §1 frames CT as an audit of publicly
 * trusted CAs. A chain that ends at a private anchor (`--ca-file` with an internal CA) carries no
 * SCTs and is not expected to: demanding them makes a good internal endpoint WARNING forever.
 *
 * Pure: the caller supplies the chain's certificate hashes and the public roots' hashes.
 */

/**
 * off: the user turned CT checks off (`--ct-policy none` or `--min-scts 0`);
 * public: the chain ends at a publicly trusted root (or `--require-ct`): SCTs, policy, presence;
 * private: the chain ends at a private `--ca-file` anchor: CT is reported as not required.
 */
export type CtScope = 'off' | 'public' | 'private';

export interface CtScopeInput {
  /** `--ct-policy none` or `--min-scts 0`. */
  off: boolean;
  /** `--require-ct`: check CT even for a private anchor. */
  requireCt: boolean;
  /** The trust anchors are the user's (`--ca-file`), not the system's public store. */
  customAnchors: boolean;
  /** Hex SHA-256 of each certificate of the chain as validated (served certificates and the anchor). */
  chainSha256: readonly string[];
  /** Hex SHA-256 of the publicly trusted roots (system store and Node's Mozilla bundle). */
  publicRoots: ReadonlySet<string>;
}

export function ctScope(input: CtScopeInput): CtScope {
  if (input.off) return 'off';
  if (input.requireCt) return 'public';
  // With the system store as the anchors, every chain that validates ends at a public root; one
  // that does not validate is judged as if it claimed to be public (it is CRITICAL anyway).
  if (!input.customAnchors) return 'public';
  // A --ca-file may hold a public root too (pinning the CA an endpoint uses): CT still applies then.
  return input.chainSha256.some((h) => input.publicRoots.has(h)) ? 'public' : 'private';
}

/** The INFO line for a chain CT does not apply to, or null when it does. */
export function ctScopeNote(scope: CtScope, why: 'policy-none' | 'min-scts-0'): string | null {
  if (scope === 'private')
    return 'private CA: CT not required (the chain ends at a --ca-file anchor that is not a public root; --require-ct checks it anyway)';
  if (scope === 'off')
    return why === 'min-scts-0' ? 'CT checks off (--min-scts 0)' : 'CT checks off (--ct-policy none)';
  return null;
}
