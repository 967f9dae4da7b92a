/**
 * @module server/metrics
 * Prometheus `/metrics` (prom-client): the monitor's state as gauges and counters.
 */
import type { Hono } from 'hono';
import type { AppEnv, ServerDeps } from '../types.js';

export function registerMetrics(app: Hono<AppEnv>, deps: ServerDeps): void {
  void app;
  void deps;
}
