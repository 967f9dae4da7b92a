/**
 * @module notify/stdout
 * One JSON object per event and line on stdout (the `eventJson` form), for a supervisor, `jq`, or a
 * log shipper. The write is awaited: a closed pipe (EPIPE) rejects instead of losing the alert.
 */
import type { Writable } from 'node:stream';
import { NotifyError } from './errors.js';
import { eventJson, safeStringify } from './format.js';
import type { MonitorEvent, Notifier } from './types.js';

export interface StdoutNotifierOptions {
  /** Where the lines go; default `process.stdout`. */
  stream?: Writable;
}

export function createStdoutNotifier(options: StdoutNotifierOptions = {}): Notifier {
  const stream = options.stream ?? process.stdout;
  return {
    name: 'stdout',
    send(event: MonitorEvent): Promise<void> {
      // eventJson sanitises every string (U+202E too, which JSON leaves as is); JSON.stringify then
      // keeps one event on one line.
      const line = `${safeStringify(eventJson(event))}\n`;
      return new Promise<void>((resolve, reject) => {
        stream.write(line, (err) => {
          if (err) reject(new NotifyError('NOTIFY_FAILED', 'stdout', err.message, { cause: err }));
          else resolve();
        });
      });
    },
  };
}
