import type { BucketScope } from './access.types';
import { keyInScope, scopeOf, scopesProblem } from './scopes';

const ns = (backendId: string, prefix: string): BucketScope => ({ backendId, bucket: prefix, namespace: true });
const bucket = (backendId: string, name: string, keyPrefix?: string): BucketScope =>
  keyPrefix === undefined ? { backendId, bucket: name } : { backendId, bucket: name, keyPrefix };

describe('credential scopes', () => {
  const scopes = [ns('local', 'team-a-'), bucket('ceph', 'shared', 'home/alice/'), bucket('local', 'assets')];

  it('a namespace covers longer names after its hyphen, never its own stem or a sibling', () => {
    expect(scopeOf(scopes, 'team-a-x')?.backendId).toBe('local');
    expect(scopeOf(scopes, 'team-a-x.y-z')?.namespace).toBe(true);
    for (const name of ['team-a', 'team-ab', 'team-a-', 'team-', 'xteam-a-x', 'TEAM-A-X']) {
      expect(scopeOf(scopes, name)).toBeUndefined();
    }
  });

  it('an exact bucket and a key-prefix bucket match only their own name', () => {
    expect(scopeOf(scopes, 'assets')).toEqual(bucket('local', 'assets'));
    expect(scopeOf(scopes, 'assets2')).toBeUndefined();
    const shared = scopeOf(scopes, 'shared') as BucketScope;
    expect(keyInScope(shared, 'home/alice/x')).toBe(true);
    expect(keyInScope(shared, 'home/alice2/x')).toBe(false);
    expect(keyInScope(shared, 'home/alice')).toBe(false);
    expect(keyInScope(shared, 'home/bob/x')).toBe(false);
  });

  it('accepts well-formed, disjoint scopes', () => {
    expect(scopesProblem(scopes)).toBeUndefined();
    expect(scopesProblem([ns('local', 'team-a-'), ns('ceph', 'team-b-')])).toBeUndefined();
  });

  it.each([
    ['overlapping namespaces across backends', [ns('local', 'team-'), ns('ceph', 'team-a-')]],
    ['the same namespace on two backends', [ns('local', 'team-a-'), ns('ceph', 'team-a-')]],
    ['a bucket inside a namespace on another backend', [ns('local', 'team-a-'), bucket('ceph', 'team-a-x')]],
    ['a bucket inside a namespace on the same backend', [ns('local', 'team-a-'), bucket('local', 'team-a-x')]],
    ['a key prefix inside a namespace', [ns('local', 'team-a-'), bucket('local', 'team-a-x', 'k/')]],
  ])('refuses %s', (_name, list) => {
    expect(scopesProblem(list)).toMatchObject({ field: 'scope' });
  });

  it.each([
    ['team-a', 'no trailing hyphen'],
    ['Team-a-', 'upper case'],
    ['-a-', 'leading hyphen'],
    ['a..b-', 'two dots'],
    ['a.-', 'dot next to hyphen'],
    ['xn--', 'reserved prefix'],
    ['xn-', 'start of a reserved prefix'],
    ['a/b-', 'slash'],
    ['a%2e-', 'percent'],
    ['a\u0000-', 'NUL'],
    ['a'.repeat(60) + '-', 'too long'],
  ])('refuses the bucket prefix %j (%s)', (prefix) => {
    expect(scopesProblem([ns('local', prefix)])).toMatchObject({ field: 'name' });
  });

  it.each([
    ['home/alice', 'no trailing slash'],
    ['../home/', 'dot segment'],
    ['home/./', 'single dot segment'],
    ['/home/', 'leading slash'],
    ['home\u0000/', 'NUL'],
    ['home\\..\\x/', 'backslash'],
    ['', 'empty'],
    ['a'.repeat(600) + '/', 'too long'],
  ])('refuses the key prefix %j (%s)', (prefix) => {
    expect(scopesProblem([bucket('local', 'shared', prefix)])).toMatchObject({ field: 'scope' });
  });

  it('refuses a namespace with a key prefix', () => {
    expect(scopesProblem([{ ...ns('local', 'team-a-'), keyPrefix: 'x/' }])).toMatchObject({ field: 'scope' });
  });
});
