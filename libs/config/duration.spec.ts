import { formatDuration, parseDuration } from './duration';
import { parseListen } from './listen';

describe('parseDuration', () => {
  it.each([
    ['10s', 10_000],
    ['15m', 900_000],
    ['8h', 28_800_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['1.5s', 1500],
    ['-1s', -1000],
    ['0', 0],
    [42, 42],
  ])('%p is %p ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', '10', 'ten seconds', '5d', '1h 30m', 'h', null, {}, Number.NaN])('refuses %p', (input) => {
    expect(parseDuration(input)).toBeUndefined();
  });

  it('formats back', () => {
    expect(formatDuration(28_800_000)).toBe('8h');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(1500)).toBe('1500ms');
  });
});

describe('parseListen', () => {
  it.each([
    [':8080', { host: '0.0.0.0', port: 8080 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['[::1]:9000', { host: '::1', port: 9000 }],
    ['localhost:80', { host: 'localhost', port: 80 }],
  ])('%p', (input, expected) => {
    expect(parseListen(input)).toEqual(expected);
  });

  it.each(['', '8080', ':99999', 'host:', 'a b:80'])('refuses %p', (input) => {
    expect(parseListen(input)).toBeUndefined();
  });
});
