import { toStorableText, unstorableTextProblem } from './storable-text';

describe('text PostgreSQL can store', () => {
  it.each(['', 'plain', 'émoji 😀', '\u0001\t\r\n control characters other than NUL', '\ud83d\ude00'])(
    'accepts %p',
    (value) => expect(unstorableTextProblem(value)).toBeUndefined(),
  );

  it.each(['a\u0000b', '\u0000', 'lone high \ud800', 'lone low \udc00 x', '\ude00\ud83d'])('refuses %p', (value) =>
    expect(unstorableTextProblem(value)).toBeDefined(),
  );

  it('replaces what cannot be stored for audit and logs', () => {
    expect(toStorableText('a\u0000b\ud800c😀')).toBe('a\uFFFDb\uFFFDc😀');
  });
});
