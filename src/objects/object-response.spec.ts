import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { ObjectStream } from '../storage-backends/backend';
import { contentDisposition, sendObject } from './object-response';

describe('contentDisposition', () => {
  it('names the file after the last segment, safely', () => {
    expect(contentDisposition('attachment', 'a/b/report.pdf')).toBe(
      `attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`,
    );
    expect(contentDisposition('inline', 'x/"ev\\il"\r\n.txt')).toMatch(
      /^inline; filename="_ev_il___.txt"; filename\*=UTF-8''%22ev%5Cil%22%0D%0A.txt$/,
    );
    expect(contentDisposition('attachment', 'über.txt')).toContain(`filename*=UTF-8''%C3%BCber.txt`);
  });
});

describe('sendObject', () => {
  /** Just enough of a Fastify reply to see what was written. */
  function fakeReply() {
    const written = { status: 200, headers: {} as Record<string, string>, sent: undefined as unknown, ended: false };
    const reply = {
      header(name: string, value: string) {
        written.headers[name] = value;
        return reply;
      },
      status(code: number) {
        written.status = code;
        return reply;
      },
      send(payload?: unknown) {
        written.sent = payload;
        written.ended = true;
        return reply;
      },
    };
    return { reply: reply as unknown as FastifyReply, written };
  }

  const object = (extra: Partial<ObjectStream> = {}): ObjectStream => ({
    body: Readable.from([Buffer.from('0123456789')]),
    contentLength: 10,
    info: {
      key: 'docs/a.txt',
      size: 10,
      etag: '"e"',
      lastModified: new Date('2026-01-02T03:04:05Z'),
      contentType: 'text/html',
    },
    ...extra,
  });
  const options = { key: 'docs/<script>.html', disposition: 'inline' as const, cacheControl: 'private, no-cache' };

  it('streams the body with its length, validators, disposition and the user-content policy', () => {
    const { reply, written } = fakeReply();
    const stream = object();
    sendObject(reply, stream, options);
    expect(written.status).toBe(200);
    expect(written.sent).toBe(stream.body);
    expect(written.headers).toMatchObject({
      ETag: '"e"',
      'Last-Modified': 'Fri, 02 Jan 2026 03:04:05 GMT',
      'Cache-Control': 'private, no-cache',
      'Content-Type': 'text/html',
      'Content-Length': '10',
      'Accept-Ranges': 'bytes',
      'Content-Disposition': contentDisposition('inline', options.key),
    });
    expect(written.headers['Content-Security-Policy']).toMatch(/^sandbox; default-src 'none'/);
    expect(written.headers['Content-Range']).toBeUndefined();
  });

  it('answers 206 with Content-Range for a ranged read', () => {
    const { reply, written } = fakeReply();
    sendObject(reply, object({ contentLength: 2, contentRange: 'bytes 0-1/10' }), options);
    expect(written.status).toBe(206);
    expect(written.headers).toMatchObject({ 'Content-Range': 'bytes 0-1/10', 'Content-Length': '2' });
  });

  it('answers 304 without a body, releasing the upstream stream', () => {
    const { reply, written } = fakeReply();
    const stream = object({ notModified: true, contentLength: 0 });
    sendObject(reply, stream, options);
    expect(written.status).toBe(304);
    expect(written.sent).toBeUndefined();
    expect(stream.body.destroyed).toBe(true);
    expect(written.headers['Content-Type']).toBeUndefined();
  });

  it('writes the headers of a HEAD without a body, releasing the upstream stream', () => {
    const { reply, written } = fakeReply();
    const stream = object();
    sendObject(reply, stream, { ...options, headOnly: true });
    expect(written.headers['Content-Length']).toBe('10');
    expect(written.sent).toBeUndefined();
    expect(written.ended).toBe(true);
    expect(stream.body.destroyed).toBe(true);
  });
});
