/** Characters that make a spreadsheet read a cell as a formula (or hide its start). */
const FORMULA_START = new Set(['=', '+', '-', '@', '\t', '\r']);
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break, quotes doubled.
 * A value a spreadsheet would evaluate (`=`, `+`, `-`, `@`, tab, CR first) gets a leading `'`,
 * so an object key or user agent chosen by an attacker cannot run as a formula when an admin
 * opens the export.
 */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && text.length > 0 && FORMULA_START.has(text[0])) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV line, CRLF-terminated. */
export function csvRow(cells: ReadonlyArray<string | number | null | undefined>): string {
  return cells.map(csvCell).join(',') + '\r\n';
}

/** `20260401T000000Z`: a timestamp fit for a file name. */
export function fileStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/** The export's file name, naming its time range (`start` when it has no lower bound). */
export function csvFilename(from: Date | undefined, to: Date): string {
  return `audit-${from ? fileStamp(from) : 'start'}-${fileStamp(to)}.csv`;
}
