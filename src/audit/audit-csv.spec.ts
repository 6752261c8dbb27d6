import { csvCell, csvFilename, csvRow } from './audit-csv';

describe('audit CSV', () => {
  it('neutralises cells a spreadsheet would evaluate', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r']) {
      expect(csvCell(`${start}cmd|' /C calc'!A0`).replace(/^"/, '').startsWith(`'${start}`)).toBe(true);
    }
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell('plain')).toBe('plain');
    // Numbers are ours, never a formula: a negative id would not occur, but stays a number.
    expect(csvCell(-1)).toBe('-1');
  });

  it('quotes commas, quotes and line breaks (RFC 4180)', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('cr\rhere')).toBe('"cr\rhere"');
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell('')).toBe('');
    expect(csvRow(['a', null, 3, 'x,y'])).toBe('a,,3,"x,y"\r\n');
  });

  it('names the file after its time range', () => {
    const from = new Date('2026-04-01T00:00:00.000Z');
    const to = new Date('2026-04-30T12:34:56.789Z');
    expect(csvFilename(from, to)).toBe('audit-20260401T000000Z-20260430T123456Z.csv');
    expect(csvFilename(undefined, to)).toBe('audit-start-20260430T123456Z.csv');
  });
});
