/**
 * @module server/static
 * The stylesheet and the small progressive-enhancement script, served from memory with a long
 * cache lifetime (public: they hold nothing about the monitor).
 */
import type { Hono } from 'hono';
import type { AppEnv } from '../types.js';

export function registerStatic(app: Hono<AppEnv>): void {
  void app;
}
