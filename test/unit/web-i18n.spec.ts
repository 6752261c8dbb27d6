import { t } from '../../web/src/i18n';

/** The dashboard's message catalogue: placeholders, plural forms and numbers. */

describe('t', () => {
  it('picks the plural form by count', () => {
    expect(t('buckets.objects', { count: 1 })).toBe('1 object');
    expect(t('buckets.objects', { count: 0 })).toBe('0 objects');
    expect(t('buckets.objects', { count: 2 })).toBe('2 objects');
    expect(t('browser.folderSizeValue', { size: '2.0 KiB', count: 1 })).toBe('2.0 KiB in 1 object');
    expect(t('upload.total', { done: 0, count: 1, percent: 40 })).toBe('0 of 1 file · 40%');
    expect(t('copy.title', { count: 3 })).toBe('Copy or move 3 items');
  });

  it('writes numbers the catalogue language\'s way, and strings as given', () => {
    expect(t('browser.count', { count: 10_000 })).toBe('10,000 items');
    expect(t('audit.total', { count: 1234567 })).toBe('Matching events: 1,234,567');
    expect(t('common.confirmDelete', { name: '1000' })).toBe('Delete 1000? This cannot be undone.');
  });

  it('keeps an unknown placeholder visible and takes hostile values as plain text', () => {
    expect(t('common.confirmDelete')).toBe('Delete {name}? This cannot be undone.');
    expect(t('common.confirmDelete', { name: '{name} $& <b>' })).toBe('Delete {name} $& <b>? This cannot be undone.');
  });

  it.each([Number.NaN, -1, 1.5, Number.MAX_SAFE_INTEGER, Infinity])('falls back to a form for a strange count (%p)', (count) => {
    expect(t('buckets.objects', { count })).toMatch(/ objects?$/);
  });
});
