/**
 * @module server/api/domains
 * `GET /api/v1/domains`: each watched domain with its last CAA audit (`caa audit` JSON: grade and
 * findings, RFC 8659/8657); `POST /api/v1/domains/:domain/audit` (admin) audits one now. The
 * audits are also refreshed on a schedule (`startAuditSchedule`), a few at a time; a failure is
 * logged and the previous result kept, and never stops the server.
 */
import type { Hono } from 'hono';
import { sanitizeText } from '../../sanitize.js';
import type { Store } from '../../store/index.js';
import { requireRole } from '../auth/middleware.js';
import type { AppEnv, ServerDeps, ServerLogger } from '../types.js';
import { ApiInputError, domainParam, inputErrorResponse } from './params.js';
import { safe } from './views.js';

/** Default time between scheduled audits of every watched domain. */
export const AUDIT_INTERVAL_MS = 6 * 3_600_000;
/** Audits running at once: each asks every name server of the zone directly. */
export const AUDIT_CONCURRENCY = 4;

type Auditor = Required<Pick<ServerDeps, 'auditDomain'>>['auditDomain'];

/** The domains the watch list names (A-labels, lower case), deduplicated; `[]` without a watch list. */
async function watched(deps: Pick<ServerDeps, 'watchedDomains'>): Promise<string[] | null> {
  if (deps.watchedDomains === undefined) return null;
  return [...new Set((await deps.watchedDomains()).map((d) => d.toLowerCase()))].sort();
}

/**
 * One audit, stored (replacing the last). Concurrent requests for the same domain share one run:
 * an impatient admin clicking twice does not query every name server twice.
 */
function auditRunner(store: Store, audit: Auditor, now: () => Date) {
  const running = new Map<string, Promise<{ domain: string; checkedAt: string; audit: unknown }>>();
  return (domain: string) => {
    let run = running.get(domain);
    if (run === undefined) {
      run = (async () => {
        const result = await audit(domain);
        const checkedAt = now().toISOString();
        await store.putDomainAudit({ domain, resultJson: JSON.stringify(result), checkedAt });
        return { domain, checkedAt, audit: result };
      })().finally(() => running.delete(domain));
      running.set(domain, run);
    }
    return run;
  };
}

function parseAudit(json: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return null;
  }
}

export function registerDomainsApi(app: Hono<AppEnv>, deps: ServerDeps): void {
  const now = deps.now ?? (() => new Date());
  const run = deps.auditDomain ? auditRunner(deps.store, deps.auditDomain, now) : null;

  app.get('/api/v1/domains', async (c) => {
    const names = await watched(deps);
    const audits = new Map((await deps.store.listDomainAudits()).map((a) => [a.domain, a]));
    const all = [...new Set([...(names ?? []), ...audits.keys()])].sort();
    const domains = all.map((domain) => {
      const a = audits.get(domain);
      return {
        domain,
        watched: names?.includes(domain) ?? false,
        checkedAt: a?.checkedAt ?? null,
        audit: a ? parseAudit(a.resultJson) : null,
      };
    });
    // The audit quotes DNS answers (name server names, record values): sanitised.
    return c.json({
      watchListConfigured: names !== null,
      auditConfigured: run !== null,
      domains: safe(domains),
    });
  });

  app.post('/api/v1/domains/:domain/audit', requireRole('admin'), async (c) => {
    try {
      const domain = domainParam(c.req.param('domain'), 'domain') ?? '';
      if (run === null)
        return c.json(
          { error: 'CAA audits are not configured on this server (start it with --config)' },
          503,
        );
      const names = await watched(deps);
      // Only watched domains: the API does not send DNS queries for any name a caller likes.
      if (names !== null && !names.includes(domain))
        throw new ApiInputError(`${domain} is not a watched domain`, 404);
      return c.json(safe(await run(domain)));
    } catch (err) {
      return inputErrorResponse(err);
    }
  });
}

export interface AuditSchedule {
  /** One pass over every watched domain now (the scheduled passes call it too). */
  runOnce(): Promise<{ audited: number; failed: number }>;
  /** Stops the timer and waits for a running pass. */
  stop(): Promise<void>;
}

/**
 * Audits every watched domain at start and then every `intervalMs`, `concurrency` at a time. A
 * pass never overlaps the previous one; an audit that throws is logged (sanitised) and skipped.
 */
export function startAuditSchedule(options: {
  store: Store;
  logger: ServerLogger;
  watchedDomains: () => Promise<string[]>;
  auditDomain: Auditor;
  intervalMs?: number;
  concurrency?: number;
  now?: () => Date;
}): AuditSchedule {
  const run = auditRunner(options.store, options.auditDomain, options.now ?? (() => new Date()));
  const concurrency = Math.max(1, options.concurrency ?? AUDIT_CONCURRENCY);
  let current: Promise<{ audited: number; failed: number }> | null = null;
  let stopped = false;

  const pass = async (): Promise<{ audited: number; failed: number }> => {
    let domains: string[];
    try {
      domains = (await watched(options)) ?? [];
    } catch (err) {
      options.logger.warn(
        { err: sanitizeText((err as Error).message) },
        'CAA audit: watch list not readable',
      );
      return { audited: 0, failed: 1 };
    }
    let next = 0;
    let audited = 0;
    let failed = 0;
    const worker = async (): Promise<void> => {
      while (!stopped && next < domains.length) {
        const domain = domains[next++] as string;
        try {
          await run(domain);
          audited++;
        } catch (err) {
          failed++;
          options.logger.warn(
            { domain, err: sanitizeText((err as Error).message ?? String(err), { maxLength: 500 }) },
            'CAA audit failed; the last result is kept',
          );
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, domains.length) }, worker));
    options.logger.info({ audited, failed }, 'CAA audits refreshed');
    return { audited, failed };
  };
  const runOnce = (): Promise<{ audited: number; failed: number }> =>
    (current ??= pass().finally(() => {
      current = null;
    }));
  const timer = setInterval(() => void runOnce(), options.intervalMs ?? AUDIT_INTERVAL_MS);
  timer.unref();
  void runOnce();
  return {
    runOnce,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await current?.catch(() => undefined);
    },
  };
}
