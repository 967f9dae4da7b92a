/**
 * @module monitor/config
 * The monitor's configuration: a YAML file (`--config`) with command-line flags on top. Parsed
 * with zod at the edge, so the rest of the monitor sees one typed object.
 *
 * @example
 * # /etc/certvigil/config.yaml
 * stateDir: /var/lib/certvigil
 * watchlist: /etc/certvigil/watchlist      # certspotter syntax; or `names: [example.com, .example.org]`
 * inventory: [/etc/letsencrypt, /var/lib/caddy/.local/share/caddy]
 * alerts:
 *   email: { smtp: { host: localhost, port: 25 }, from: certvigil@example.com, to: [security@example.com] }
 *   exec: { command: /usr/local/bin/certspotter-hook }
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { CertvigilError } from '../errors.js';
import type { NotifyConfig } from '../notify/types.js';

const smtpSchema = z.object({
  host: z.string(),
  port: z.number().int().positive(),
  secure: z.boolean().optional(),
  user: z.string().optional(),
  password: z.string().optional(),
  rejectUnauthorized: z.boolean().optional(),
});

const alertsSchema = z
  .object({
    stdout: z.boolean().optional(),
    email: z.object({ smtp: smtpSchema, from: z.string(), to: z.array(z.string()).min(1) }).optional(),
    webhook: z
      .object({
        url: z.string().url(),
        headers: z.record(z.string(), z.string()).optional(),
        timeoutMs: z.number().optional(),
      })
      .optional(),
    exec: z.object({ command: z.string(), timeoutMs: z.number().optional() }).optional(),
  })
  .strict();

const fileSchema = z
  .object({
    stateDir: z.string().optional(),
    /** `postgres://…`: use PostgreSQL instead of the embedded SQLite file. */
    database: z.string().optional(),
    watchlist: z.string().optional(),
    names: z.array(z.string()).optional(),
    logList: z.string().optional(),
    /** Only these logs of the list (URL prefixes); default: every log whose state is usable/qualified/readonly/pending/unknown. */
    logs: z.array(z.string()).optional(),
    inventory: z.array(z.string()).optional(),
    alerts: alertsSchema.optional(),
    startAtEnd: z.boolean().optional(),
    intervalSeconds: z.number().int().positive().optional(),
    /** Resolver for the CAA heuristic (HOST:PORT); default /etc/resolv.conf. `false` turns the check off. */
    caaResolver: z.union([z.string(), z.literal(false)]).optional(),
    /** Extra issuer → CAA identifier mappings: keys match the issuer's O= or the whole issuer DN. */
    caaIssuers: z.record(z.string(), z.array(z.string())).optional(),
    concurrency: z.number().int().positive().optional(),
  })
  .strict();

export type ConfigFile = z.infer<typeof fileSchema>;

export interface MonitorConfig {
  stateDir: string;
  database: string | null;
  watchlistFile: string | null;
  names: string[];
  logList: string;
  logs: string[];
  inventory: string[];
  alerts: NotifyConfig;
  startAtEnd: boolean;
  intervalSeconds: number;
  caaResolver: string | false | null;
  caaIssuers: Record<string, string[]>;
  concurrency: number;
}

export async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new CertvigilError('CONFIG_INVALID', `cannot read config ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (cause) {
    throw new CertvigilError('CONFIG_INVALID', `${path} is not valid YAML: ${(cause as Error).message}`, {
      cause,
    });
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
    throw new CertvigilError('CONFIG_INVALID', `${path}: ${issues}`);
  }
  return parsed.data;
}

/** Flags win over the file; the file wins over defaults. */
export function resolveConfig(
  file: ConfigFile,
  flags: Partial<MonitorConfig>,
  defaults: { stateDir: string; logList: string },
): MonitorConfig {
  const pick = <K extends keyof MonitorConfig>(
    key: K,
    fromFile: MonitorConfig[K] | undefined,
    fallback: MonitorConfig[K],
  ): MonitorConfig[K] =>
    flags[key] !== undefined && !(Array.isArray(flags[key]) && (flags[key] as unknown[]).length === 0)
      ? (flags[key] as MonitorConfig[K])
      : (fromFile ?? fallback);
  return {
    stateDir: pick('stateDir', file.stateDir, defaults.stateDir),
    database: pick('database', file.database, null),
    watchlistFile: pick('watchlistFile', file.watchlist, null),
    names: pick('names', file.names, []),
    logList: pick('logList', file.logList, defaults.logList),
    logs: pick('logs', file.logs, []),
    inventory: pick('inventory', file.inventory, []),
    alerts: pick('alerts', file.alerts, {}),
    startAtEnd: pick('startAtEnd', file.startAtEnd, false),
    intervalSeconds: pick('intervalSeconds', file.intervalSeconds, 300),
    caaResolver: pick('caaResolver', file.caaResolver, null),
    caaIssuers: pick('caaIssuers', file.caaIssuers, {}),
    concurrency: pick('concurrency', file.concurrency, 4),
  };
}
