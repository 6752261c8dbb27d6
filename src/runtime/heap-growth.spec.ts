import { tuneHeapGrowth } from './heap-growth';

jest.mock('node:v8', () => ({ ...jest.requireActual('node:v8'), setFlagsFromString: jest.fn() }));
const { setFlagsFromString } = jest.requireMock<{ setFlagsFromString: jest.Mock }>('node:v8');

describe('tuneHeapGrowth', () => {
  beforeEach(() => setFlagsFromString.mockClear());

  it('sets the heap growing factor when node was started without one', () => {
    expect(tuneHeapGrowth(['--enable-source-maps'])).toBe(true);
    expect(setFlagsFromString).toHaveBeenCalledWith('--heap-growing-percent=50');
  });

  it.each([['--heap-growing-percent=30'], ['--heap_growing_percent=30'], ['--heap-growing-percent']])(
    'leaves an operator’s own %s alone',
    (flag) => {
      expect(tuneHeapGrowth(['--trace-gc', flag])).toBe(false);
      expect(setFlagsFromString).not.toHaveBeenCalled();
    },
  );
});
