import { MAX_BYTE_SIZE, parseByteSize } from './byte-size';

describe('parseByteSize', () => {
  it.each([
    [0, 0],
    [1024, 1024],
    ['1024', 1024],
    ['8Gi', 8 * 2 ** 30],
    ['8GiB', 8 * 2 ** 30],
    ['500Mi', 500 * 2 ** 20],
    ['1.5Ki', 1536],
    ['2k', 2000],
    ['1G', 1e9],
    ['1 GB', 1e9],
    [' 7 ', 7],
    [MAX_BYTE_SIZE, MAX_BYTE_SIZE],
  ])('reads %p as %p bytes', (input, bytes) => {
    expect(parseByteSize(input)).toEqual({ bytes });
  });

  it.each([
    -1,
    '-1',
    '-8Gi',
    1.5,
    '1.1',
    NaN,
    Infinity,
    MAX_BYTE_SIZE + 1,
    '9007199254740992',
    '99999999999999999999',
    '16Ei',
    '8Gx',
    '8 Gi B',
    '',
    '0x10',
    '1e9',
    '..',
    '1\u0000',
    null,
    true,
    {},
    [],
  ])('refuses %p', (input) => {
    expect(parseByteSize(input)).toHaveProperty('problem');
  });
});
