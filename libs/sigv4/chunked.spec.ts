import { createHash, createHmac, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Crc32 as SdkCrc32, Crc32c as SdkCrc32c, Crc64Nvme as SdkCrc64Nvme } from '@aws-sdk/checksums/crc';
import { getAwsChunkedEncodingStream } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { ChecksumAlgorithm, checksumBase64 } from './checksums';
import {
  AwsChunkedDecoder,
  AwsChunkedDecoderOptions,
  createAwsChunkedDecoder,
  createBodyVerifier,
  PayloadHashVerifier,
  StreamingPayloadMode,
} from './chunked';
import { SigV4Error } from './errors';
import { deriveSigningKey } from './signing';
import { ChunkSigningContext, chunkSignature, encodeAwsChunked } from './testing/aws-chunked-encoder';
import { verifyRequest } from './verify';

const SECRET = 'chunked/TestSecret+key';
const AMZ_DATE = '20260314T092653Z';
const SCOPE = '20260314/us-east-1/s3/aws4_request';
const CONTEXT: ChunkSigningContext = {
  signingKey: deriveSigningKey(SECRET, '20260314', 'us-east-1', 's3'),
  seedSignature: createHash('sha256').update('seed').digest('hex'),
  amzDate: AMZ_DATE,
  scope: SCOPE,
};
const ALGORITHMS: ChecksumAlgorithm[] = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'];

interface Outcome {
  output: Buffer;
  error?: unknown;
  decoder: AwsChunkedDecoder;
}

/** Writes `pieces` one by one and collects what the decoder emits until it ends or fails. */
function run(decoder: AwsChunkedDecoder, pieces: readonly Buffer[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    let settled = false;
    const done = (error?: unknown) => {
      if (settled) return;
      settled = true;
      resolve({ output: Buffer.concat(out), error, decoder });
    };
    decoder.on('data', (chunk: Buffer) => out.push(chunk));
    decoder.on('error', done);
    decoder.on('end', () => done());
    for (const piece of pieces) {
      if (decoder.destroyed || settled) break;
      decoder.write(piece);
    }
    if (!decoder.destroyed) decoder.end();
  });
}

function decoderFor(payload: StreamingPayloadMode, extra: Partial<AwsChunkedDecoderOptions> = {}): AwsChunkedDecoder {
  const signed = payload === 'streaming-signed' || payload === 'streaming-signed-trailer';
  return new AwsChunkedDecoder({ payload, ...(signed ? CONTEXT : {}), ...extra });
}

type Split = 'whole' | 'bytes' | 'random' | 'pairs';

function split(data: Buffer, how: Split): Buffer[] {
  if (how === 'whole') return [data];
  const parts: Buffer[] = [];
  for (let offset = 0; offset < data.length;) {
    const n = how === 'bytes' ? 1 : how === 'pairs' ? 2 : 1 + Math.floor(Math.random() * 97);
    parts.push(data.subarray(offset, offset + n));
    offset += n;
  }
  return parts;
}

/** Cuts at every position near a frame boundary (each CR and LF) and randomly elsewhere. */
function splitAtBoundaries(data: Buffer): Buffer[] {
  const cuts = new Set<number>();
  for (let i = 0; i < data.length; i++) if (data[i] === 0x0d || data[i] === 0x0a) cuts.add(i).add(i + 1);
  const sorted = [...cuts].filter((c) => c > 0 && c < data.length).sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let previous = 0;
  for (const cut of sorted) {
    parts.push(data.subarray(previous, cut));
    previous = cut;
  }
  parts.push(data.subarray(previous));
  return parts;
}

function trailerFor(algorithm: ChecksumAlgorithm, body: Buffer): [string, string] {
  return [`x-amz-checksum-${algorithm}`, checksumBase64(algorithm, body)];
}

class NodeHash {
  private readonly hash;
  constructor(algorithm: string) {
    this.hash = createHash(algorithm);
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {}
}

const SDK_CHECKSUMS = {
  crc32: SdkCrc32,
  crc32c: SdkCrc32c,
  crc64nvme: SdkCrc64Nvme,
  sha1: class extends NodeHash {
    constructor() {
      super('sha1');
    }
  },
  sha256: class extends NodeHash {
    constructor() {
      super('sha256');
    }
  },
};

/** The AWS SDK's own STREAMING-UNSIGNED-PAYLOAD-TRAILER encoding of `pieces`. */
async function sdkUnsignedTrailer(pieces: readonly Buffer[], algorithm: ChecksumAlgorithm): Promise<Buffer> {
  const source = Readable.from(pieces);
  const encoded = getAwsChunkedEncodingStream(source, {
    base64Encoder: (bytes) => Buffer.from(bytes).toString('base64'),
    bodyLengthChecker: (body: Buffer) => body.length,
    checksumAlgorithmFn: SDK_CHECKSUMS[algorithm],
    checksumLocationName: `x-amz-checksum-${algorithm}`,
    streamHasher: (Hash, stream) =>
      new Promise((resolve, reject) => {
        const hash = new Hash();
        (stream as Readable).on('data', (d: Buffer) => hash.update(d));
        (stream as Readable).on('end', () => hash.digest().then(resolve, reject));
        (stream as Readable).on('error', reject);
      }),
  });
  const parts: Buffer[] = [];
  for await (const part of encoded) parts.push(Buffer.from(part as Buffer));
  return Buffer.concat(parts);
}

/** The AWS SDK signer in S3 mode, hashing with node:crypto. */
function sdkSigner(accessKeyId: string): SignatureV4 {
  class Sha256 {
    private readonly hash;
    constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
      if (secret === undefined) this.hash = createHash('sha256');
      else this.hash = createHmac('sha256', typeof secret === 'string' ? secret : Buffer.from(secret as Uint8Array));
    }
    update(data: string | ArrayBuffer | ArrayBufferView): void {
      this.hash.update(typeof data === 'string' ? data : Buffer.from(data as Uint8Array));
    }
    async digest(): Promise<Uint8Array> {
      return new Uint8Array(this.hash.digest());
    }
    reset(): void {}
  }
  return new SignatureV4({
    credentials: { accessKeyId, secretAccessKey: SECRET },
    region: 'us-east-1',
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
  });
}

function expectSigV4(error: unknown, code?: string): void {
  expect(error).toBeInstanceOf(SigV4Error);
  if (code) expect((error as SigV4Error).code).toBe(code);
}

describe('AwsChunkedDecoder: round trips', () => {
  const bodies = [0, 1, 1000, 70_000].map((n) => randomBytes(n));

  it.each(ALGORITHMS)(
    'decodes the AWS SDK unsigned-trailer encoding with %s, however it is fragmented',
    async (algorithm) => {
      for (const body of bodies) {
        const pieces = split(body, body.length > 5000 ? 'random' : 'pairs');
        const encoded = await sdkUnsignedTrailer(pieces, algorithm);
        expect(encoded.includes(Buffer.from(`x-amz-checksum-${algorithm}:`))).toBe(true);
        for (const how of ['whole', 'random', 'bytes'] as const) {
          if (how === 'bytes' && encoded.length > 20_000) continue;
          const result = await run(
            decoderFor('streaming-unsigned-trailer', {
              trailerNames: [`x-amz-checksum-${algorithm}`],
              decodedContentLength: body.length,
            }),
            split(encoded, how),
          );
          expect(result.error).toBeUndefined();
          expect(result.output.equals(body)).toBe(true);
          expect(result.decoder.trailers.get(`x-amz-checksum-${algorithm}`)).toBe(checksumBase64(algorithm, body));
          expect(result.decoder.decodedLength).toBe(body.length);
        }
      }
    },
  );

  it.each([
    ['streaming-signed', undefined],
    ...ALGORITHMS.map((a) => ['streaming-signed-trailer', a] as const),
    ...ALGORITHMS.map((a) => ['streaming-unsigned-trailer', a] as const),
  ] as const)('round-trips %s %s across chunk sizes and fragmentations', async (payload, algorithm) => {
    for (const body of bodies) {
      for (const chunkSize of [1, 7, 8192, 65536]) {
        if (chunkSize === 1 && body.length > 1000) continue;
        const trailers = algorithm ? [trailerFor(algorithm, body)] : [];
        const encoded = encodeAwsChunked(body, { payload, chunkSize, signing: CONTEXT, trailers });
        const splits: Buffer[][] = [split(encoded, 'whole'), split(encoded, 'random'), splitAtBoundaries(encoded)];
        if (encoded.length < 20_000) splits.push(split(encoded, 'bytes'));
        for (const pieces of splits) {
          const result = await run(
            decoderFor(payload, {
              trailerNames: algorithm ? [`x-amz-checksum-${algorithm}`] : undefined,
              decodedContentLength: body.length,
            }),
            pieces,
          );
          expect(result.error).toBeUndefined();
          expect(result.output.equals(body)).toBe(true);
        }
      }
    }
  });

  it('decodes a large body written in one-byte pieces', async () => {
    const body = randomBytes(70_000);
    const encoded = encodeAwsChunked(body, {
      payload: 'streaming-signed-trailer',
      chunkSize: 8192,
      signing: CONTEXT,
      trailers: [trailerFor('crc32', body)],
    });
    const result = await run(
      decoderFor('streaming-signed-trailer', { trailerNames: ['x-amz-checksum-crc32'] }),
      split(encoded, 'bytes'),
    );
    expect(result.error).toBeUndefined();
    expect(result.output.equals(body)).toBe(true);
  });

  it('signs chunks exactly as the AWS SDK signer does', async () => {
    const signer = sdkSigner('AKIA');
    let previous = CONTEXT.seedSignature;
    for (const data of [randomBytes(8192), randomBytes(100), Buffer.alloc(0)]) {
      const ours = chunkSignature(CONTEXT, previous, data);
      const sdk = await signer.sign(
        { headers: new Uint8Array(0), payload: data },
        { priorSignature: previous, signingDate: new Date('2026-03-14T09:26:53Z') },
      );
      expect(ours).toBe(sdk);
      previous = ours;
    }
  });
});

describe('AwsChunkedDecoder: AWS-documented examples', () => {
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const a = (n: number) => Buffer.alloc(n, 'a');

  async function documented(trailer: boolean) {
    const signedHeaders = trailer
      ? 'content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer'
      : 'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class';
    const seed = trailer
      ? '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e'
      : '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
    const sigs = trailer
      ? [
          'b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2',
          '1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7',
          '2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992',
        ]
      : [
          'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
          '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
          'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
        ];
    const headers: Record<string, string> = {
      authorization: `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=${signedHeaders},Signature=${seed}`,
      'content-encoding': 'aws-chunked',
      'content-length': '66824',
      host: 's3.amazonaws.com',
      'x-amz-content-sha256': trailer
        ? 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'
        : 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'x-amz-date': '20130524T000000Z',
      'x-amz-decoded-content-length': '66560',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      ...(trailer ? { 'x-amz-trailer': 'x-amz-checksum-crc32c' } : {}),
    };
    const verified = await verifyRequest(
      { method: 'PUT', path: '/examplebucket/chunkObject.txt', query: '', headers, lookupSecret: () => secret },
      { now: new Date('2013-05-24T00:05:00Z'), region: 'us-east-1', service: 's3' },
    );
    const body = Buffer.concat([
      Buffer.from(`10000;chunk-signature=${sigs[0]}\r\n`),
      a(65536),
      Buffer.from(`\r\n400;chunk-signature=${sigs[1]}\r\n`),
      a(1024),
      Buffer.from(`\r\n0;chunk-signature=${sigs[2]}\r\n`),
      Buffer.from(
        trailer
          ? 'x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n'
          : '',
      ),
      Buffer.from('\r\n'),
    ]);
    return { verified, body };
  }

  it('verifies the documented STREAMING-AWS4-HMAC-SHA256-PAYLOAD upload', async () => {
    const { verified, body } = await documented(false);
    expect(body.length).toBe(66824);
    expect(verified).toMatchObject({ payload: 'streaming-signed', decodedContentLength: 66560 });
    const result = await run(createAwsChunkedDecoder(verified), split(body, 'random'));
    expect(result.error).toBeUndefined();
    expect(result.output.equals(a(66560))).toBe(true);
  });

  it('verifies the documented STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER upload', async () => {
    const { verified, body } = await documented(true);
    expect(verified).toMatchObject({ payload: 'streaming-signed-trailer', trailerNames: ['x-amz-checksum-crc32c'] });
    const result = await run(createAwsChunkedDecoder(verified), split(body, 'random'));
    expect(result.error).toBeUndefined();
    expect(result.output.equals(a(66560))).toBe(true);
    expect(result.decoder.trailers.get('x-amz-checksum-crc32c')).toBe('sOO8/Q==');
  });

  it('refuses the documented upload with one data byte changed, before emitting that chunk', async () => {
    const { verified, body } = await documented(false);
    const tampered = Buffer.from(body);
    tampered[10_000] ^= 1; // inside the first 64 KiB chunk
    const result = await run(createAwsChunkedDecoder(verified), split(tampered, 'random'));
    expectSigV4(result.error, 'SignatureDoesNotMatch');
    expect(result.output.length).toBe(0);
  });
});

describe('AwsChunkedDecoder: refusals', () => {
  const chunkA = Buffer.from('AAAAAAAAAA');
  const chunkB = Buffer.from('BBBBBBBBBB');
  const chunkC = Buffer.from('CCCCCCCCCC');
  const body = Buffer.concat([chunkA, chunkB, chunkC]);

  function frames(payload: StreamingPayloadMode, trailers: [string, string][] = []) {
    return encodeAwsChunked(body, { payload, chunkSize: 10, signing: CONTEXT, trailers }).toString('latin1');
  }

  it.each(['whole', 'bytes', 'random'] as const)(
    'refuses a forged chunk signature without emitting any byte of that chunk (%s)',
    async (how) => {
      for (const payload of ['streaming-signed', 'streaming-signed-trailer'] as const) {
        const text = frames(payload, payload === 'streaming-signed-trailer' ? [trailerFor('crc32', body)] : []);
        const signatures = [...text.matchAll(/chunk-signature=([0-9a-f]{64})/g)].map((m) => m[1]);
        const second = signatures[1];
        const forgedSig = text.replace(second, second.slice(0, 63) + (second[63] === '0' ? '1' : '0'));
        const forgedData = text.replace('BBBBBBBBBB', 'BBBBBBBBBX');
        for (const forged of [forgedSig, forgedData]) {
          const result = await run(
            decoderFor(payload, {
              trailerNames: payload === 'streaming-signed-trailer' ? ['x-amz-checksum-crc32'] : [],
            }),
            split(Buffer.from(forged, 'latin1'), how),
          );
          expectSigV4(result.error, 'SignatureDoesNotMatch');
          expect(result.output.toString()).toBe('AAAAAAAAAA');
        }
      }
    },
  );

  it('refuses reordered, replayed or truncated signed chunks', async () => {
    const text = frames('streaming-signed');
    const parts = text.split(/(?=[0-9a-f]+;chunk-signature=)/);
    expect(parts.length).toBe(4);
    const swapped = [parts[0], parts[2], parts[1], parts[3]].join('');
    const replayed = [parts[0], parts[0], parts[1], parts[2], parts[3]].join('');
    for (const forged of [swapped, replayed]) {
      const result = await run(decoderFor('streaming-signed'), [Buffer.from(forged, 'latin1')]);
      expectSigV4(result.error, 'SignatureDoesNotMatch');
    }
    const truncated = await run(decoderFor('streaming-signed'), [Buffer.from(parts.slice(0, 3).join(''), 'latin1')]);
    expectSigV4(truncated.error, 'IncompleteBody');
    expect(truncated.output.equals(body)).toBe(true);
    const wrongSeed = await run(decoderFor('streaming-signed', { seedSignature: 'f'.repeat(64) }), [
      Buffer.from(text, 'latin1'),
    ]);
    expectSigV4(wrongSeed.error, 'SignatureDoesNotMatch');
    expect(wrongSeed.output.length).toBe(0);
  });

  it('refuses a missing or malformed chunk signature in a signed body, and a signature in an unsigned one', async () => {
    for (const [payload, text] of [
      ['streaming-signed', '1\r\nA\r\n0\r\n\r\n'],
      ['streaming-signed', '1;chunk-signature=abc\r\nA\r\n'],
      ['streaming-signed', `1;chunk-signature=${'A'.repeat(64)}\r\nA\r\n`],
      ['streaming-signed', `1;chunk-signature=${'a'.repeat(64)};x=y\r\nA\r\n`],
    ] as const) {
      expectSigV4((await run(decoderFor(payload), [Buffer.from(text)])).error, 'SignatureDoesNotMatch');
    }
    const unsigned = await run(decoderFor('streaming-unsigned-trailer'), [
      Buffer.from(`1;chunk-signature=${'a'.repeat(64)}\r\nA\r\n0\r\n\r\n`),
    ]);
    expectSigV4(unsigned.error, 'InvalidRequest');
  });

  it('checks trailer checksums', async () => {
    const good = trailerFor('crc32', body);
    const opts = { trailerNames: ['x-amz-checksum-crc32'] };
    const wrong = encodeAwsChunked(body, {
      payload: 'streaming-unsigned-trailer',
      chunkSize: 10,
      trailers: [[good[0], checksumBase64('crc32', chunkA)]],
    });
    expectSigV4((await run(decoderFor('streaming-unsigned-trailer', opts), [wrong])).error, 'BadDigest');
    const wrongSigned = encodeAwsChunked(body, {
      payload: 'streaming-signed-trailer',
      chunkSize: 10,
      signing: CONTEXT,
      trailers: [[good[0], 'AAAAAA==']],
    });
    expectSigV4((await run(decoderFor('streaming-signed-trailer', opts), [wrongSigned])).error, 'BadDigest');
    for (const value of ['AAAA', 'not base64!', 'AAAAAAAA', '']) {
      const malformed = encodeAwsChunked(body, {
        payload: 'streaming-unsigned-trailer',
        chunkSize: 10,
        trailers: [[good[0], value]],
      });
      expectSigV4((await run(decoderFor('streaming-unsigned-trailer', opts), [malformed])).error, 'InvalidRequest');
    }
    const undeclared = encodeAwsChunked(body, {
      payload: 'streaming-unsigned-trailer',
      chunkSize: 10,
      trailers: [trailerFor('sha256', body)],
    });
    expectSigV4((await run(decoderFor('streaming-unsigned-trailer', opts), [undeclared])).error, 'InvalidRequest');
    const missing = encodeAwsChunked(body, { payload: 'streaming-unsigned-trailer', chunkSize: 10 });
    expectSigV4((await run(decoderFor('streaming-unsigned-trailer', opts), [missing])).error, 'InvalidRequest');
    const twice = encodeAwsChunked(body, {
      payload: 'streaming-unsigned-trailer',
      chunkSize: 10,
      trailers: [good, good],
    });
    expectSigV4((await run(decoderFor('streaming-unsigned-trailer', opts), [twice])).error, 'InvalidRequest');
  });

  it('checks the trailer signature', async () => {
    const opts = { trailerNames: ['x-amz-checksum-crc32'] };
    const text = frames('streaming-signed-trailer', [trailerFor('crc32', body)]);
    const ok = await run(decoderFor('streaming-signed-trailer', opts), [Buffer.from(text, 'latin1')]);
    expect(ok.error).toBeUndefined();
    const trailerSig = /x-amz-trailer-signature:([0-9a-f]{64})/.exec(text)![1];
    const cases = [
      text.replace(
        trailerSig,
        trailerSig.replace(/.$/, (c) => (c === '0' ? '1' : '0')),
      ),
      text.replace(/x-amz-trailer-signature:[0-9a-f]{64}\r\n/, ''),
      text.replace(/x-amz-checksum-crc32:\S+/, `x-amz-checksum-crc32:${checksumBase64('crc32', chunkA)}`),
    ];
    for (const forged of cases) {
      expectSigV4(
        (await run(decoderFor('streaming-signed-trailer', opts), [Buffer.from(forged, 'latin1')])).error,
        'SignatureDoesNotMatch',
      );
    }
    const inUnsigned = encodeAwsChunked(body, {
      payload: 'streaming-unsigned-trailer',
      chunkSize: 10,
      trailers: [['x-amz-trailer-signature', 'a'.repeat(64)]],
    });
    expectSigV4((await run(decoderFor('streaming-unsigned-trailer'), [inUnsigned])).error, 'InvalidRequest');
  });

  it('refuses a declared chunk size above the cap before reading or allocating it', async () => {
    const spies = [
      jest.spyOn(Buffer, 'alloc'),
      jest.spyOn(Buffer, 'allocUnsafe'),
      jest.spyOn(Buffer, 'allocUnsafeSlow'),
    ];
    try {
      for (const payload of ['streaming-unsigned-trailer', 'streaming-signed'] as const) {
        for (const header of ['1000001\r\n', 'ffffffffffffffffffffffffffff\r\n', '40000000;chunk-signature=']) {
          const decoder = decoderFor(payload);
          spies.forEach((s) => s.mockClear());
          const result = await run(decoder, [Buffer.from(header)]);
          expectSigV4(result.error, 'InvalidChunkSizeError');
          for (const spy of spies) for (const [size] of spy.mock.calls) expect(size as number).toBeLessThan(4096);
        }
        expectSigV4(
          (await run(decoderFor(payload, { maxChunkSize: 100 }), [Buffer.from('65\r\n')])).error,
          'InvalidChunkSizeError',
        );
      }
      // Within the cap, a large declared chunk is still read incrementally.
      const decoder = decoderFor('streaming-unsigned-trailer');
      spies.forEach((s) => s.mockClear());
      const result = await run(decoder, [Buffer.from('f00000\r\n'), Buffer.from('0123456789')]);
      expectSigV4(result.error, 'IncompleteBody');
      expect(result.output.toString()).toBe('0123456789');
      for (const spy of spies) for (const [size] of spy.mock.calls) expect(size as number).toBeLessThan(4096);
    } finally {
      spies.forEach((s) => s.mockRestore());
    }
    const atCap = encodeAwsChunked(body, { payload: 'streaming-unsigned-trailer', chunkSize: 30 });
    expect((await run(decoderFor('streaming-unsigned-trailer', { maxChunkSize: 30 }), [atCap])).error).toBeUndefined();
  });

  it('checks x-amz-decoded-content-length', async () => {
    const encoded = encodeAwsChunked(body, { payload: 'streaming-signed', chunkSize: 10, signing: CONTEXT });
    expectSigV4(
      (await run(decoderFor('streaming-signed', { decodedContentLength: 31 }), [encoded])).error,
      'IncompleteBody',
    );
    const longer = await run(decoderFor('streaming-signed', { decodedContentLength: 25 }), [encoded]);
    expectSigV4(longer.error, 'InvalidRequest');
    expect(longer.output.toString()).toBe('AAAAAAAAAABBBBBBBBBB');
    expect((await run(decoderFor('streaming-signed', { decodedContentLength: 30 }), [encoded])).error).toBeUndefined();
  });

  it.each([
    ['data after the final chunk', '1\r\nA\r\n0\r\n\r\nextra'],
    ['bare LF line endings', '1\nA\n0\n\n'],
    ['no CRLF after data', '1\r\nAB\r\n0\r\n\r\n'],
    ['a non-hex size', 'g\r\nA\r\n'],
    ['an empty size line', '\r\n'],
    ['a control byte in a line', '1\u0000\r\nA\r\n'],
    ['a very long line', `${'0'.repeat(2000)}1\r\nA\r\n`],
    ['a trailer without a colon', '1\r\nA\r\n0\r\nnope\r\n\r\n'],
  ])('refuses %s', async (_what, text) => {
    const result = await run(decoderFor('streaming-unsigned-trailer'), [Buffer.from(text, 'latin1')]);
    expectSigV4(result.error, 'InvalidRequest');
  });

  it.each([
    ['an empty body', ''],
    ['a body cut inside a chunk', '5\r\nAB'],
    ['a body cut before the final chunk', '1\r\nA\r\n'],
    ['a body cut inside the trailers', '1\r\nA\r\n0\r\nx-amz-checksum-crc32:'],
    ['a body without the closing line', '1\r\nA\r\n0\r\n'],
  ])('refuses %s as incomplete', async (_what, text) => {
    const result = await run(decoderFor('streaming-unsigned-trailer', { trailerNames: ['x-amz-checksum-crc32'] }), [
      Buffer.from(text),
    ]);
    expectSigV4(result.error, 'IncompleteBody');
  });

  it('refuses impossible configurations with typed errors', () => {
    expect(() => new AwsChunkedDecoder({ payload: 'streaming-signed' })).toThrow(SigV4Error);
    expect(() => decoderFor('streaming-unsigned-trailer', { trailerNames: ['x-amz-checksum-md5'] })).toThrow(
      SigV4Error,
    );
    expect(() => decoderFor('streaming-signed', { trailerNames: ['x-amz-checksum-crc32'] })).toThrow(SigV4Error);
  });
});

describe('AwsChunkedDecoder: fuzzing', () => {
  const TOKENS = [
    '0',
    '1',
    '5',
    'a',
    'F',
    'g',
    ';',
    'chunk-signature=',
    '\r',
    '\n',
    '\r\n',
    '\r\n\r\n',
    ':',
    'x-amz-checksum-crc32',
    'x-amz-trailer-signature',
    ' ',
    '\u0000',
    '\u00ff',
  ];
  const payloads: StreamingPayloadMode[] = [
    'streaming-signed',
    'streaming-signed-trailer',
    'streaming-unsigned-trailer',
  ];

  function randomInput(): Buffer {
    if (Math.random() < 0.4) return randomBytes(Math.floor(Math.random() * 200));
    const parts: string[] = [];
    const n = Math.floor(Math.random() * 40);
    for (let i = 0; i < n; i++) {
      const r = Math.random();
      if (r < 0.1) parts.push(randomBytes(32).toString('hex'));
      else if (r < 0.2) parts.push(randomBytes(1 + Math.floor(Math.random() * 8)).toString('latin1'));
      else parts.push(TOKENS[Math.floor(Math.random() * TOKENS.length)]);
    }
    return Buffer.from(parts.join(''), 'latin1');
  }

  function mutate(input: Buffer): Buffer {
    const bytes = [...input];
    const edits = 1 + Math.floor(Math.random() * 3);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(Math.random() * (bytes.length + 1));
      switch (Math.floor(Math.random() * 5)) {
        case 0:
          if (at < bytes.length) bytes[at] ^= 1 << Math.floor(Math.random() * 8);
          break;
        case 1:
          bytes.splice(at, 0, Math.floor(Math.random() * 256));
          break;
        case 2:
          bytes.splice(at, 1 + Math.floor(Math.random() * 4));
          break;
        case 3:
          bytes.length = Math.min(bytes.length, at);
          break;
        default:
          bytes.splice(at, 0, ...bytes.slice(at, at + Math.floor(Math.random() * 20)));
      }
    }
    return Buffer.from(bytes);
  }

  function withTimeout<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('decoder hung')), 5000);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  it('fails only with SigV4Error on 2,400 random byte sequences, never hanging', async () => {
    let failures = 0;
    for (let i = 0; i < 2400; i++) {
      const payload = payloads[i % 3];
      const decoder = decoderFor(payload, {
        trailerNames: payload === 'streaming-signed' ? undefined : ['x-amz-checksum-crc32'],
        maxChunkSize: i % 2 === 0 ? 64 : undefined,
        decodedContentLength: i % 5 === 0 ? Math.floor(Math.random() * 20) : undefined,
      });
      const result = await withTimeout(run(decoder, split(randomInput(), Math.random() < 0.5 ? 'random' : 'bytes')));
      if (result.error !== undefined) {
        failures++;
        if (!(result.error instanceof SigV4Error)) throw result.error;
      }
    }
    expect(failures).toBeGreaterThan(2000);
  });

  it('never accepts a mutated valid body unless it still decodes to the original bytes', async () => {
    const body = randomBytes(300);
    const variants = payloads.map((payload) => {
      const trailers = payload === 'streaming-signed' ? [] : [trailerFor('crc32c', body)];
      return {
        payload,
        encoded: encodeAwsChunked(body, { payload, chunkSize: 64, signing: CONTEXT, trailers }),
        trailers,
      };
    });
    let accepted = 0;
    for (let i = 0; i < 1500; i++) {
      const { payload, encoded, trailers } = variants[i % variants.length];
      const decoder = decoderFor(payload, { trailerNames: trailers.map(([name]) => name) });
      const result = await withTimeout(run(decoder, split(mutate(encoded), 'random')));
      if (result.error === undefined) {
        accepted++;
        expect(result.output.equals(body)).toBe(true);
      } else if (!(result.error instanceof SigV4Error)) {
        throw result.error;
      }
    }
    expect(accepted).toBeLessThan(300);
  });
});

describe('body verifiers', () => {
  async function pipeThrough(
    stream: NodeJS.ReadWriteStream,
    data: Buffer,
  ): Promise<{ output: Buffer; error?: unknown }> {
    return new Promise((resolve) => {
      const out: Buffer[] = [];
      stream.on('data', (c: Buffer) => out.push(c));
      stream.on('error', (error) => resolve({ output: Buffer.concat(out), error }));
      stream.on('end', () => resolve({ output: Buffer.concat(out) }));
      for (const part of split(data, 'random')) stream.write(part);
      stream.end();
    });
  }

  const data = randomBytes(5000);
  const hash = createHash('sha256').update(data).digest('hex');

  it('passes a body with the declared SHA-256 through', async () => {
    const result = await pipeThrough(new PayloadHashVerifier(hash.toUpperCase(), data.length), data);
    expect(result.error).toBeUndefined();
    expect(result.output.equals(data)).toBe(true);
  });

  it('fails with XAmzContentSHA256Mismatch at the end otherwise', async () => {
    const tampered = Buffer.from(data);
    tampered[4000] ^= 1;
    const result = await pipeThrough(new PayloadHashVerifier(hash), tampered);
    expectSigV4(result.error, 'XAmzContentSHA256Mismatch');
    expect((result.error as SigV4Error).details).toMatchObject({ ClientComputedContentSHA256: hash });
  });

  it('can hold the last chunk back until the hash has matched', async () => {
    const good = await pipeThrough(new PayloadHashVerifier(hash, data.length, true), data);
    expect(good.error).toBeUndefined();
    expect(good.output.equals(data)).toBe(true);
    const tampered = Buffer.from(data);
    tampered[4999] ^= 1;
    const bad = await pipeThrough(new PayloadHashVerifier(hash, data.length, true), tampered);
    expectSigV4(bad.error, 'XAmzContentSHA256Mismatch');
    expect(bad.output.length).toBeLessThan(data.length);
    expect(tampered.subarray(0, bad.output.length).equals(bad.output)).toBe(true);
  });

  it('checks the length when given', async () => {
    expectSigV4((await pipeThrough(new PayloadHashVerifier(hash, data.length + 1), data)).error, 'IncompleteBody');
    expectSigV4((await pipeThrough(new PayloadHashVerifier(hash, data.length - 1), data)).error, 'InvalidRequest');
  });

  it('picks the right reader for each payload mode', async () => {
    const base = {
      signingKey: CONTEXT.signingKey,
      seedSignature: CONTEXT.seedSignature,
      amzDate: AMZ_DATE,
      scope: SCOPE,
    } as const;
    const signed = createBodyVerifier({ ...base, payload: 'signed', payloadHash: hash } as never);
    expect(signed).toBeInstanceOf(PayloadHashVerifier);
    expect((await pipeThrough(signed, data)).output.equals(data)).toBe(true);
    const unsigned = createBodyVerifier({ ...base, payload: 'unsigned' } as never);
    expect((await pipeThrough(unsigned, data)).output.equals(data)).toBe(true);
    const chunked = createBodyVerifier({ ...base, payload: 'streaming-signed' } as never);
    expect(chunked).toBeInstanceOf(AwsChunkedDecoder);
    const encoded = encodeAwsChunked(data, { payload: 'streaming-signed', chunkSize: 1024, signing: CONTEXT });
    expect((await pipeThrough(chunked, encoded)).output.equals(data)).toBe(true);
    expect(() => createAwsChunkedDecoder({ ...base, payload: 'unsigned' } as never)).toThrow(SigV4Error);
  });

  it('decodes the body of an SDK-signed streaming request from its seed signature', async () => {
    const signer = sdkSigner('AKIASTREAM');
    const body = randomBytes(200_000);
    const signed = await signer.sign(
      {
        method: 'PUT',
        protocol: 'https:',
        hostname: 'stowage.test',
        path: '/bucket/big.bin',
        query: {},
        headers: {
          host: 'stowage.test',
          'content-encoding': 'aws-chunked',
          'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
          'x-amz-decoded-content-length': String(body.length),
          'x-amz-trailer': 'x-amz-checksum-crc64nvme',
        },
      },
      { signingDate: new Date('2026-03-14T09:26:53Z') },
    );
    const verified = await verifyRequest(
      { method: 'PUT', path: '/bucket/big.bin', query: '', headers: signed.headers, lookupSecret: () => SECRET },
      { now: new Date('2026-03-14T09:30:00Z') },
    );
    const encoded = encodeAwsChunked(body, {
      payload: 'streaming-signed-trailer',
      chunkSize: 65536,
      signing: {
        signingKey: verified.signingKey,
        seedSignature: verified.seedSignature,
        amzDate: verified.amzDate,
        scope: verified.scope,
      },
      trailers: [trailerFor('crc64nvme', body)],
    });
    const result = await run(createAwsChunkedDecoder(verified), split(encoded, 'random'));
    expect(result.error).toBeUndefined();
    expect(result.output.equals(body)).toBe(true);
  });
});
