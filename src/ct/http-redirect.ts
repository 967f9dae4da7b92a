/**
 * @module ct/http-redirect
 * Which redirects a CT log may send the client on: a pure decision, apart from the transport.
 *
 * A log's URL comes from a signed log list (RFC 6962 §3 names logs by URL and key; the log lists
 * carry both). A redirect to another origin would let whoever controls a response (a compromised
 * CDN edge, a misconfigured proxy) send the monitor to any host, including internal ones, and a
 * scheme change could downgrade https to http; so only same-origin targets are followed, and only a
 * few times per request.
 */
import { sanitizeText } from '../sanitize.js';

/** Redirects followed at most per request (all within the log's origin). */
export const MAX_REDIRECTS = 5;
/** RFC 9110 §15.4: the redirect statuses that carry a Location to follow. */
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Whether a response is a redirect to judge (a redirect status with a non-empty Location). */
export function isRedirect(status: number, location: string | undefined): location is string {
  return REDIRECT_STATUSES.has(status) && location !== undefined && location !== '';
}

/** A redirect target for a message: no credentials, controls escaped, bounded length. */
function describeLocation(location: string, base: string): string {
  try {
    const u = new URL(location, base);
    u.username = '';
    u.password = '';
    return sanitizeText(u.href, { maxLength: 200 });
  } catch {
    return sanitizeText(JSON.stringify(location), { maxLength: 200 });
  }
}

/**
 * Pure: where redirect number `count` (from `current`, for a request first sent to `original`) may
 * lead: only to the origin (scheme, host, port) of `original`, without credentials, at most
 * `MAX_REDIRECTS` times. Returns the target without its fragment, or why it is refused.
 */
export function redirectTarget(
  original: string,
  current: string,
  location: string,
  count: number,
): { href: string } | { refused: string } {
  let target: URL;
  try {
    target = new URL(location, current);
  } catch {
    return { refused: `redirected to an unparsable Location ${describeLocation(location, current)}` };
  }
  const origin = new URL(original).origin;
  if (target.origin !== origin || target.username !== '' || target.password !== '') {
    return {
      refused: `redirected to ${describeLocation(location, current)}, outside the log's origin ${origin}: refused`,
    };
  }
  if (count > MAX_REDIRECTS) return { refused: `more than ${MAX_REDIRECTS} redirects` };
  target.hash = '';
  return { href: target.href };
}
