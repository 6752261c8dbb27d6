import { jsonDepthExceeds } from './json-body';

describe('jsonDepthExceeds', () => {
  const deep = (n: number) => Buffer.from(`${'['.repeat(n)}${']'.repeat(n)}`);

  it('counts arrays and objects up to the limit', () => {
    expect(jsonDepthExceeds(deep(64), 64)).toBe(false);
    expect(jsonDepthExceeds(deep(65), 64)).toBe(true);
    expect(jsonDepthExceeds(Buffer.from('{"a":{"b":[{"c":1}]}}'), 4)).toBe(false);
    expect(jsonDepthExceeds(Buffer.from('{"a":{"b":[{"c":1}]}}'), 3)).toBe(true);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonDepthExceeds(Buffer.from(JSON.stringify({ a: '[[[[{{{{', b: 'say \\"[[[["' })), 1)).toBe(false);
    expect(jsonDepthExceeds(Buffer.from('["\\\\", [[]]]'), 2)).toBe(true);
  });

  it('measures depth, not the number of brackets', () => {
    expect(jsonDepthExceeds(Buffer.from(JSON.stringify(Array.from({ length: 10_000 }, () => [{}]))), 3)).toBe(false);
  });
});
