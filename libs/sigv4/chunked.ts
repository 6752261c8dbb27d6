import { createHash, Hash } from 'node:crypto';
import { PassThrough, Transform, TransformCallback } from 'node:stream';
import {
  checksumAlgorithmOf,
  ChecksumAlgorithm,
  CHECKSUM_LENGTH,
  createChecksum,
  IncrementalChecksum,
} from './checksums';
import { SigV4Error } from './errors';
import { constantTimeEqual, EMPTY_SHA256, sha256Hex, signString } from './signing';
import { PayloadMode, VerifiedRequest } from './verify';

export type StreamingPayloadMode = Exclude<PayloadMode, 'signed' | 'unsigned'>;

/** The largest chunk the decoder accepts unless told otherwise: 16 MiB. */
export const DEFAULT_MAX_CHUNK_SIZE = 16 * 1024 * 1024;

const MAX_LINE = 1024;
const MAX_TRAILERS = 16;
const CHUNK_SIGNATURE_PREFIX = ';chunk-signature=';
const TRAILER_SIGNATURE = 'x-amz-trailer-signature';
const CR = 0x0d;
const LF = 0x0a;

export interface AwsChunkedDecoderOptions {
  payload: StreamingPayloadMode;
  /** For the signed variants: the request's signing key, seed signature, timestamp and scope. */
  signingKey?: Uint8Array;
  seedSignature?: string;
  amzDate?: string;
  scope?: string;
  /** `x-amz-decoded-content-length`; the decoded body must be exactly this long when given. */
  decodedContentLength?: number;
  /** Lower-case trailer names declared in `x-amz-trailer`; checksums are computed for these. */
  trailerNames?: readonly string[];
  /** The largest declared chunk size accepted; 16 MiB by default. */
  maxChunkSize?: number;
}

enum State {
  ChunkHeader,
  Data,
  DataCr,
  DataLf,
  Trailer,
  Done,
  Failed,
}

function isLowerHex(s: string): boolean {
  if (s.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Decodes an `aws-chunked` request body (`hex-size[;chunk-signature=sig]\r\n<data>\r\n` frames, a
 * final zero-size frame, then trailers for the trailer variants) into the payload bytes alone.
 *
 * Framing is read incrementally from input of any fragmentation, and a declared size above the
 * cap is refused before any of it is read. For the signed variants each chunk is held by reference (never
 * more than one chunk) until its signature, chained from the seed signature, has been checked,
 * so no byte of a forged chunk is ever emitted. Trailer checksums are checked against the
 * decoded bytes, and the signed-trailer variant's trailer signature is checked too. Every failure
 * is a {@link SigV4Error}; bytes already emitted before a failure must be discarded by the reader.
 */
export class AwsChunkedDecoder extends Transform {
  private state = State.ChunkHeader;
  private readonly signed: boolean;
  private readonly withTrailer: boolean;
  private readonly maxChunkSize: number;
  private readonly line = Buffer.allocUnsafe(MAX_LINE);
  private lineLength = 0;
  private remaining = 0;
  private held: Buffer[] = [];
  private chunkHash: Hash | undefined;
  private chunkSignature = '';
  private previousSignature: string;
  private decoded = 0;
  private readonly checksums = new Map<string, { algorithm: ChecksumAlgorithm; state: IncrementalChecksum }>();
  private readonly receivedTrailers: [string, string][] = [];
  private trailerSignature: string | undefined;
  private failure: Error | undefined;

  /** Trailers received (lower-case name → value), once the body has ended. */
  readonly trailers = new Map<string, string>();

  constructor(private readonly options: AwsChunkedDecoderOptions) {
    super();
    const { payload } = options;
    this.signed = payload === 'streaming-signed' || payload === 'streaming-signed-trailer';
    this.withTrailer = payload !== 'streaming-signed';
    this.maxChunkSize = options.maxChunkSize ?? DEFAULT_MAX_CHUNK_SIZE;
    if (this.signed && (!options.signingKey || !options.seedSignature || !options.amzDate || !options.scope)) {
      throw new SigV4Error(
        'InvalidRequest',
        'A signed aws-chunked body needs the signing key, seed signature, date and scope.',
      );
    }
    this.previousSignature = options.seedSignature ?? '';
    for (const name of options.trailerNames ?? []) {
      const algorithm = checksumAlgorithmOf(name);
      if (algorithm === undefined) {
        throw new SigV4Error('InvalidRequest', `The trailer "${name}" is not supported.`);
      }
      if (!this.withTrailer) throw new SigV4Error('InvalidRequest', 'This payload type carries no trailers.');
      this.checksums.set(name, { algorithm, state: createChecksum(algorithm) });
    }
  }

  /** Payload bytes decoded so far. */
  get decodedLength(): number {
    return this.decoded;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.failure) return callback(this.failure);
    try {
      this.consume(chunk);
      callback();
    } catch (err) {
      this.state = State.Failed;
      this.held = [];
      this.failure = err as Error;
      callback(this.failure);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.failure) return callback(this.failure);
    if (this.state !== State.Done) {
      this.state = State.Failed;
      this.failure = new SigV4Error('IncompleteBody', 'The request body ended before the final aws-chunked frame.');
      return callback(this.failure);
    }
    callback();
  }

  private consume(buf: Buffer): void {
    let i = 0;
    const n = buf.length;
    while (i < n) {
      switch (this.state) {
        case State.ChunkHeader:
        case State.Trailer: {
          const lf = buf.indexOf(LF, i);
          const end = lf === -1 ? n : lf;
          this.appendLine(buf, i, end);
          if (lf === -1) {
            // Refuse an oversized chunk as soon as its size digits arrive.
            if (this.state === State.ChunkHeader) this.parseSize(this.line.toString('latin1', 0, this.lineLength));
            return;
          }
          i = lf + 1;
          const line = this.takeLine();
          if (this.state === State.ChunkHeader) this.onChunkHeader(line);
          else this.onTrailerLine(line);
          break;
        }
        case State.Data: {
          const take = Math.min(this.remaining, n - i);
          const slice = buf.subarray(i, i + take);
          i += take;
          this.remaining -= take;
          this.onData(slice);
          if (this.remaining === 0) {
            if (this.signed) this.verifyChunk();
            this.state = State.DataCr;
          }
          break;
        }
        case State.DataCr:
          if (buf[i++] !== CR) throw this.framingError('a chunk is not followed by CRLF');
          this.state = State.DataLf;
          break;
        case State.DataLf:
          if (buf[i++] !== LF) throw this.framingError('a chunk is not followed by CRLF');
          this.state = State.ChunkHeader;
          break;
        case State.Done:
          throw this.framingError('data follows the final chunk');
        case State.Failed:
          throw this.failure ?? this.framingError('the decoder has failed');
      }
    }
  }

  private framingError(what: string): SigV4Error {
    return new SigV4Error('InvalidRequest', `Malformed aws-chunked body: ${what}.`);
  }

  private appendLine(buf: Buffer, start: number, end: number): void {
    const length = end - start;
    if (length === 0) return;
    if (this.lineLength + length > MAX_LINE) throw this.framingError('a chunk header or trailer line is too long');
    buf.copy(this.line, this.lineLength, start, end);
    this.lineLength += length;
  }

  /** The buffered line without its CRLF; a line not ending in CRLF is refused. */
  private takeLine(): string {
    const length = this.lineLength;
    this.lineLength = 0;
    if (length === 0 || this.line[length - 1] !== CR) throw this.framingError('a line does not end with CRLF');
    for (let k = 0; k < length - 1; k++) {
      const c = this.line[k];
      if (c < 0x20 || c > 0x7e) throw this.framingError('a chunk header or trailer holds a control or non-ASCII byte');
    }
    return this.line.toString('latin1', 0, length - 1);
  }

  /** The leading hex chunk size of a (possibly partial) header line, and where its digits end. */
  private parseSize(line: string): { size: number; end: number } {
    let size = 0;
    let k = 0;
    for (; k < line.length; k++) {
      const d = hexDigit(line.charCodeAt(k));
      if (d < 0) break;
      size = size * 16 + d;
      if (size > this.maxChunkSize) {
        throw new SigV4Error(
          'InvalidChunkSizeError',
          `A chunk declares more than the ${this.maxChunkSize} bytes allowed.`,
        );
      }
    }
    return { size, end: k };
  }

  private onChunkHeader(line: string): void {
    const { size, end } = this.parseSize(line);
    if (end === 0) throw this.framingError('a chunk size is not hexadecimal');
    const rest = line.slice(end);
    if (this.signed) {
      if (!rest.startsWith(CHUNK_SIGNATURE_PREFIX) || !isLowerHex(rest.slice(CHUNK_SIGNATURE_PREFIX.length))) {
        throw new SigV4Error('SignatureDoesNotMatch', 'A chunk lacks a valid chunk-signature.');
      }
      this.chunkSignature = rest.slice(CHUNK_SIGNATURE_PREFIX.length);
    } else if (rest !== '') {
      throw this.framingError('an unsigned chunk carries an extension');
    }

    const declared = this.options.decodedContentLength;
    if (declared !== undefined && this.decoded + size > declared) {
      throw new SigV4Error('InvalidRequest', 'The decoded body is longer than x-amz-decoded-content-length.');
    }

    if (size > 0) {
      this.remaining = size;
      if (this.signed) this.chunkHash = createHash('sha256');
      this.state = State.Data;
      return;
    }

    // The final, empty chunk.
    if (this.signed)
      this.verifySignature('AWS4-HMAC-SHA256-PAYLOAD', `${EMPTY_SHA256}\n${EMPTY_SHA256}`, this.chunkSignature);
    if (declared !== undefined && this.decoded !== declared) {
      throw new SigV4Error(
        'IncompleteBody',
        'You did not provide the number of bytes specified by x-amz-decoded-content-length.',
      );
    }
    this.state = State.Trailer;
  }

  private onData(slice: Buffer): void {
    this.decoded += slice.length;
    this.chunkHash?.update(slice);
    for (const entry of this.checksums.values()) entry.state.update(slice);
    if (this.signed) this.held.push(slice);
    else this.push(slice);
  }

  private verifyChunk(): void {
    const hash = (this.chunkHash as Hash).digest('hex');
    this.chunkHash = undefined;
    this.verifySignature('AWS4-HMAC-SHA256-PAYLOAD', `${EMPTY_SHA256}\n${hash}`, this.chunkSignature);
    const held = this.held;
    this.held = [];
    for (const slice of held) this.push(slice);
  }

  private verifySignature(algorithm: string, tail: string, provided: string): void {
    const { signingKey, amzDate, scope } = this.options;
    const stringToSign = `${algorithm}\n${amzDate}\n${scope}\n${this.previousSignature}\n${tail}`;
    if (!constantTimeEqual(signString(signingKey as Uint8Array, stringToSign), provided)) {
      throw new SigV4Error(
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided.',
        {
          StringToSign: stringToSign,
          SignatureProvided: provided,
        },
      );
    }
    this.previousSignature = provided;
  }

  private onTrailerLine(line: string): void {
    if (line === '') return this.finish();
    if (!this.withTrailer) throw this.framingError('the final chunk is not followed by CRLF');
    if (this.receivedTrailers.length >= MAX_TRAILERS) throw this.framingError('too many trailers');
    const colon = line.indexOf(':');
    if (colon <= 0) throw this.framingError('a trailer is not name:value');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (this.trailers.has(name) || (name === TRAILER_SIGNATURE && this.trailerSignature !== undefined)) {
      throw this.framingError(`the trailer ${name} is repeated`);
    }
    if (name === TRAILER_SIGNATURE) {
      if (!this.signed) throw this.framingError('an unsigned body carries a trailer signature');
      if (!isLowerHex(value)) throw new SigV4Error('SignatureDoesNotMatch', 'The trailer signature is malformed.');
      this.trailerSignature = value;
      return;
    }
    if (this.trailerSignature !== undefined) throw this.framingError('a trailer follows the trailer signature');
    if (!this.checksums.has(name)) {
      throw new SigV4Error(
        'InvalidRequest',
        `The trailer "${name}" was not declared in x-amz-trailer or is not supported.`,
      );
    }
    this.trailers.set(name, value);
    this.receivedTrailers.push([name, value]);
  }

  private finish(): void {
    if (this.signed && this.withTrailer) {
      if (this.trailerSignature === undefined)
        throw new SigV4Error('SignatureDoesNotMatch', 'The trailer signature is missing.');
      let canonical = '';
      for (const [name, value] of this.receivedTrailers) canonical += `${name}:${value}\n`;
      const hash = createHash('sha256').update(canonical).digest('hex');
      this.verifySignature('AWS4-HMAC-SHA256-TRAILER', hash, this.trailerSignature);
    }
    for (const [name, { algorithm, state }] of this.checksums) {
      const value = this.trailers.get(name);
      if (value === undefined) throw new SigV4Error('InvalidRequest', `The declared trailer "${name}" is missing.`);
      const claimed = Buffer.from(value, 'base64');
      if (claimed.length !== CHECKSUM_LENGTH[algorithm] || claimed.toString('base64') !== value) {
        throw new SigV4Error('InvalidRequest', `Value for ${name} trailing header is invalid.`);
      }
      if (!claimed.equals(state.digest())) {
        throw new SigV4Error(
          'BadDigest',
          `The ${algorithm.toUpperCase()} you specified did not match the calculated checksum.`,
        );
      }
    }
    this.state = State.Done;
  }
}

/** An aws-chunked decoder for a verified streaming request. */
export function createAwsChunkedDecoder(
  verified: VerifiedRequest,
  options: { maxChunkSize?: number } = {},
): AwsChunkedDecoder {
  if (verified.payload === 'signed' || verified.payload === 'unsigned') {
    throw new SigV4Error('InvalidRequest', 'The request body is not aws-chunked.');
  }
  return new AwsChunkedDecoder({
    payload: verified.payload,
    signingKey: verified.signingKey,
    seedSignature: verified.seedSignature,
    amzDate: verified.amzDate,
    scope: verified.scope,
    decodedContentLength: verified.decodedContentLength,
    trailerNames: verified.trailerNames,
    maxChunkSize: options.maxChunkSize,
  });
}

/**
 * Passes a body through while hashing it, and fails with XAmzContentSHA256Mismatch at the end
 * when its SHA-256 is not the declared one (bytes already passed on must then be discarded).
 * With `holdLastChunk`, every chunk leaves one chunk late and the last one only once the hash
 * has matched, so a receiver counting on Content-Length never gets the whole of a bad body.
 */
export class PayloadHashVerifier extends Transform {
  private readonly hash = createHash('sha256');
  private readonly expected: string;
  private length = 0;
  private held: Buffer | undefined;

  constructor(
    expectedSha256Hex: string,
    private readonly expectedLength?: number,
    private readonly holdLastChunk = false,
  ) {
    super();
    this.expected = expectedSha256Hex.toLowerCase();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.length += chunk.length;
    if (this.expectedLength !== undefined && this.length > this.expectedLength) {
      return callback(new SigV4Error('InvalidRequest', 'The request body is longer than its Content-Length.'));
    }
    this.hash.update(chunk);
    if (!this.holdLastChunk) return callback(null, chunk);
    const previous = this.held;
    this.held = chunk;
    callback(null, previous);
  }

  override _flush(callback: TransformCallback): void {
    const refusal = payloadRefusal(this.expected, this.length, this.expectedLength, () => this.hash.digest('hex'));
    const last = this.held;
    this.held = undefined;
    callback(refusal, refusal ? undefined : last);
  }
}

/**
 * Checks a whole signed payload held in memory (one hash call instead of a stream): undefined
 * when it has the declared length and SHA-256, the refusal otherwise.
 */
export function checkSignedPayload(
  body: Buffer,
  verified: VerifiedRequest,
  contentLength?: number,
): SigV4Error | undefined {
  return payloadRefusal((verified.payloadHash as string).toLowerCase(), body.length, contentLength, () =>
    sha256Hex(body),
  );
}

function payloadRefusal(
  expected: string,
  length: number,
  expectedLength: number | undefined,
  actualSha256: () => string,
): SigV4Error | undefined {
  if (expectedLength !== undefined && length !== expectedLength) {
    return new SigV4Error(
      'IncompleteBody',
      'You did not provide the number of bytes specified by the Content-Length HTTP header.',
    );
  }
  const actual = actualSha256();
  if (actual === expected) return undefined;
  return new SigV4Error(
    'XAmzContentSHA256Mismatch',
    "The provided 'x-amz-content-sha256' header does not match what was computed.",
    {
      ClientComputedContentSHA256: expected,
      S3ComputedContentSHA256: actual,
    },
  );
}

/**
 * The body reader for a verified request: a hash check for a signed payload, an aws-chunked
 * decoder for the streaming payloads, a plain pass-through for an unsigned one.
 */
export function createBodyVerifier(
  verified: VerifiedRequest,
  options: { maxChunkSize?: number; contentLength?: number } = {},
): Transform {
  switch (verified.payload) {
    case 'signed':
      return new PayloadHashVerifier(verified.payloadHash as string, options.contentLength);
    case 'unsigned':
      return new PassThrough();
    default:
      return createAwsChunkedDecoder(verified, options);
  }
}
