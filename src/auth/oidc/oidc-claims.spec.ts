import { claimValues, mapRole, safeNextPath } from './oidc-claims';

describe('claimValues', () => {
  const claims = {
    groups: ['a', 'b', 7, null],
    role: 'ops',
    realm_access: { roles: ['x', 'y'] },
    deep: { a: { b: { c: 'z' } } },
    obj: { not: 'a list' },
  };

  it.each([
    ['groups', ['a', 'b']],
    ['role', ['ops']],
    ['realm_access.roles', ['x', 'y']],
    ['deep.a.b.c', ['z']],
    ['obj', []],
    ['missing', []],
    ['realm_access.missing', []],
    ['groups.0', []],
    ['', []],
    ['realm_access..roles', []],
    ['__proto__', []],
    ['constructor.name', []],
    ['a.b.c.d.e.f.g.h.i', []],
  ])('%s → %j', (path, expected) => {
    expect(claimValues(claims, path)).toEqual(expected);
  });
});

describe('mapRole', () => {
  const mapping = { admin: ['admins'], user: ['staff', 'eng'], readonly: ['everyone'] };

  it('tries admin, then user, then readonly', () => {
    expect(mapRole(['everyone', 'eng', 'admins'], mapping)).toBe('admin');
    expect(mapRole(['everyone', 'eng'], mapping)).toBe('user');
    expect(mapRole(['everyone'], mapping)).toBe('readonly');
  });

  it('gives nothing when no group matches (exact and case-sensitive)', () => {
    expect(mapRole([], mapping)).toBeUndefined();
    expect(mapRole(['Admins', 'admins '], mapping)).toBeUndefined();
    expect(mapRole(['admins'], {})).toBeUndefined();
  });
});

describe('safeNextPath', () => {
  it.each([
    ['/buckets/a?x=1#f', '/buckets/a?x=1#f'],
    ['/', '/'],
    [undefined, '/'],
    [42, '/'],
    ['', '/'],
    ['https://evil.example/', '/'],
    ['//evil.example/x', '/'],
    ['/\\evil.example', '/'],
    ['/%2Fevil.example', '/'],
    ['/%5Cevil.example', '/'],
    ['javascript:alert(1)', '/'],
    ['buckets', '/'],
    ['/a/../b', '/'],
    ['/a/%2e%2e/b', '/'],
    ['/a\u0000b', '/'],
    ['/a%00b', '/'],
    ['/a\r\nSet-Cookie: x', '/'],
    ['/%E0%A4%A', '/'],
    [`/${'a'.repeat(1100)}`, '/'],
  ])('%j → %j', (next, expected) => {
    expect(safeNextPath(next)).toBe(expected);
  });
});
