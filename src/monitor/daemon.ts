/**
 * @module monitor/daemon
 * The monitor as a service: one independent loop per log, each with its own schedule and backoff
 * (and, through `httpFor`, its own concurrency, rate limit and per-request timeouts), each
 * committing on its own; a supervisor that re-reads the log list and the inventory once per
 * interval; and the outbox drained as commits come in. A stuck or failing log delays no other log
 * and no alert (certspotter #108 #111 #121: one slow log held everything up).
 *
 * The log list is loaded through the injected `loadLogList`; when it fails the last good list is
 * kept, and the logs it names keep being read.
 */
import type { LogInfo } from '../ct/index.js';
import { sanitizeText } from '../sanitize.js';
import { attemptLog, OutboxDrainer, preparePass } from './monitor.js';
import type { CycleDeps, CycleResult, PassContext } from './monitor.js';
import type { SyncResult } from './sync-log.js';
import type { WatchList } from './watchlist.js';

export interface DaemonSettings {
  watch: WatchList;
  startAtEnd: boolean;
  /** Time between two attempts on a log that went well, and between supervisor passes. */
  intervalMs: number;
}

export interface DaemonDeps extends CycleDeps {
  /** The logs to monitor now (the CLI: the configured list, filtered). Failures keep the last list. */
  loadLogList(): Promise<LogInfo[]>;
  /** Current settings: read again at every pass, so a reload (SIGHUP) takes effect at once. */
  settings(): DaemonSettings;
  /** Outbox tick (default 5 s): failed deliveries are retried, and nothing waits for a commit. */
  drainEveryMs?: number;
  random?: () => number;
  /** Before each pass. */
  beforePass?: () => Promise<void>;
  /**
   * Before each attempt on a log (the CLI re-reads the watch list there when its file changed):
   * an entry is matched against the watch list as it was when its log was read, not a pass ago.
   */
  beforeAttempt?: () => Promise<void>;
  /** After each pass: the latest result of every log, the inventory, deliveries since the last pass. */
  onPass?: (result: CycleResult, waiting: readonly LogInfo[]) => void;
}

/**
 * Delay before the next attempt on a log. After a success: the interval. After a failure:
 * exponential backoff from 5 s (doubling per consecutive failure, capped at max(interval, 10 min)),
 * with jitter (half to all of it) so that logs of one operator do not retry in step; never shorter
 * than what the log asked for (Retry-After of a 429/503, RFC 9110 §10.2.3).
 */
export function nextDelayMs(
  result: Pick<SyncResult, 'status' | 'retryAfterMs'>,
  failures: number,
  intervalMs: number,
  random: () => number = Math.random,
): number {
  if (result.status === 'ok') return intervalMs;
  const cap = Math.max(intervalMs, 600_000);
  const base = Math.min(cap, 5_000 * 2 ** Math.max(0, Math.min(failures - 1, 20)));
  // Evidence or our own failure: retry on the normal schedule (the rewound log is read again then).
  const backoff = result.status === 'unreachable' ? base / 2 + (random() * base) / 2 : intervalMs;
  return Math.max(backoff, result.retryAfterMs ?? 0);
}

/** Sleeps `ms`, or less if `wake` fires or `signal` aborts. */
function sleep(ms: number, signal: AbortSignal, wake: EventTarget): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      wake.removeEventListener('wake', done);
      resolve();
    };
    // Bounded by parseDuration (≤ 2^31 − 1 ms): a larger value would fire at once.
    const timer = setTimeout(done, Math.min(ms, 2 ** 31 - 1));
    signal.addEventListener('abort', done);
    wake.addEventListener('wake', done);
  });
}

interface Worker {
  log: LogInfo;
  stop: AbortController;
  done: Promise<void>;
  /** Last attempt's result (for tests and the pass heartbeat). */
  last: SyncResult | null;
  /** Attempts completed; `attempted` fires after each. */
  attempts: number;
  attempted: EventTarget;
}

export class MonitorDaemon {
  private readonly workers = new Map<string, Worker>();
  private readonly wake = new EventTarget();
  private pass: PassContext | null = null;
  private logs: LogInfo[] = [];
  private drainer: OutboxDrainer | null = null;
  private reported = { delivered: 0, failed: 0, skipped: 0 };
  private generation = 0;

  constructor(private readonly deps: DaemonDeps) {}

  /** SIGHUP: the settings were replaced; run a pass now and let every idle log try again. */
  reload(): void {
    // A loop busy at this moment misses the event: it sees the generation change instead.
    this.generation++;
    this.wake.dispatchEvent(new Event('wake'));
  }

  /** The logs currently monitored. */
  monitored(): readonly LogInfo[] {
    return this.logs;
  }

  /** Attempts made per log ID (tests, benchmarks). */
  attempts(): Map<string, number> {
    return new Map([...this.workers].map(([id, w]) => [id, w.attempts]));
  }

  /** Runs until `signal` aborts; then lets each log finish its current commit, drains, returns. */
  async run(signal: AbortSignal): Promise<void> {
    const { deps } = this;
    const drainer = new OutboxDrainer(deps, () => this.pass?.known ?? null);
    this.drainer = drainer;
    drainer.start(deps.drainEveryMs ?? 5_000);
    try {
      while (!signal.aborted) {
        const generation = this.generation;
        await this.supervise(signal);
        drainer.wake();
        if (signal.aborted) break;
        if (generation === this.generation) await sleep(deps.settings().intervalMs, signal, this.wake);
      }
    } finally {
      for (const w of this.workers.values()) w.stop.abort(new Error('stopping'));
      await Promise.all([...this.workers.values()].map((w) => w.done));
      drainer.stop();
      await drainer.flush();
    }
  }

  /** One supervisor pass: log list (last good on failure), inventory, workers, heartbeat. */
  private async supervise(signal: AbortSignal): Promise<void> {
    const { deps } = this;
    await deps
      .beforePass?.()
      .catch((err: unknown) =>
        deps.logger.warn({}, sanitizeText((err as Error).message, { maxLength: 500 })),
      );
    try {
      this.logs = await deps.loadLogList();
    } catch (err) {
      deps.logger.warn(
        { logs: this.logs.length },
        `log list not reloaded, keeping the last one: ${sanitizeText((err as Error).message, { maxLength: 500 })}`,
      );
    }
    try {
      this.pass = await preparePass(deps, this.logs, deps.settings().watch);
    } catch (err) {
      // The store or the scanner failed: keep the last pass (and say why, with the stack).
      deps.logger.error(
        { stack: (err as Error).stack ?? null },
        `cannot refresh the inventory: ${sanitizeText((err as Error).message)}`,
      );
      if (this.pass === null) throw err;
    }
    const wanted = new Set(this.logs.map((l) => l.logId));
    for (const [id, w] of this.workers) {
      if (!wanted.has(id)) {
        w.stop.abort(new Error('log no longer in the list'));
        this.workers.delete(id);
      }
    }
    for (const log of this.logs) {
      const w = this.workers.get(log.logId);
      // A log whose URL or key changed in the list is restarted with the new entry.
      if (w && w.log.url === log.url && Buffer.compare(Buffer.from(w.log.key), Buffer.from(log.key)) === 0) {
        w.log = log;
        continue;
      }
      w?.stop.abort(new Error('log changed in the list'));
      // The new loop starts once the old one has finished its commit: one writer per log.
      this.workers.set(log.logId, this.startWorker(log, signal, w?.done));
    }
    // A pass ends when every log finished one more attempt, or after one interval: a stuck log
    // shows in the pass's results, it does not hold the pass (nor anything else) up.
    await this.nextAttempts(deps.settings().intervalMs, signal);
    const delivered = this.drainer?.total ?? { delivered: 0, failed: 0, skipped: 0 };
    const workers = [...this.workers.values()];
    deps.onPass?.(
      {
        logs: workers.flatMap((w) => (w.last ? [{ log: w.log, result: w.last }] : [])),
        inventory: this.pass?.inventory ?? null,
        delivery: {
          delivered: delivered.delivered - this.reported.delivered,
          failed: delivered.failed - this.reported.failed,
          skipped: delivered.skipped - this.reported.skipped,
        },
      },
      workers.filter((w) => w.last === null).map((w) => w.log),
    );
    this.reported = { ...delivered };
    await deps
      .onCycle?.()
      .catch((err: unknown) =>
        deps.logger.error(
          { stack: (err as Error).stack ?? null },
          `heartbeat failed: ${(err as Error).message}`,
        ),
      );
  }

  /** Resolves when every worker completed one more attempt, after `timeoutMs`, or on abort. */
  private nextAttempts(timeoutMs: number, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const cleanups: (() => void)[] = [];
      let left = this.workers.size;
      const done = (): void => {
        clearTimeout(timer);
        for (const c of cleanups) c();
        resolve();
      };
      const timer = setTimeout(done, Math.min(timeoutMs, 2 ** 31 - 1));
      const on = (target: EventTarget, type: string, fn: () => void): void => {
        target.addEventListener(type, fn);
        cleanups.push(() => target.removeEventListener(type, fn));
      };
      on(signal, 'abort', done);
      if (left === 0) return done();
      for (const w of this.workers.values()) {
        let counted = false;
        const one = (): void => {
          if (counted) return;
          counted = true;
          if (--left === 0) done();
        };
        on(w.attempted, 'attempt', one);
        on(w.stop.signal, 'abort', one);
      }
    });
  }

  private startWorker(log: LogInfo, signal: AbortSignal, after?: Promise<void>): Worker {
    const stop = new AbortController();
    const onAbort = (): void => stop.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    const worker: Worker = {
      log,
      stop,
      done: Promise.resolve(),
      last: null,
      attempts: 0,
      attempted: new EventTarget(),
    };
    worker.done = (async () => {
      await after;
      let failures = 0;
      while (!stop.signal.aborted) {
        const pass = this.pass;
        if (pass === null) break;
        const generation = this.generation;
        await this.deps.beforeAttempt?.().catch(() => undefined);
        const settings = this.deps.settings();
        const result = await attemptLog(
          this.deps,
          { ...pass, watch: settings.watch, alertContext: { ...pass.alertContext, watch: settings.watch } },
          worker.log,
          {
            startAtEnd: settings.startAtEnd,
            signal: stop.signal,
            onCommit: () => this.drainer?.wake(),
          },
        );
        worker.last = result;
        worker.attempts++;
        worker.attempted.dispatchEvent(new Event('attempt'));
        failures = result.status === 'ok' ? 0 : failures + 1;
        if (stop.signal.aborted) break;
        if (generation !== this.generation) continue; // reloaded meanwhile: try again now
        await sleep(
          nextDelayMs(result, failures, settings.intervalMs, this.deps.random),
          stop.signal,
          this.wake,
        );
      }
      signal.removeEventListener('abort', onAbort);
    })();
    return worker;
  }
}
