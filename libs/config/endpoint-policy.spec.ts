import { AddressPolicy, endpointUrlProblem } from './endpoint-policy';
import { loadConfig } from './load';

const DEFAULT = new AddressPolicy([], ['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128']);

describe('AddressPolicy', () => {
  it.each([
    ['169.254.169.254', false],
    ['169.254.0.1', false],
    ['::ffff:169.254.169.254', false],
    ['::ffff:a9fe:a9fe', false],
    ['fe80::1', false],
    ['FE80::abcd', false],
    ['fd00:ec2::254', false],
    ['127.0.0.1', true],
    ['::1', true],
    ['10.1.2.3', true],
    ['fd00:ec2::253', true],
    ['not-an-ip', false],
  ])('by default, %s allowed: %p', (address, allowed) => {
    expect(DEFAULT.allows(address)).toBe(allowed);
  });

  it('with an allow list, only those networks (and deny still wins)', () => {
    const policy = new AddressPolicy(['10.0.0.0/8', '::1'], ['10.9.0.0/16']);
    expect(policy.allows('10.1.1.1')).toBe(true);
    expect(policy.allows('::1')).toBe(true);
    expect(policy.allows('10.9.1.1')).toBe(false);
    expect(policy.allows('127.0.0.1')).toBe(false);
    expect(policy.allows('::ffff:10.1.1.1')).toBe(true);
  });
});

describe('endpointUrlProblem', () => {
  it.each([
    ['http://user:pass@127.0.0.1:9000', /user:password@/],
    ['http://user@127.0.0.1:9000', /user:password@/],
    ['http://169.254.169.254/', /not allowed/],
    ['http://[fe80::1]:9000', /not allowed/],
    ['http://[::ffff:169.254.169.254]/', /not allowed/],
    ['http://[fd00:ec2::254]/', /not allowed/],
    ['not a url', /URL/],
  ])('refuses %s', (url, pattern) => {
    expect(endpointUrlProblem(url, DEFAULT)).toMatch(pattern);
  });

  it.each(['http://127.0.0.1:9000', 'https://s3.example.com', 'http://localhost:9000/base', 'http://[::1]:9000'])(
    'accepts %s (names are checked when they resolve)',
    (url) => expect(endpointUrlProblem(url, DEFAULT)).toBeUndefined(),
  );
});

describe('config: backend_endpoints and YAML backends', () => {
  const problem = (overrides: Record<string, unknown>) => {
    try {
      loadConfig({ overrides });
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  };

  it('has the documented defaults', () => {
    expect(loadConfig({ overrides: {} }).backend_endpoints).toEqual({
      allow_networks: [],
      deny_networks: ['169.254.0.0/16', 'fe80::/10', 'fd00:ec2::254/128'],
    });
  });

  it('refuses credentials in a YAML backend endpoint, naming the key and never the value', () => {
    const message = problem({ backends: [{ id: 'a', endpoint: 'http://minio:hunter2@127.0.0.1:9000' }] });
    expect(message).toMatch(/backends\[0\]\.endpoint: must not contain user:password@/);
    expect(message).not.toContain('hunter2');
  });

  it('refuses a YAML backend whose address the policy denies', () => {
    expect(problem({ backends: [{ id: 'a', endpoint: 'http://169.254.169.254' }] })).toMatch(
      /backends\[0\]\.endpoint: .*backend_endpoints/,
    );
    expect(
      problem({
        backend_endpoints: { deny_networks: ['127.0.0.0/8'] },
        backends: [{ id: 'a', endpoint: 'http://127.0.0.1:9' }],
      }),
    ).toMatch(/backends\[0\]\.endpoint/);
  });

  it('refuses a malformed network', () => {
    expect(problem({ backend_endpoints: { deny_networks: ['169.254.0.0/99'] } })).toMatch(
      /backend_endpoints\.deny_networks: must be a list of IP addresses or CIDR ranges/,
    );
  });
});
