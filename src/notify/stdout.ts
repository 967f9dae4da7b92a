/**
 * @module notify/stdout
 * Alerts on stdout. Not a terminal (a supervisor, `jq`, a log shipper): one JSON object per event
 * and line (the `eventJson` form). A terminal: a readable block per alert (notify/terminal.ts),
 * since base64 DER in a JSON line is no way to tell a person about a certificate.
 * The write is awaited: a closed pipe (EPIPE) rejects instead of losing the alert.
 */
import type { Writable } from 'node:stream';
import { NotifyError } from './errors.js';
import { eventJson, safeStringify } from './format.js';
import { formatTerminal } from './terminal.js';
import type { MonitorEvent, Notifier } from './types.js';

export interface StdoutNotifierOptions {
  /** Where the lines go; default `process.stdout`. */
  stream?: Writable;
  /** `auto` (default): `text` when the stream is a terminal, else `json`. */
  format?: 'auto' | 'json' | 'text';
}

export function createStdoutNotifier(options: StdoutNotifierOptions = {}): Notifier {
  const stream = options.stream ?? process.stdout;
  const format = options.format ?? 'auto';
  const text = format === 'text' || (format === 'auto' && (stream as { isTTY?: boolean }).isTTY === true);
  return {
    name: 'stdout',
    send(event: MonitorEvent): Promise<void> {
      // eventJson sanitises every string (U+202E too, which JSON leaves as is); JSON.stringify then
      // keeps one event on one line.
      const line = text ? formatTerminal(event) : `${safeStringify(eventJson(event))}\n`;
      return new Promise<void>((resolve, reject) => {
        stream.write(line, (err) => {
          if (err) reject(new NotifyError('NOTIFY_FAILED', 'stdout', err.message, { cause: err }));
          else resolve();
        });
      });
    },
  };
}
