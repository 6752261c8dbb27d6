export type PreviewKind = 'image' | 'video' | 'audio' | 'pdf' | 'text' | 'none';

const extensionOf = (key: string) => {
  const name = key.split('/').pop() ?? '';
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
};

const baseType = (contentType: string | undefined) => (contentType ?? '').split(';')[0].trim().toLowerCase();

/** Types that run script when a browser renders them: always served as attachments. */
export function isActiveContent(contentType: string | undefined, key: string): boolean {
  const type = baseType(contentType);
  if (['text/html', 'image/svg+xml', 'application/xhtml+xml', 'application/xml', 'text/xml'].includes(type))
    return true;
  return ['html', 'htm', 'svg', 'xhtml', 'xml'].includes(extensionOf(key));
}

const BY_EXTENSION: Record<string, PreviewKind> = {
  png: 'image',
  jpg: 'image',
  jpeg: 'image',
  gif: 'image',
  webp: 'image',
  avif: 'image',
  bmp: 'image',
  mp4: 'video',
  webm: 'video',
  mov: 'video',
  m4v: 'video',
  mp3: 'audio',
  wav: 'audio',
  ogg: 'audio',
  flac: 'audio',
  m4a: 'audio',
  pdf: 'pdf',
  txt: 'text',
  md: 'text',
  csv: 'text',
  tsv: 'text',
  json: 'text',
  yaml: 'text',
  yml: 'text',
  log: 'text',
};

/** How the recipient page may preview an object: by content type, else by extension. */
export function previewKind(contentType: string | undefined, key: string): PreviewKind {
  if (isActiveContent(contentType, key)) return 'none';
  const type = baseType(contentType);
  if (type.startsWith('image/')) return 'image';
  if (type.startsWith('video/')) return 'video';
  if (type.startsWith('audio/')) return 'audio';
  if (type === 'application/pdf') return 'pdf';
  if (type.startsWith('text/') || ['application/json', 'application/yaml', 'application/x-yaml'].includes(type))
    return 'text';
  return BY_EXTENSION[extensionOf(key)] ?? 'none';
}
