import { RefusalError } from './refusal-error';

describe('RefusalError', () => {
  it('carries its message and no stack frames, and leaves the stack limit as it was', () => {
    const limit = Error.stackTraceLimit;
    const error = new RefusalError('no');
    expect(error.message).toBe('no');
    expect(error).toBeInstanceOf(Error);
    expect(error.stack?.split('\n').filter((line) => line.trim().startsWith('at '))).toEqual([]);
    expect(Error.stackTraceLimit).toBe(limit);
  });
});
