/**
 * Just enough MIME (RFC 5322, RFC 2045-2047) to read back what the tests sent: unfolded headers
 * with RFC 2047 encoded-words decoded, nested multipart bodies, base64 and quoted-printable parts,
 * the text/plain body and the attachments. Not a general mail parser: no RFC 2231 parameter
 * continuations, no message/rfc822 recursion, and only UTF-8, US-ASCII and ISO-8859-1 charsets,
 * which is everything nodemailer produces for our mails. Pure functions, no I/O.
 */

export interface MimeHeaders {
  /** First value of a header (case-insensitive name), decoded, or undefined. */
  get(name: string): string | undefined;
  /** Every value of a header, in order. */
  all(name: string): string[];
}

export interface MimePart {
  headers: MimeHeaders;
  /** `type/subtype`, lower-cased; `text/plain` when absent (RFC 2045 §5.2). */
  contentType: string;
  params: Record<string, string>;
  /** The decoded body bytes (leaf parts); empty for multiparts. */
  body: Buffer;
  children: MimePart[];
}

export interface ParsedMessage {
  headers: MimeHeaders;
  /** Subject, From, To as decoded text; '' when the header is absent. */
  subject: string;
  from: string;
  to: string;
  messageId: string | undefined;
  /** The first text/plain part that is not an attachment, decoded to a string. */
  text: string | undefined;
  attachments: { filename: string | undefined; contentType: string; content: Buffer }[];
  root: MimePart;
}

/** RFC 2047 §2: `=?charset?B|Q?text?=`; whitespace between two encoded-words is dropped (§6.2). */
export function decodeEncodedWords(value: string): string {
  const decoded = value.replace(/\?=\s+=\?/g, '?==?');
  return decoded.replace(
    /=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g,
    (whole, charset: string, enc: string, text: string) => {
      const bytes =
        enc.toUpperCase() === 'B'
          ? Buffer.from(text, 'base64')
          : Buffer.from(
              text
                .replace(/_/g, ' ')
                .replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))),
              'latin1',
            );
      return decodeCharset(bytes, charset) ?? whole;
    },
  );
}

function decodeCharset(bytes: Buffer, charset: string): string | undefined {
  const cs = charset.toLowerCase().replace(/\*.*$/, ''); // RFC 2231 language suffix
  if (cs === 'utf-8' || cs === 'utf8' || cs === 'us-ascii') return bytes.toString('utf8');
  if (cs === 'iso-8859-1' || cs === 'latin1') return bytes.toString('latin1');
  return undefined;
}

function parseHeaders(block: string): MimeHeaders {
  const map = new Map<string, string[]>();
  // RFC 5322 §2.2.3: a line starting with white space continues the previous header.
  const unfolded = block.replace(/\n[ \t]+/g, ' ');
  for (const line of unfolded.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = decodeEncodedWords(line.slice(colon + 1).trim());
    map.set(name, [...(map.get(name) ?? []), value]);
  }
  return {
    get: (name) => map.get(name.toLowerCase())?.[0],
    all: (name) => map.get(name.toLowerCase()) ?? [],
  };
}

/** `text/plain; charset="utf-8"; name=x.pem` → type and lower-cased parameter names. */
function parseParams(value: string | undefined): { value: string; params: Record<string, string> } {
  if (value === undefined) return { value: '', params: {} };
  const [head = '', ...rest] = value.split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    const key = p.slice(0, eq).trim().toLowerCase();
    let v = p.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    params[key] = v;
  }
  return { value: head.trim().toLowerCase(), params };
}

/** RFC 2045 §6.7: `=XX` octets, `=` at line end is a soft break. */
function decodeQuotedPrintable(text: string): Buffer {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const c = joined[i] as string;
    const hex = joined.slice(i + 1, i + 3);
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      for (const b of Buffer.from(c, 'latin1')) bytes.push(b);
    }
  }
  return Buffer.from(bytes);
}

function decodeBody(raw: string, encoding: string | undefined): Buffer {
  switch ((encoding ?? '7bit').toLowerCase().trim()) {
    case 'base64':
      return Buffer.from(raw.replace(/\s+/g, ''), 'base64');
    case 'quoted-printable':
      return decodeQuotedPrintable(raw);
    default:
      return Buffer.from(raw, 'latin1');
  }
}

/** Splits `text` (LF line ends, latin1 so bytes survive) into a MIME entity. */
function parsePart(text: string): MimePart {
  const split = text.indexOf('\n\n');
  const headerBlock = split < 0 ? text : text.slice(0, split);
  const bodyText = split < 0 ? '' : text.slice(split + 2);
  const headers = parseHeaders(headerBlock);
  const ct = parseParams(headers.get('content-type'));
  const contentType = ct.value === '' ? 'text/plain' : ct.value;
  const boundary = ct.params.boundary;
  if (contentType.startsWith('multipart/') && boundary !== undefined) {
    const children: MimePart[] = [];
    // RFC 2046 §5.1.1: parts are separated by lines "--boundary", the last one "--boundary--".
    const lines = bodyText.split('\n');
    let current: string[] | undefined;
    for (const line of lines) {
      const trimmed = line.trimEnd();
      if (trimmed === `--${boundary}` || trimmed === `--${boundary}--`) {
        if (current !== undefined) children.push(parsePart(current.join('\n')));
        if (trimmed === `--${boundary}--`) break; // the epilogue after it is ignored
        current = [];
      } else if (current !== undefined) {
        current.push(line);
      }
    }
    return { headers, contentType, params: ct.params, body: Buffer.alloc(0), children };
  }
  // The line break before a boundary belongs to the boundary (RFC 2046 §5.1.1), not the body.
  return {
    headers,
    contentType,
    params: ct.params,
    body: decodeBody(bodyText, headers.get('content-transfer-encoding')),
    children: [],
  };
}

function leaves(part: MimePart): MimePart[] {
  return part.children.length === 0 ? [part] : part.children.flatMap(leaves);
}

/** Parses a whole message (CRLF or LF line ends, any bytes). */
export function parseMessage(raw: Buffer | string): ParsedMessage {
  const text = (typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw)
    .toString('latin1')
    .replace(/\r\n/g, '\n');
  const root = parsePart(text);
  let body: string | undefined;
  const attachments: ParsedMessage['attachments'] = [];
  for (const leaf of leaves(root)) {
    const disposition = parseParams(leaf.headers.get('content-disposition'));
    const filename = disposition.params.filename ?? leaf.params.name;
    const isAttachment = disposition.value === 'attachment' || filename !== undefined;
    if (!isAttachment && leaf.contentType === 'text/plain' && body === undefined) {
      body = decodeCharset(leaf.body, leaf.params.charset ?? 'us-ascii') ?? leaf.body.toString('utf8');
    } else {
      attachments.push({ filename, contentType: leaf.contentType, content: leaf.body });
    }
  }
  return {
    headers: root.headers,
    subject: root.headers.get('subject') ?? '',
    from: root.headers.get('from') ?? '',
    to: root.headers.get('to') ?? '',
    messageId: root.headers.get('message-id'),
    text: body,
    attachments,
    root,
  };
}
