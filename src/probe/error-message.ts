/**
 * @module probe/error-message
 * The text of a caught value, for a finding or a note: `catch (e)` gives `unknown`, and a finding
 * needs a string whether the failure was an `Error` (a socket, a resolver, a parser) or not.
 */
export const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));
