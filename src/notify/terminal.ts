/**
 * @module notify/terminal
 * The stdout sink's form for people: on a terminal an alert is a short block per
 * certificate — how bad and for which name, the names, issuer, validity, reasons, where it was
 * logged (log URL and index) and what to do — instead of a JSON line carrying base64 DER. Pure.
 * Every value from outside goes through the one sanitiser (`oneLine`).
 */
import { advice, formatText, oneLine, summaryLine } from './format.js';
import type { MonitorEvent } from './types.js';

const WIDTH = 13;
const label = (name: string, width = WIDTH): string => `  ${`${name}:`.padEnd(width)}`;
const indent = ' '.repeat(WIDTH + 2);

/** `name: a, b, c` on one line, at most `max` items then "+N more". */
function list(values: readonly string[], max = 10): string {
  if (values.length === 0) return '(none)';
  const shown = values.slice(0, max).map(oneLine).join(', ');
  return values.length > max ? `${shown} (+${values.length - max} more)` : shown;
}

function loggedAt(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/** One readable block for `event`, ending with a blank line. */
export function formatTerminal(event: MonitorEvent): string {
  if (event.type !== 'issuance') {
    // Non-certificate events are short already: the plain-text body without its blank-line padding.
    // (Its section titles such as "Log:" go too; its fields are aligned at 16.)
    const body = formatText(event)
      .split('\n')
      .slice(1)
      .filter((l) => l !== '' && !l.startsWith('Summary: ') && !/^[A-Z][a-z]*:$/.test(l));
    return `== ${summaryLine(event)}\n${body.join('\n')}\n${label('What to do', 16)}${oneLine(advice(event))}\n\n`;
  }
  const i = event.issuance;
  const lines = [
    `== ${summaryLine(event)}`,
    `${label('Names')}${list([...i.dnsNames, ...i.ipAddresses])}`,
    `${label('Issuer')}${oneLine(i.issuer)}`,
    `${label('Valid')}${oneLine(i.notBefore)} .. ${oneLine(i.notAfter)}`,
    `${label('Reasons')}${event.reasons.length === 0 ? '(none: known certificate)' : ''}`,
  ];
  if (event.reasons.length > 0) {
    lines.pop();
    event.reasons.forEach((r, n) =>
      lines.push(
        `${n === 0 ? label('Reasons') : indent}[${oneLine(r.severity)}] ${oneLine(r.code)}: ${oneLine(r.message)}`,
      ),
    );
  }
  i.entries.forEach((e, n) =>
    lines.push(
      `${n === 0 ? label('Logged in') : indent}${oneLine(e.log)} #${e.index} (${oneLine(e.type)}, ${loggedAt(e.timestamp)})`,
    ),
  );
  lines.push(
    `${label('Watching')}${list(event.watchItems)}`,
    `${label('TBS SHA-256')}${oneLine(i.tbsSha256)}`,
    `${label('What to do')}${oneLine(advice(event))}`,
  );
  return `${lines.join('\n')}\n\n`;
}
