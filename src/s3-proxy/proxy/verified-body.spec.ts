import { pipeline, Readable, Transform, Writable } from 'node:stream';
import { HoldLastChunk } from './verified-body';

function collect(): { sink: Writable; chunks: Buffer[] } {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  return { sink, chunks };
}

describe('HoldLastChunk', () => {
  it('passes every chunk on, the last one only once its source has ended', async () => {
    const { sink, chunks } = collect();
    await new Promise<void>((resolve, reject) =>
      pipeline(
        Readable.from([Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]),
        new HoldLastChunk(),
        sink,
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    expect(Buffer.concat(chunks).toString()).toBe('abc');
  });

  it('never lets the last chunk out when the stage before it fails at the end', async () => {
    const failingAtEnd = new Transform({
      transform(chunk, _enc, done) {
        done(null, chunk);
      },
      flush(done) {
        done(new Error('checksum mismatch'));
      },
    });
    const { sink, chunks } = collect();
    const error = await new Promise<Error | undefined | null>((resolve) =>
      pipeline(Readable.from([Buffer.from('a'), Buffer.from('b')]), failingAtEnd, new HoldLastChunk(), sink, resolve),
    );
    expect(error?.message).toBe('checksum mismatch');
    expect(Buffer.concat(chunks).toString()).toBe('a');
  });
});
