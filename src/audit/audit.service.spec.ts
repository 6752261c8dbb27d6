import { idsByPosition } from './audit.service';

describe('idsByPosition: which audit row id is whose', () => {
  it('places each id by the position of its event, whatever order the rows come back in', () => {
    expect(
      idsByPosition(
        [
          { id: '12', n: '3' },
          { id: '10', n: '1' },
          { id: '11', n: 2 },
        ],
        3,
      ),
    ).toEqual(['10', '11', '12']);
  });

  it('keeps bigint ids as text, past what a number holds exactly', () => {
    expect(idsByPosition([{ id: '9007199254740993', n: '1' }], 1)).toEqual(['9007199254740993']);
  });

  it('throws rather than hand out a missing id', () => {
    expect(() => idsByPosition([{ id: '1', n: '1' }], 2)).toThrow(/row 2 of 2/);
    expect(() => idsByPosition([], 1)).toThrow();
  });
});
