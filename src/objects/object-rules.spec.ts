import { mediaTypeProblem } from './object-rules';

describe('mediaTypeProblem', () => {
  it.each([
    'text/plain',
    'text/plain; charset=utf-8',
    'application/json;charset="utf-8"',
    'multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW',
    'image/svg+xml',
    'application/vnd.ms-excel',
    'text/plain; x="a \\" b"',
  ])('accepts %j', (value) => {
    expect(mediaTypeProblem(value)).toBeUndefined();
  });

  it.each([
    ['a TAB in a quoted value', 'text/plain; x="a\tb"'],
    ['NUL', 'text/plain\u0000'],
    ['CR LF', 'text/plain\r\nX-Injected: 1'],
    ['DEL', 'text/pl\u007fain'],
    ['no subtype', 'text'],
    ['an empty subtype', 'text/'],
    ['a space in the type', 'text /plain'],
    ['a parameter without a value', 'text/plain; charset'],
    ['an unterminated quote', 'text/plain; x="abc'],
    ['non-ASCII', 'text/plaïn'],
    ['more than 255 characters', `text/${'a'.repeat(300)}`],
    ['empty', ''],
  ])('refuses %s', (_what, value) => {
    expect(mediaTypeProblem(value)).toEqual(expect.any(String));
  });
});
