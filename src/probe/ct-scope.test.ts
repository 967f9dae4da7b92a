import { describe, expect, it } from 'vitest';
import { ctScope, ctScopeNote } from './ct-scope.js';
import type { CtScopeInput } from './ct-scope.js';

const ROOT = 'aa'.repeat(32);
const PRIVATE = 'bb'.repeat(32);
const LEAF = 'cc'.repeat(32);
const base: CtScopeInput = {
  off: false,
  requireCt: false,
  customAnchors: true,
  chainSha256: [LEAF, PRIVATE],
  publicRoots: new Set([ROOT]),
};

describe('ctScope', () => {
  it.each([
    ['off wins over everything', { off: true, requireCt: true, customAnchors: false }, 'off'],
    ['system store: public', { customAnchors: false }, 'public'],
    [
      'system store, chain not validated: still judged as public',
      { customAnchors: false, chainSha256: [] },
      'public',
    ],
    ['--ca-file, chain ends at a private anchor: private', {}, 'private'],
    ['--ca-file, chain ends at a public root: public', { chainSha256: [LEAF, ROOT] }, 'public'],
    ['--ca-file, private anchor, --require-ct: public', { requireCt: true }, 'public'],
    ['--ca-file, no handshake: private', { chainSha256: [] }, 'private'],
  ] as const)('%s', (_, change, expected) => {
    expect(ctScope({ ...base, ...change })).toBe(expected);
  });

  it('says why CT is not checked', () => {
    expect(ctScopeNote('private', 'policy-none')).toMatch(/^private CA: CT not required/);
    expect(ctScopeNote('off', 'min-scts-0')).toBe('CT checks off (--min-scts 0)');
    expect(ctScopeNote('off', 'policy-none')).toBe('CT checks off (--ct-policy none)');
    expect(ctScopeNote('public', 'policy-none')).toBeNull();
  });
});
