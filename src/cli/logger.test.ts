import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isSafeText } from '../sanitize.js';
import { LOG_LEVELS, makeLogger, parseLogLevel, safeLogFields } from './logger.js';

/** A logger writing JSON lines into an array. */
function capture(): { lines: string[]; logger: ReturnType<typeof makeLogger> } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, logger: makeLogger('debug', { pretty: false, destination }) };
}

/** Top-level keys of a JSON object line in source order (JSON.parse hides duplicates). */
function topLevelKeys(line: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') {
      let j = i + 1;
      while (line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      if (depth === 1 && line[j + 1] === ':') keys.push(JSON.parse(line.slice(i, j + 1)) as string);
      i = j;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return keys;
}

const HOSTILE = 'CN=\u001b]0;owned\u0007\u001b[2J evil\u202etset.\r\n{"level":60,"msg":"forged"}\u2028x';

describe('makeLogger (JSON lines)', () => {
  it('one safe line for outside text in the message, format args, fields, nested values and errors', () => {
    const { lines, logger } = capture();
    const err = new Error(`bad body ${HOSTILE}`);
    logger.warn(
      { subject: HOSTILE, nested: { san: [HOSTILE] }, [HOSTILE]: 1, err },
      `certificate %s ${HOSTILE}`,
      HOSTILE,
    );
    logger.error(err);
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      // No raw control, bidi or separator character anywhere in the line.
      expect(isSafeText(line)).toBe(true);
      const parsed = JSON.parse(line) as Record<string, unknown>;
      expect(JSON.stringify(parsed)).not.toMatch(/\\u001b|\\r|\\n(?!\s+at )/);
    }
    const first = JSON.parse(lines[0] ?? '') as { msg: string; subject: string; err: { message: string } };
    expect(first.msg).toContain('\\x1B]0;owned\\x07');
    expect(first.msg).toContain('\\u202E');
    expect(first.subject).toContain('\\x0D\\x0A{"level":60');
    expect(first.err.message).toContain('\\u2028');
    const second = JSON.parse(lines[1] ?? '') as { msg: string; err: { stack: string } };
    expect(second.msg).toMatch(/^bad body CN=\\x1B/);
    // The stack keeps its own frames on lines, but the message inside it is flattened.
    expect(second.err.stack.split('\n')[0]).toContain('\\x0D\\x0A');
  });

  it('no duplicate keys: a caller logging `name`, `level`, `time`, `msg`, `pid`, `hostname` or `app`', () => {
    const { lines, logger } = capture();
    logger.info(
      { name: 'www.example.test', level: 'x', time: 1, msg: 'm', pid: 2, hostname: 'h', app: 'a', app_: 'b' },
      'hello',
    );
    const keys = topLevelKeys(lines[0] ?? '');
    expect(new Set(keys).size).toBe(keys.length);
    const parsed = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(parsed).toMatchObject({
      app: 'certvigil',
      name: 'www.example.test',
      level_: 'x',
      msg: 'hello',
      msg_: 'm',
      app_: 'a',
      app__: 'b',
    });
    expect(parsed.level).toBe(30);
  });

  it('safeLogFields renames reserved keys, sanitises keys and values', () => {
    expect(safeLogFields({ level: 1, 'a\u001bb': 'c\u202ed' })).toEqual({
      level_: 1,
      'a\\x1Bb': 'c\\u202Ed',
    });
  });
});

describe('parseLogLevel', () => {
  it.each(LOG_LEVELS.map((l) => [l]))('accepts %s', (level) => {
    expect(parseLogLevel(level)).toBe(level);
    expect(parseLogLevel(level.toUpperCase())).toBe(level);
  });
  it.each(['verbose', '', '10', 'warning', 'debug\u001b[2J'])('rejects %j with a usage error', (level) => {
    let error: unknown;
    try {
      parseLogLevel(level, '$CERTVIGIL_LOG_LEVEL');
    } catch (e) {
      error = e;
    }
    expect((error as { code?: string }).code).toBe('USAGE');
    expect((error as Error).message).toMatch(/^\$CERTVIGIL_LOG_LEVEL must be one of trace, debug/);
    expect(isSafeText((error as Error).message)).toBe(true);
  });
});
