import { auditQuery, EMPTY_FILTERS } from '../../web/src/lib/audit';
import { fuzzyScore } from '../../web/src/lib/fuzzy';

/** Pure helpers of the dashboard's admin screens and command palette. */

describe('auditQuery', () => {
  it('leaves out empty filters and trims the others', () => {
    expect(auditQuery(EMPTY_FILTERS)).toEqual({});
    expect(auditQuery({ ...EMPTY_FILTERS, user: '  ada ', action: 'object.*', status: 'denied', bucket: ' ' })).toEqual({
      user: 'ada',
      action: 'object.*',
      status: 'denied',
    });
  });

  it('sends times as RFC 3339 in UTC and drops ones that are not dates', () => {
    const q = auditQuery({ ...EMPTY_FILTERS, from: '2026-03-01T08:30', to: 'not a date' });
    expect(q.from).toBe(new Date('2026-03-01T08:30').toISOString());
    expect(q.from).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(q).not.toHaveProperty('to');
  });

  it('passes hostile text through unchanged: the API refuses it with bad_request', () => {
    expect(auditQuery({ ...EMPTY_FILTERS, backend: '../x', user: 'a\u0000b' })).toEqual({ backend: '../x', user: 'a\u0000b' });
  });
});

describe('fuzzyScore', () => {
  it('ranks substrings by position, then characters in order, and refuses the rest', () => {
    expect(fuzzyScore('Backends', '')).toBe(1);
    expect(fuzzyScore('Backends', 'back')).toBe(100);
    expect(fuzzyScore('My backends', 'back')).toBe(97);
    expect(fuzzyScore('Backends', 'bkd')).toBe(10);
    expect(fuzzyScore('Backends', 'dkb')).toBe(0);
    expect(fuzzyScore('ARCHIVE', ' archive ')).toBe(100);
  });
});
