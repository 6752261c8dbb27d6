import { isActiveContent, previewKind } from './share-preview';

describe('share previews', () => {
  it.each([
    ['image/png', 'a.bin', 'image'],
    ['video/mp4', 'a', 'video'],
    ['audio/mpeg', 'a', 'audio'],
    ['application/pdf', 'a', 'pdf'],
    ['text/plain; charset=utf-8', 'a', 'text'],
    ['application/json', 'a', 'text'],
    [undefined, 'photos/cat.JPG', 'image'],
    ['application/octet-stream', 'notes.md', 'text'],
    ['application/octet-stream', 'archive.zip', 'none'],
    ['image/svg+xml', 'logo.svg', 'none'],
    ['text/html', 'index.html', 'none'],
    ['text/plain', 'page.html', 'none'],
  ])('%p with key %p previews as %p', (type, key, kind) => {
    expect(previewKind(type, key)).toBe(kind);
  });

  it('treats script-capable types and extensions as active content', () => {
    expect(isActiveContent('image/svg+xml', 'x')).toBe(true);
    expect(isActiveContent('Application/XHTML+XML; charset=utf-8', 'x')).toBe(true);
    expect(isActiveContent(undefined, 'dir/page.HTM')).toBe(true);
    expect(isActiveContent('text/plain', 'notes.txt')).toBe(false);
  });
});
