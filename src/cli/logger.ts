/**
 * @module cli/logger
 * Logs go to stderr (results go to stdout), as structured JSON lines from pino.
 */
import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

export function makeLogger(level: string = process.env.CERTVIGIL_LOG_LEVEL ?? 'warn'): Logger {
  return pino({ name: 'certvigil', level }, pino.destination({ fd: 2, sync: true }));
}
