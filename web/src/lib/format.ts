const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${UNITS[i]}`;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatDate(iso: string | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : dateFormat.format(d);
}

/** The last segment of a key or prefix ("a/b/c.txt" → "c.txt", "a/b/" → "b"). */
export function baseName(key: string): string {
  const parts = key.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? key;
}

export type PreviewKind = 'image' | 'text' | 'pdf' | 'audio' | 'video' | 'none';

const TEXT_EXT = /\.(txt|md|csv|tsv|json|ya?ml|xml|html?|css|js|ts|tsx|jsx|log|ini|toml|conf|sh|py|go|rs|java|c|h|cpp|sql)$/i;

export function previewKind(key: string, contentType = ''): PreviewKind {
  const type = contentType.toLowerCase();
  if (type.startsWith('image/') || /\.(png|jpe?g|gif|webp|avif|bmp|ico)$/i.test(key)) return 'image';
  if (type === 'application/pdf' || /\.pdf$/i.test(key)) return 'pdf';
  if (type.startsWith('audio/') || /\.(mp3|wav|ogg|oga|flac|m4a)$/i.test(key)) return 'audio';
  if (type.startsWith('video/') || /\.(mp4|webm|ogv|mov)$/i.test(key)) return 'video';
  if (type.startsWith('text/') || type === 'application/json' || TEXT_EXT.test(key)) return 'text';
  return 'none';
}
