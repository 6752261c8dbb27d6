import { parseArgs } from './args';

describe('parseArgs', () => {
  it('takes the first positional word as the command and defaults to serve', () => {
    expect(parseArgs([]).command).toBe('serve');
    expect(parseArgs(['migrate', '--revert']).flags).toEqual({ revert: true });
  });

  it('reads values after a flag or after "="', () => {
    expect(parseArgs(['create-admin', '--username', 'ada', '--email=a@b.c']).flags).toEqual({
      username: 'ada',
      email: 'a@b.c',
    });
  });

  it('keeps a value that starts with "-" or holds "=" when written inline', () => {
    expect(parseArgs(['--password=-x=y']).flags.password).toBe('-x=y');
  });

  it('does not swallow the next flag as a value', () => {
    expect(parseArgs(['--password', '--must-change-password']).flags).toEqual({
      password: true,
      'must-change-password': true,
    });
  });
});
