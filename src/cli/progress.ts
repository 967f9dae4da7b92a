/**
 * @module cli/progress
 * Progress for long work: a bar with rate and ETA on a terminal (stderr), periodic structured log
 * lines otherwise — so cron mails and journald get progress too, without control characters.
 */
import cliProgress from 'cli-progress';
import type { Logger } from './logger.js';

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

export function makeProgress(
  label: string,
  logger: Logger,
  opts: { intervalMs?: number; enabled?: boolean } = {},
): Progress {
  if (opts.enabled === false) return { update: () => undefined, stop: () => undefined };
  if (process.stderr.isTTY && !process.env.CI) {
    const bar = new cliProgress.SingleBar(
      {
        stream: process.stderr,
        format: `${label} [{bar}] {percentage}% | {value}/{total} entries | {rate} entries/s | ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: true,
        noTTYOutput: false,
      },
      cliProgress.Presets.shades_classic,
    );
    const started = Date.now();
    let running = false;
    return {
      update(done, total) {
        const rate = Math.round(done / Math.max(0.001, (Date.now() - started) / 1000));
        if (!running) {
          bar.start(total, done, { rate });
          running = true;
        } else bar.update(done, { rate });
        bar.setTotal(total);
      },
      stop() {
        if (running) bar.stop();
      },
    };
  }
  const interval = opts.intervalMs ?? 5000;
  const started = Date.now();
  let last = 0;
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < interval) return;
      last = now;
      const rate = done / Math.max(0.001, (now - started) / 1000);
      const eta = rate > 0 ? Math.round((total - done) / rate) : null;
      logger.info(
        { task: label, done, total, entriesPerSecond: Math.round(rate), etaSeconds: eta },
        'progress',
      );
    },
    stop: () => undefined,
  };
}
