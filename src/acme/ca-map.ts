/**
 * @module acme/ca-map
 * ACME directory URL → the CA's CAA issuer domain, from each CA's published CAA guidance:
 * Let's Encrypt https://letsencrypt.org/docs/caa/ ("letsencrypt.org"), Google Trust Services
 * https://pki.goog/faq/ ("pki.goog"), ZeroSSL/Sectigo https://help.zerossl.com ("sectigo.com"),
 * Buypass https://www.buypass.com/ssl/resources/go-ssl-technical-specification ("buypass.com"),
 * SSL.com https://www.ssl.com/how-to/configure-caa-records-to-authorize-ssl-com/ ("ssl.com"),
 * DigiCert https://docs.digicert.com ("digicert.com").
 */
const HOST_SUFFIXES: readonly [string, string][] = [
  ['api.letsencrypt.org', 'letsencrypt.org'],
  ['pki.goog', 'pki.goog'],
  ['acme.zerossl.com', 'sectigo.com'],
  ['acme.sectigo.com', 'sectigo.com'],
  ['buypass.com', 'buypass.com'],
  ['acme.ssl.com', 'ssl.com'],
  ['acme.digicert.com', 'digicert.com'],
];

/** The CAA issuer domain for an ACME directory or account URL, or null when not known. */
export function issuerForUrl(url: string | null | undefined): string | null {
  if (!url) return null;
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return null;
  }
  for (const [suffix, issuer] of HOST_SUFFIXES)
    if (host === suffix || host.endsWith(`.${suffix}`)) return issuer;
  return null;
}
