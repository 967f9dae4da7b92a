/**
 * @module cli/commands/iodef-flags
 * Checks of the `certvigil iodef` flags and input files: each bad value is a usage error
 * with one line naming the flag, raised before anything is looked up, opened or created. Outside
 * text echoed in a message goes through `sanitizeText`.
 */
import { readFile, stat } from 'node:fs/promises';
import net from 'node:net';
import { CertvigilError } from '../../errors.js';
import { isSafeText, sanitizeText } from '../../sanitize.js';

/**
 * `HOST:PORT` or `[V6]:PORT`: HOST an IPv4 address or a host name, V6 an IPv6 address, PORT
 * 1–65535. `[::1` (no closing bracket), `:99999` and `host:0` are refused.
 */
export function parseListen(text: string, flag = '--listen'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([A-Za-z0-9._-]+)):(\d{1,5})$/.exec(text.trim());
  const port = Number(m?.[3]);
  const v6 = m?.[1];
  const name = m?.[2];
  const hostOk =
    (v6 !== undefined && net.isIPv6(v6)) ||
    (name !== undefined && (net.isIPv4(name) || (!/^[\d.]+$/.test(name) && isHostName(name))));
  if (!m || !hostOk || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new CertvigilError(
      'USAGE',
      `${flag} wants HOST:PORT or [IPv6]:PORT with a port 1-65535 (got ${JSON.stringify(sanitizeText(text, { maxLength: 60 }))})`,
    );
  return { host: v6 ?? name ?? '', port };
}

/** A DNS host name in LDH syntax (RFC 1123 §2.1), without a trailing dot. */
export function isHostName(name: string): boolean {
  if (name.length > 253) return false;
  return name
    .split('.')
    .every((l) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l) || /^[A-Za-z0-9]$/.test(l));
}

/** A short free-text flag (names, opt-out entries): no controls or bidi characters, bounded. */
export function textArg(value: string, flag: string, max: number): string {
  const v = value.trim();
  if (v === '' || v.length > max || !isSafeText(v))
    throw new CertvigilError(
      'USAGE',
      `${flag} must be 1-${max} printable characters (got ${JSON.stringify(sanitizeText(value, { maxLength: 60 }))})`,
    );
  return v;
}

/**
 * Reads a text input file of a flag, refusing with one line what cannot be meant: missing, a
 * directory, empty, larger than `maxBytes`, binary (NUL or invalid UTF-8), or, for `pem`, without
 * a PEM block.
 */
export async function readInputFile(
  path: string,
  flag: string,
  options: { pem?: boolean; maxBytes?: number } = {},
): Promise<string> {
  const maxBytes = options.maxBytes ?? 1024 * 1024;
  const shown = JSON.stringify(sanitizeText(path, { maxLength: 200 }));
  const info = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw new CertvigilError(
      'USAGE',
      `${flag} ${shown}: ${e.code === 'ENOENT' ? 'no such file' : (e.code ?? 'cannot read')}`,
    );
  });
  if (info.isDirectory()) throw new CertvigilError('USAGE', `${flag} ${shown} is a directory, not a file`);
  if (!info.isFile()) throw new CertvigilError('USAGE', `${flag} ${shown} is not a regular file`);
  if (info.size === 0) throw new CertvigilError('USAGE', `${flag} ${shown} is empty`);
  if (info.size > maxBytes) throw new CertvigilError('USAGE', `${flag} ${shown} is over ${maxBytes} bytes`);
  const bytes = await readFile(path).catch((e: NodeJS.ErrnoException) => {
    throw new CertvigilError('USAGE', `${flag} ${shown}: ${e.code ?? 'cannot read'}`);
  });
  let text: string;
  try {
    if (bytes.includes(0)) throw new Error('NUL');
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CertvigilError('USAGE', `${flag} ${shown} is binary, not a text (PEM) file`);
  }
  if (options.pem === true && !/-----BEGIN [A-Z0-9 ]+-----/.test(text))
    throw new CertvigilError('USAGE', `${flag} ${shown} holds no PEM block (-----BEGIN …-----)`);
  return text;
}
