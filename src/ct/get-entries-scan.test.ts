import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scanGetEntries } from './get-entries-scan.js';
import { parseGetEntriesJson } from './sth.js';
import type { RawEntryJson } from './sth.js';

const body = (text: string): Uint8Array => Buffer.from(text, 'utf8');
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const view = (entries: RawEntryJson[] | undefined): unknown =>
  entries?.map((e) => ({ index: e.index, leaf: b64(e.leafInput), extra: b64(e.extraData) }));

/** The general path's answer: the entries, or the refusal. */
function general(bytes: Uint8Array, start: number): unknown {
  try {
    return view(
      parseGetEntriesJson(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)), start),
    );
  } catch {
    return 'refused';
  }
}

const canonical = (items: [Uint8Array, Uint8Array][]): string =>
  `{"entries":[${items.map(([l, e]) => `{"leaf_input":"${b64(l)}","extra_data":"${b64(e)}"}`).join(',')}]}`;

describe('scanGetEntries', () => {
  it('reads the canonical form, numbered from start, as the general path does', () => {
    const text = canonical([
      [Uint8Array.of(0, 1, 2), Uint8Array.of(9)],
      [Uint8Array.of(), Uint8Array.of(7, 7)],
    ]);
    expect(view(scanGetEntries(body(text), 40))).toEqual(general(body(text), 40));
    expect(scanGetEntries(body(text), 40)?.length).toBe(2);
    expect(scanGetEntries(body('{"entries":[]}'), 0)).toEqual([]);
    expect(scanGetEntries(body('{"entries":[]}\n'), 0)).toEqual([]);
  });

  it.each([
    ['whitespace inside', '{ "entries":[]}'],
    ['other key order', '{"entries":[{"extra_data":"AA==","leaf_input":"AA=="}]}'],
    ['an extra field', '{"entries":[{"leaf_input":"AA==","extra_data":"AA==","x":1}]}'],
    ['an escape inside base64', '{"entries":[{"leaf_input":"A\\u0041==","extra_data":"AA=="}]}'],
    ['an escaped slash', '{"entries":[{"leaf_input":"l\\/8=","extra_data":"AA=="}]}'],
    ['bad base64', '{"entries":[{"leaf_input":"bogus","extra_data":"AA=="}]}'],
    ['a trailing comma', '{"entries":[{"leaf_input":"AA==","extra_data":"AA=="},]}'],
    ['trailing garbage', '{"entries":[]}x'],
    ['truncated', '{"entries":[{"leaf_input":"AA==","extra_data":"AA=='],
    ['a BOM', '\ufeff{"entries":[]}'],
    ['another top-level field', '{"entries":[],"more":true}'],
    ['empty', ''],
  ])('leaves %s to the general path', (_name, text) => {
    expect(scanGetEntries(body(text), 0)).toBeUndefined();
  });

  it('property: canonical bodies are always read, with the general path’s result', () => {
    const item = fc.tuple(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }));
    fc.assert(
      fc.property(fc.array(item, { maxLength: 8 }), fc.nat(1e6), (items, start) => {
        const bytes = body(canonical(items));
        const got = scanGetEntries(bytes, start);
        expect(got).toBeDefined();
        expect(view(got)).toEqual(general(bytes, start));
      }),
    );
  });

  it('property: on any mutation it answers only what the general path answers', () => {
    const item = fc.tuple(fc.uint8Array({ maxLength: 12 }), fc.uint8Array({ maxLength: 12 }));
    const mutated = fc
      .tuple(
        fc.array(item, { maxLength: 3 }),
        fc.array(
          fc.tuple(
            fc.nat(),
            fc.constantFrom(
              '"',
              '\\',
              ',',
              ' ',
              '\n',
              '{',
              '}',
              '[',
              ']',
              'A',
              '=',
              '-',
              '\u00e9',
              '\u0000',
              '',
            ),
            fc.boolean(),
          ),
          { minLength: 1, maxLength: 3 },
        ),
      )
      .map(([items, edits]) => {
        let text = canonical(items);
        for (const [at, c, insert] of edits) {
          const i = at % (text.length + 1);
          text = insert ? text.slice(0, i) + c + text.slice(i) : text.slice(0, i) + c + text.slice(i + 1);
        }
        return text;
      });
    fc.assert(
      fc.property(mutated, (text) => {
        const bytes = body(text);
        const got = scanGetEntries(bytes, 5);
        if (got !== undefined) expect(view(got)).toEqual(general(bytes, 5));
      }),
      { numRuns: 20_000 },
    );
  });
});
