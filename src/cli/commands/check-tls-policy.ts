/**
 * @module cli/commands/check-tls-policy
 * The TLS protocol-policy settings of `check endpoint` (flags) and `check endpoints` (YAML keys):
 * `--require-no-tls1`, `--require-no-tls1_1` (check_ssl_cert's names), `--min-tls`,
 * `--weak-ciphers`. Parsed and bounded here; the probes and the verdicts are in
 * src/probe/tls-policy*.ts.
 */
import { z } from 'zod';
import { CertvigilError } from '../../errors.js';
import { MIN_TLS_VALUES, WEAK_CIPHER_MODES } from '../../probe/index.js';
import type { MinTls, TlsPolicySettings, WeakCipherMode } from '../../probe/index.js';
import { sanitizeText } from '../../sanitize.js';

export interface TlsPolicyFlags {
  requireNoTls1?: boolean;
  requireNoTls1_1?: boolean;
  minTls?: string;
  weakCiphers?: string;
}

/** YAML writes `minTls: 1.2` as a number and `1.0` as 1: both mean the version. */
const minTlsSchema = z.preprocess(
  (v) => (typeof v === 'number' ? v.toFixed(1) : v),
  z.enum(MIN_TLS_VALUES as unknown as [MinTls, ...MinTls[]]),
);

/** `weakCiphers: true` is `warning`, `false` is `off`. */
const weakCiphersSchema = z.preprocess(
  (v) => (v === true ? 'warning' : v === false ? 'off' : v),
  z.enum(WEAK_CIPHER_MODES as unknown as [WeakCipherMode, ...WeakCipherMode[]]),
);

/** Keys of a `check endpoints` entry (spread into its zod object). */
export const tlsPolicySpecShape = {
  requireNoTls1: z.boolean().optional(),
  requireNoTls1_1: z.boolean().optional(),
  minTls: minTlsSchema.optional(),
  weakCiphers: weakCiphersSchema.optional(),
};

export interface TlsPolicySpec {
  requireNoTls1?: boolean | undefined;
  requireNoTls1_1?: boolean | undefined;
  minTls?: MinTls | undefined;
  weakCiphers?: WeakCipherMode | undefined;
}

/** The spec keys the flags give (only those given), or a USAGE error. */
export function tlsPolicyFromFlags(flags: TlsPolicyFlags): TlsPolicySpec {
  const out: TlsPolicySpec = {};
  if (flags.requireNoTls1) out.requireNoTls1 = true;
  if (flags.requireNoTls1_1) out.requireNoTls1_1 = true;
  if (flags.minTls !== undefined) {
    const v = flags.minTls.trim().replace(/^(?:tls)?v?/i, '');
    if (!(MIN_TLS_VALUES as readonly string[]).includes(v))
      throw new CertvigilError(
        'USAGE',
        `--min-tls must be one of ${MIN_TLS_VALUES.join(', ')} (got "${sanitizeText(flags.minTls, { maxLength: 40 })}")`,
      );
    out.minTls = v as MinTls;
  }
  if (flags.weakCiphers !== undefined) {
    const v = flags.weakCiphers.trim().toLowerCase();
    if (!(WEAK_CIPHER_MODES as readonly string[]).includes(v))
      throw new CertvigilError(
        'USAGE',
        `--weak-ciphers must be ${WEAK_CIPHER_MODES.join(', ')} (got "${sanitizeText(v, { maxLength: 40 })}")`,
      );
    out.weakCiphers = v as WeakCipherMode;
  }
  return out;
}

/** The probe settings of a spec; undefined when it asks for nothing (no extra connection). */
export function tlsPolicyOf(spec: TlsPolicySpec): { tlsPolicy?: TlsPolicySettings } {
  const settings: TlsPolicySettings = {};
  if (spec.requireNoTls1) settings.requireNoTls1 = true;
  if (spec.requireNoTls1_1) settings.requireNoTls1_1 = true;
  if (spec.minTls !== undefined) settings.minTls = spec.minTls;
  if (spec.weakCiphers !== undefined && spec.weakCiphers !== 'off') settings.weakCiphers = spec.weakCiphers;
  return Object.keys(settings).length > 0 ? { tlsPolicy: settings } : {};
}
