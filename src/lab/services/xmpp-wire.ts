/**
 * @module lab/services/xmpp-wire
 * The little of RFC 6120 (XMPP core) the lab's XMPP server and the interceptor speak, as pure
 * functions over text: scanning the peer's stream header and top-level elements, and the server's
 * replies. A tolerant scanner, not an XML parser (the same choice as src/probe/starttls/xmpp.ts on
 * the client side): the lab only needs the stream header, `<starttls/>` and `</stream:stream>`.
 */

export const NS_STREAMS = 'http://etherx.jabber.org/streams';
export const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
export const NS_STREAM_ERRORS = 'urn:ietf:params:xml:ns:xmpp-streams';

/** What the scanner found at the start of the unread text. */
export type Scan =
  | { kind: 'need-more' }
  | { kind: 'header'; to: string | undefined; consumed: number }
  | { kind: 'starttls'; consumed: number }
  | { kind: 'close'; consumed: number }
  | { kind: 'element'; name: string; consumed: number }
  | { kind: 'bad'; reason: string };

/** Index of the first `>` outside quoted attribute values at or after `from`, or -1. */
function tagEnd(text: string, from: number): number {
  let quote: string | null = null;
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (quote !== null) {
      if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '>') return i;
  }
  return -1;
}

function attribute(attrs: string, name: string): string | undefined {
  const match = new RegExp(`(?:^|\\s)${name}\\s*=\\s*(?:'([^']*)'|"([^"]*)")`).exec(attrs);
  return match === null ? undefined : (match[1] ?? match[2]);
}

const SPACE = /^\s*/;

/**
 * RFC 6120 §4.2 and §4.7: the initiating entity opens with an optional XML declaration and the
 * `<stream:stream>` start tag (namespace http://etherx.jabber.org/streams, version '1.0').
 * Anything else first (an HTTP request, a TLS ClientHello) is `bad`: the caller answers with a
 * `not-well-formed` stream error (§4.9.3.13) and closes.
 */
export function scanStreamHeader(text: string): Scan {
  let at = SPACE.exec(text)?.[0].length ?? 0;
  if (text.startsWith('<?', at)) {
    const end = text.indexOf('?>', at);
    if (end < 0) return 'xml'.startsWith(text.slice(at + 2, at + 5)) ? { kind: 'need-more' } : bad(text, at);
    if (!text.startsWith('<?xml', at)) return bad(text, at);
    at = end + 2;
    at += SPACE.exec(text.slice(at))?.[0].length ?? 0;
  }
  const rest = text.slice(at);
  if (rest.length === 0) return { kind: 'need-more' };
  const open = /^<([\w.-]+):stream(?=[\s>])/.exec(rest);
  if (open === null) {
    // Still a possible prefix of "<stream:stream " (a header split over packets)?
    return /^<[\w.-]*(?::[\w.-]*)?$/.test(rest) && rest.length < 64 ? { kind: 'need-more' } : bad(text, at);
  }
  const end = tagEnd(rest, open[0].length);
  if (end < 0) return { kind: 'need-more' };
  const attrs = rest.slice(open[0].length, end);
  if (attribute(attrs, `xmlns:${open[1]}`) !== NS_STREAMS)
    return { kind: 'bad', reason: 'stream header without the streams namespace' };
  return { kind: 'header', to: attribute(attrs, 'to'), consumed: at + end + 1 };
}

function bad(text: string, at: number): Scan {
  return { kind: 'bad', reason: `not an XMPP stream header: ${JSON.stringify(text.slice(at, at + 40))}` };
}

/**
 * The next top-level element inside an open stream: `<starttls/>` in the TLS namespace (RFC 6120
 * §5.4.2.1), the stream's close tag (§4.4), or any other element (only its start tag is consumed:
 * the caller answers every other element with a stream error and closes, so the rest never matters).
 */
export function scanElement(text: string): Scan {
  const at = SPACE.exec(text)?.[0].length ?? 0;
  const rest = text.slice(at);
  if (rest.length === 0) return { kind: 'need-more' };
  if (rest[0] !== '<') return { kind: 'bad', reason: 'text where an element was expected' };
  const end = tagEnd(rest, 1);
  if (end < 0) return { kind: 'need-more' };
  const tag = rest.slice(0, end + 1);
  if (/^<\/[\w.-]+:stream\s*>$/.test(tag)) return { kind: 'close', consumed: at + end + 1 };
  const name = /^<([\w.:-]+)/.exec(tag)?.[1];
  if (name === undefined)
    return { kind: 'bad', reason: `not an element: ${JSON.stringify(tag.slice(0, 40))}` };
  if (name === 'starttls' && attribute(tag.slice(9), 'xmlns') === NS_TLS) {
    if (tag.endsWith('/>')) return { kind: 'starttls', consumed: at + end + 1 };
    // `<starttls xmlns='…'></starttls>`: wait for the end tag too.
    const close = /^\s*<\/starttls\s*>/.exec(rest.slice(end + 1));
    if (close !== null) return { kind: 'starttls', consumed: at + end + 1 + close[0].length };
    return rest.length - end - 1 < 16
      ? { kind: 'need-more' }
      : { kind: 'element', name, consumed: at + end + 1 };
  }
  return { kind: 'element', name, consumed: at + end + 1 };
}

function xmlAttr(value: string): string {
  return value.replace(/[&<>'"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** RFC 6120 §4.7: the responding entity's stream header (`from` = the service's domain, a fresh id). */
export function serverHeader(domain: string, id: string): string {
  return (
    `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='${NS_STREAMS}'` +
    ` id='${xmlAttr(id)}' from='${xmlAttr(domain)}' version='1.0' xml:lang='en'>`
  );
}

/**
 * RFC 6120 §5.3.1 and §4.3.2: before TLS, STARTTLS is the one feature and is mandatory. The
 * `<starttls xmlns='…'` spelling (single quotes, xmlns first) is what `openssl s_client -starttls
 * xmpp` searches for literally.
 */
export const FEATURES_STARTTLS = `<stream:features><starttls xmlns='${NS_TLS}'><required/></starttls></stream:features>`;

/**
 * After TLS (§5.4.3.3, the stream restart) the lab's server offers nothing more: a minimal stream
 * that a client can open and close. Real servers offer SASL here; the detectors never get that far.
 */
export const FEATURES_AFTER_TLS = '<stream:features/>';

/** §5.4.2.3: the go-ahead; the next bytes on the wire are the client's ClientHello. */
export const PROCEED = `<proceed xmlns='${NS_TLS}'/>`;

/** §4.9: a stream error closes the stream (and the caller closes the TCP connection). */
export function streamError(
  condition:
    | 'not-well-formed'
    | 'host-unknown'
    | 'policy-violation'
    | 'not-authorized'
    | 'connection-timeout'
    | 'remote-connection-failed',
): string {
  return `<stream:error><${condition} xmlns='${NS_STREAM_ERRORS}'/></stream:error></stream:stream>`;
}

export const STREAM_CLOSE = '</stream:stream>';
