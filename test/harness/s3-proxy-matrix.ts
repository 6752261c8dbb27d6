import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  buildCanonicalRequest,
  buildStringToSign,
  deriveSigningKey,
  formatAmzDate,
  signString,
  STREAMING_SIGNED_PAYLOAD,
} from '@stowage/sigv4';
import { encodeAwsChunked } from '../../libs/sigv4/testing/aws-chunked-encoder';
import { proxyClient, VirtualKeys } from './s3-proxy';

const run = promisify(execFile);
export const AWS_CLI = '/usr/bin/aws';

/**
 * The aws CLI v1 (Debian's /usr/bin/aws is v2, which presigns with SigV4 only): STOWAGE_AWS_CLI_V1,
 * or one installed under pyenv or /usr/local. Undefined when there is none.
 */
export const AWS_CLI_V1: string | undefined = (() => {
  const pyenv = '/root/.pyenv/versions';
  const candidates = [
    process.env.STOWAGE_AWS_CLI_V1,
    ...(existsSync(pyenv) ? readdirSync(pyenv).map((v) => join(pyenv, v, 'bin/aws')) : []),
    '/usr/local/bin/aws',
  ];
  for (const candidate of candidates) {
    if (!candidate || !existsSync(candidate)) continue;
    try {
      const version = execFileSync(candidate, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      if (version.startsWith('aws-cli/1.')) return candidate;
    } catch {
      // not a working aws CLI
    }
  }
  return undefined;
})();
export const S3CMD = '/usr/bin/s3cmd';
export const RCLONE = '/usr/bin/rclone';
const MiB = 1024 * 1024;

export const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** A client made before the describe block's tests and closed after them; call it for the client. */
function cliFor(make: () => S3Cli): () => S3Cli {
  let cli: S3Cli | undefined;
  beforeAll(() => {
    cli = make();
  });
  afterAll(() => cli?.close());
  return () => {
    if (!cli) throw new Error('the client is made in beforeAll');
    return cli;
  };
}

/** A command that failed, saying why with the S3 error code given. */
function expectRefused(result: { code: number; stderr: string }, code: string): void {
  expect(result.code).not.toBe(0);
  expect(result.stderr).toContain(code);
}

interface CliSetup {
  /** Arguments that go before every command's own. */
  args: string[];
  /** The environment besides PATH and HOME (nothing else of the test runner's leaks in). */
  env: Record<string, string>;
}

/**
 * An S3 command-line client from Debian (the aws CLI, s3cmd, rclone) run against the proxy,
 * path-style, with an empty home and configuration of its own.
 */
export class S3Cli {
  private readonly home = mkdtempSync(join(tmpdir(), 'stowage-s3cli-'));
  private readonly setup: CliSetup;

  private constructor(
    private readonly binary: string,
    configure: (home: string) => CliSetup,
  ) {
    this.setup = configure(this.home);
  }

  /**
   * `defaults`: no configuration beyond the region (in the environment), as a user has it out of
   * the box; the aws CLI v1 (`v1`) then presigns with SigV2.
   */
  static aws(endpoint: string, keys: VirtualKeys, options: { defaults?: boolean; v1?: boolean } = {}): S3Cli {
    const binary = options.v1 ? AWS_CLI_V1 : AWS_CLI;
    if (!binary) throw new Error('no aws CLI v1 is installed (set STOWAGE_AWS_CLI_V1)');
    return new S3Cli(binary, (home) => {
      writeFileSync(
        join(home, 'config'),
        options.defaults ? '[default]\n' : '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n',
      );
      return {
        args: ['--endpoint-url', endpoint],
        env: {
          AWS_CONFIG_FILE: join(home, 'config'),
          AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
          AWS_ACCESS_KEY_ID: keys.accessKeyId,
          AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
          AWS_EC2_METADATA_DISABLED: 'true',
          ...(options.defaults ? { AWS_DEFAULT_REGION: 'us-east-1' } : {}),
          AWS_PAGER: '',
        },
      };
    });
  }

  /** s3cmd signing with SigV4 (or SigV2 with `signatureV2`); uploads above 5 MiB go in 5 MiB parts. */
  static s3cmd(endpoint: string, keys: VirtualKeys, options: { signatureV2?: boolean } = {}): S3Cli {
    return new S3Cli(S3CMD, (home) => {
      const host = new URL(endpoint).host;
      const config = join(home, 's3cfg');
      writeFileSync(
        config,
        [
          '[default]',
          `access_key = ${keys.accessKeyId}`,
          `secret_key = ${keys.secretAccessKey}`,
          `host_base = ${host}`,
          `host_bucket = ${host}`,
          'use_https = False',
          `signature_v2 = ${options.signatureV2 ? 'True' : 'False'}`,
          'bucket_location = us-east-1',
          'multipart_chunk_size_mb = 5',
          'progress_meter = False',
          '',
        ].join('\n'),
      );
      return { args: ['-c', config], env: {} };
    });
  }

  /** rclone with a remote named `proxy`; uploads above 5 MiB go in 5 MiB parts. */
  static rclone(endpoint: string, keys: VirtualKeys): S3Cli {
    return new S3Cli(RCLONE, (home) => {
      const config = join(home, 'rclone.conf');
      writeFileSync(config, '');
      return {
        args: ['--config', config, '--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M', '--low-level-retries', '1'],
        env: {
          RCLONE_CONFIG_PROXY_TYPE: 's3',
          RCLONE_CONFIG_PROXY_PROVIDER: 'Other',
          RCLONE_CONFIG_PROXY_ENDPOINT: endpoint,
          RCLONE_CONFIG_PROXY_REGION: 'us-east-1',
          RCLONE_CONFIG_PROXY_FORCE_PATH_STYLE: 'true',
          RCLONE_CONFIG_PROXY_ACCESS_KEY_ID: keys.accessKeyId,
          RCLONE_CONFIG_PROXY_SECRET_ACCESS_KEY: keys.secretAccessKey,
        },
      };
    });
  }

  file(name: string, data?: Buffer): string {
    const path = join(this.home, name);
    if (data) writeFileSync(path, data);
    return path;
  }

  read(name: string): Buffer {
    return readFileSync(join(this.home, name));
  }

  async run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(this.binary, [...this.setup.args, ...args], {
        env: { PATH: process.env.PATH, HOME: this.home, ...this.setup.env },
        maxBuffer: 64 * MiB,
        timeout: 120_000,
      });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const failed = err as { code?: number; stdout?: string; stderr?: string };
      return { code: failed.code ?? 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
    }
  }

  async ok(...args: string[]): Promise<string> {
    const result = await this.run(...args);
    if (result.code !== 0) {
      throw new Error(`${this.binary} ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    }
    return result.stdout;
  }

  close(): void {
    rmSync(this.home, { recursive: true, force: true });
  }
}

export async function bodyOf(client: S3Client, bucket: string, key: string, range?: string): Promise<Buffer> {
  const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

/** Uploads `data` as a multipart upload of `partSize` parts through the SDK. */
export async function multipartUpload(
  client: S3Client,
  bucket: string,
  key: string,
  data: Buffer,
  partSize: number,
): Promise<void> {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const parts = [];
  for (let offset = 0, n = 1; offset < data.length; offset += partSize, n++) {
    const { ETag } = await client.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        PartNumber: n,
        Body: data.subarray(offset, Math.min(data.length, offset + partSize)),
      }),
    );
    parts.push({ ETag, PartNumber: n });
  }
  await client.send(
    new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }),
  );
}

/** A signed aws-chunked PUT ready to send: its headers (with `authorization`, without `host`) and body. */
export interface SignedChunkedRequest {
  url: URL;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Builds a PUT of `data` with a `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` body, signed chunk by chunk;
 * `tamperChunk` corrupts the signature of that chunk (0-based).
 */
export function buildSignedChunkedPut(
  endpoint: string,
  keys: VirtualKeys,
  bucket: string,
  key: string,
  data: Buffer,
  options: { chunkSize?: number; tamperChunk?: number } = {},
): SignedChunkedRequest {
  const url = new URL(`${endpoint}/${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`);
  const amzDate = formatAmzDate(Date.now());
  const date = amzDate.slice(0, 8);
  const scope = `${date}/us-east-1/s3/aws4_request`;
  const signingKey = deriveSigningKey(keys.secretAccessKey, date, 'us-east-1', 's3');
  const chunkSize = options.chunkSize ?? 64 * 1024;
  // The encoded length depends only on the sizes, so encode once unsigned-shaped to learn it.
  const provisional = encodeAwsChunked(data, {
    payload: 'streaming-signed',
    chunkSize,
    signing: { signingKey, seedSignature: '0'.repeat(64), amzDate, scope },
  });
  const headers: Record<string, string> = {
    'content-encoding': 'aws-chunked',
    'content-length': String(provisional.length),
    host: url.host,
    'x-amz-content-sha256': STREAMING_SIGNED_PAYLOAD,
    'x-amz-date': amzDate,
    'x-amz-decoded-content-length': String(data.length),
  };
  const signed = Object.keys(headers).sort();
  const canonical = buildCanonicalRequest({
    method: 'PUT',
    path: url.pathname,
    query: '',
    headers,
    signedHeaders: signed,
    payloadHash: STREAMING_SIGNED_PAYLOAD,
  });
  const seedSignature = signString(signingKey, buildStringToSign(amzDate, scope, canonical));
  let body = encodeAwsChunked(data, {
    payload: 'streaming-signed',
    chunkSize,
    signing: { signingKey, seedSignature, amzDate, scope },
  });
  if (options.tamperChunk !== undefined) {
    let at = -1;
    for (let i = 0; i <= options.tamperChunk; i++) at = body.indexOf('chunk-signature=', at + 1);
    const position = at + 'chunk-signature='.length;
    body = Buffer.from(body);
    body[position] = body[position] === 0x30 ? 0x31 : 0x30;
  }
  const { host: _host, ...sent } = headers;
  void _host;
  sent.authorization = `AWS4-HMAC-SHA256 Credential=${keys.accessKeyId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${seedSignature}`;
  return { url, headers: sent, body };
}

/** Sends {@link buildSignedChunkedPut}'s request and reads the answer. */
export async function signedChunkedPut(
  endpoint: string,
  keys: VirtualKeys,
  bucket: string,
  key: string,
  data: Buffer,
  options: { chunkSize?: number; tamperChunk?: number } = {},
): Promise<{ status: number; text: string }> {
  const { url, headers, body } = buildSignedChunkedPut(endpoint, keys, bucket, key, data, options);
  const res = await fetch(url, { method: 'PUT', headers, body });
  return { status: res.status, text: await res.text() };
}

export interface MatrixTarget {
  endpoint: () => string;
  keys: () => VirtualKeys;
  bucket: string;
  /** A second bucket the credential is scoped to (copy across buckets). */
  otherBucket: string;
  /** How the proxy saw the body of the last upload of `key` framed (from the audit log). */
  payloadOf?: (key: string) => Promise<string | undefined>;
}

/**
 * The operations every S3 client does, through the proxy, with the SDK in its default
 * configuration (checksum trailers) and with checksums "when required", and with the aws CLI.
 * Bytes read back must equal the bytes written in every mode.
 */
export function describeProxyMatrix(target: MatrixTarget): void {
  describe.each(['default', 'when_required'] as const)('the AWS SDK with checksums %s', (checksums) => {
    let client: S3Client;
    const prefix = `sdk-${checksums}/`;
    beforeAll(() => {
      client = proxyClient(target.endpoint(), target.keys(), { checksums });
    });
    afterAll(() => client?.destroy());

    it('puts, gets (whole and ranged), heads and lists v1 and v2', async () => {
      const data = randomBytes(256 * 1024 + 17);
      const key = `${prefix}dir/obj ect+ünï.bin`;
      await client.send(
        new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: data, ContentType: 'application/x-test' }),
      );
      expect(sha256(await bodyOf(client, target.bucket, key))).toBe(sha256(data));
      expect(sha256(await bodyOf(client, target.bucket, key, 'bytes=100-1099'))).toBe(sha256(data.subarray(100, 1100)));
      const head = await client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: key }));
      expect(head.ContentLength).toBe(data.length);
      expect(head.ContentType).toBe('application/x-test');
      const v2 = await client.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: prefix }));
      expect(v2.Contents?.map((c) => c.Key)).toContain(key);
      const v1 = await client.send(
        new ListObjectsCommand({ Bucket: target.bucket, Prefix: `${prefix}dir/`, Delimiter: '/' }),
      );
      expect(v1.Contents?.map((c) => c.Key)).toContain(key);
    });

    it('streams a body in chunks and stores exactly the payload', async () => {
      const data = randomBytes(3 * MiB + 5);
      const key = `${prefix}chunked.bin`;
      const pieces = [];
      for (let offset = 0; offset < data.length; offset += 256 * 1024)
        pieces.push(data.subarray(offset, offset + 256 * 1024));
      await client.send(
        new PutObjectCommand({
          Bucket: target.bucket,
          Key: key,
          Body: Readable.from(pieces),
          ContentLength: data.length,
        }),
      );
      const back = await bodyOf(client, target.bucket, key);
      expect(back.length).toBe(data.length);
      expect(sha256(back)).toBe(sha256(data));
      if (target.payloadOf) {
        // The SDK's default integrity mode streams with a CRC trailer; "when required" does not.
        expect(await target.payloadOf(key)).toBe(checksums === 'default' ? 'streaming-unsigned-trailer' : 'unsigned');
      }
    });

    it('copies within and across scoped buckets, deletes one and many', async () => {
      const data = randomBytes(10_000);
      const key = `${prefix}copy-source.bin`;
      await client.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: data }));
      await client.send(
        new CopyObjectCommand({
          Bucket: target.bucket,
          Key: `${prefix}copy.bin`,
          CopySource: `${target.bucket}/${encodeURIComponent(key)}`,
        }),
      );
      await client.send(
        new CopyObjectCommand({
          Bucket: target.otherBucket,
          Key: `${prefix}copy.bin`,
          CopySource: `${target.bucket}/${encodeURIComponent(key)}`,
        }),
      );
      expect(sha256(await bodyOf(client, target.bucket, `${prefix}copy.bin`))).toBe(sha256(data));
      expect(sha256(await bodyOf(client, target.otherBucket, `${prefix}copy.bin`))).toBe(sha256(data));

      await client.send(new DeleteObjectCommand({ Bucket: target.otherBucket, Key: `${prefix}copy.bin` }));
      const deleted = await client.send(
        new DeleteObjectsCommand({
          Bucket: target.bucket,
          Delete: { Objects: [{ Key: key }, { Key: `${prefix}copy.bin` }] },
        }),
      );
      expect(deleted.Deleted?.map((d) => d.Key).sort()).toEqual([`${prefix}copy.bin`, key].sort());
      await expect(client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: key }))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 404 },
      });
    });

    it('uploads 40 MiB in parts and reads the same bytes back', async () => {
      const data = randomBytes(40 * MiB);
      const key = `${prefix}multipart.bin`;
      await multipartUpload(client, target.bucket, key, data, 8 * MiB);
      const back = await bodyOf(client, target.bucket, key);
      expect(back.length).toBe(data.length);
      expect(sha256(back)).toBe(sha256(data));
    });

    it('serves presigned GET and PUT URLs', async () => {
      const data = randomBytes(5000);
      const key = `${prefix}presigned.bin`;
      const putUrl = await getSignedUrl(client, new PutObjectCommand({ Bucket: target.bucket, Key: key }), {
        expiresIn: 600,
      });
      const put = await fetch(putUrl, { method: 'PUT', body: data });
      expect(put.status).toBe(200);
      const getUrl = await getSignedUrl(client, new GetObjectCommand({ Bucket: target.bucket, Key: key }), {
        expiresIn: 600,
      });
      const got = await fetch(getUrl);
      expect(got.status).toBe(200);
      expect(sha256(Buffer.from(await got.arrayBuffer()))).toBe(sha256(data));
    });
  });

  describe('a signed chunked upload (STREAMING-AWS4-HMAC-SHA256-PAYLOAD)', () => {
    it('stores the payload without its framing', async () => {
      const data = randomBytes(300 * 1024 + 3);
      const res = await signedChunkedPut(target.endpoint(), target.keys(), target.bucket, 'chunked/signed.bin', data);
      expect(res.status).toBe(200);
      const client = proxyClient(target.endpoint(), target.keys());
      expect(sha256(await bodyOf(client, target.bucket, 'chunked/signed.bin'))).toBe(sha256(data));
      client.destroy();
    });

    // Late in a large upload, megabytes have reached the upstream before the refusal cuts it off.
    it.each([
      ['early', 300 * 1024, 2],
      ['late in an 8 MiB upload', 8 * 1024 * 1024, 100],
    ])('refuses a tampered chunk signature (%s) and stores nothing', async (_when, size, tamperChunk) => {
      const data = randomBytes(size);
      const key = `chunked/tampered-${tamperChunk}.bin`;
      const res = await signedChunkedPut(target.endpoint(), target.keys(), target.bucket, key, data, {
        tamperChunk,
      });
      expect(res.status).toBe(403);
      expect(res.text).toContain('<Code>SignatureDoesNotMatch</Code>');
      const client = proxyClient(target.endpoint(), target.keys());
      await expect(client.send(new HeadObjectCommand({ Bucket: target.bucket, Key: key }))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 404 },
      });
      client.destroy();
    });
  });

  describe('the aws CLI', () => {
    const cli = cliFor(() => S3Cli.aws(target.endpoint(), target.keys()));

    it('lists only the scoped buckets', async () => {
      const out = await cli().ok('s3', 'ls');
      const names = out
        .trim()
        .split('\n')
        .map((line) => line.trim().split(/\s+/).pop());
      expect(names.sort()).toEqual([target.bucket, target.otherBucket].sort());
    });

    it('copies 40 MiB up (multipart) and down, ranged reads, lists, copies and deletes', async () => {
      const data = randomBytes(40 * MiB + 123);
      const local = cli().file('upload.bin', data);
      await cli().ok('s3', 'cp', local, `s3://${target.bucket}/cli/big file.bin`);
      await cli().ok('s3', 'cp', `s3://${target.bucket}/cli/big file.bin`, cli().file('download.bin'));
      expect(sha256(cli().read('download.bin'))).toBe(sha256(data));

      await cli().ok(
        's3api',
        'get-object',
        '--bucket',
        target.bucket,
        '--key',
        'cli/big file.bin',
        '--range',
        'bytes=1000-1999',
        cli().file('range.bin'),
      );
      expect(sha256(cli().read('range.bin'))).toBe(sha256(data.subarray(1000, 2000)));

      const head = JSON.parse(
        await cli().ok('s3api', 'head-object', '--bucket', target.bucket, '--key', 'cli/big file.bin'),
      );
      expect(head.ContentLength).toBe(data.length);

      const listed = JSON.parse(await cli().ok('s3api', 'list-objects', '--bucket', target.bucket, '--prefix', 'cli/'));
      expect(listed.Contents.map((c: { Key: string }) => c.Key)).toContain('cli/big file.bin');
      const listed2 = JSON.parse(
        await cli().ok('s3api', 'list-objects-v2', '--bucket', target.bucket, '--prefix', 'cli/'),
      );
      expect(listed2.Contents.map((c: { Key: string }) => c.Key)).toEqual(['cli/big file.bin']);

      await cli().ok(
        's3api',
        'copy-object',
        '--bucket',
        target.otherBucket,
        '--key',
        'cli/copy.bin',
        '--copy-source',
        `${target.bucket}/cli/big file.bin`,
      );
      await cli().ok('s3', 'cp', `s3://${target.otherBucket}/cli/copy.bin`, cli().file('copy.bin'));
      expect(sha256(cli().read('copy.bin'))).toBe(sha256(data));

      await cli().ok(
        's3api',
        'put-object',
        '--bucket',
        target.bucket,
        '--key',
        'cli/small.txt',
        '--body',
        cli().file('small.txt', Buffer.from('small')),
      );
      await cli().ok(
        's3api',
        'delete-objects',
        '--bucket',
        target.bucket,
        '--delete',
        JSON.stringify({ Objects: [{ Key: 'cli/small.txt' }] }),
      );
      await cli().ok('s3', 'rm', `s3://${target.bucket}/cli/big file.bin`);
      await cli().ok('s3', 'rm', `s3://${target.otherBucket}/cli/copy.bin`);
      const after = await cli().ok('s3api', 'list-objects-v2', '--bucket', target.bucket, '--prefix', 'cli/');
      expect(after.trim() === '' ? [] : (JSON.parse(after).Contents ?? [])).toEqual([]);
    });

    it('is refused a bucket outside its scope', async () => {
      const result = await cli().run('s3', 'ls', 's3://not-my-bucket/');
      expectRefused(result, 'AccessDenied');
    });
  });

  describe('s3cmd', () => {
    const cli = cliFor(() => S3Cli.s3cmd(target.endpoint(), target.keys()));

    it('lists only the scoped buckets', async () => {
      const out = await cli().ok('ls');
      const names = out
        .trim()
        .split('\n')
        .map((line) =>
          line
            .trim()
            .split(/\s+/)
            .pop()
            ?.replace(/^s3:\/\//, ''),
        );
      expect(names.sort()).toEqual([target.bucket, target.otherBucket].sort());
    });

    it('puts 12 MiB in parts, gets it back, copies it across scoped buckets and deletes', async () => {
      const data = randomBytes(12 * MiB + 77);
      const source = `s3://${target.bucket}/s3cmd/big file.bin`;
      const copy = `s3://${target.otherBucket}/s3cmd/copy.bin`;
      // --progress: s3cmd names the parts only in its progress lines.
      const put = await cli().ok('put', '--progress', cli().file('upload.bin', data), source);
      expect(put).toContain('[part 3 of 3');
      await cli().ok('get', '--force', source, cli().file('download.bin'));
      expect(sha256(cli().read('download.bin'))).toBe(sha256(data));
      expect(await cli().ok('ls', `s3://${target.bucket}/s3cmd/`)).toContain(`${data.length}`);
      expect(await cli().ok('info', source)).toMatch(new RegExp(`File size: +${data.length}`));
      expect(await cli().ok('info', `s3://${target.bucket}`)).toContain('(bucket)');
      await cli().ok('cp', source, copy);
      await cli().ok('get', '--force', copy, cli().file('copy.bin'));
      expect(sha256(cli().read('copy.bin'))).toBe(sha256(data));
      await cli().ok('del', source);
      await cli().ok('del', copy);
      expect((await cli().ok('ls', `s3://${target.bucket}/s3cmd/`)).trim()).toBe('');
    });

    it('is refused a bucket outside its scope, and creating a bucket', async () => {
      const listing = await cli().run('ls', 's3://not-my-bucket/');
      expectRefused(listing, 'AccessDenied');
      const made = await cli().run('mb', 's3://made-by-s3cmd');
      expectRefused(made, 'AccessDenied');
    });
  });

  describe('rclone', () => {
    const cli = cliFor(() => S3Cli.rclone(target.endpoint(), target.keys()));
    const files = async (bucket: string, prefix: string) =>
      (await cli().ok('lsf', '--files-only', '-R', `proxy:${bucket}`))
        .split('\n')
        .filter((name) => name.startsWith(prefix));

    it('lists only the scoped buckets', async () => {
      const out = await cli().ok('lsf', 'proxy:');
      const names = out
        .trim()
        .split('\n')
        .map((name) => name.replace(/\/$/, ''));
      expect(names.sort()).toEqual([target.bucket, target.otherBucket].sort());
    });

    it('copies 12 MiB up in parts and down, copies it server-side across scoped buckets and deletes', async () => {
      const data = randomBytes(12 * MiB + 77);
      const source = `proxy:${target.bucket}/rclone/big file.bin`;
      const copy = `proxy:${target.otherBucket}/rclone/copy.bin`;
      await cli().ok('copyto', cli().file('upload.bin', data), source);
      await cli().ok('copyto', source, cli().file('download.bin'));
      expect(sha256(cli().read('download.bin'))).toBe(sha256(data));
      const listed = JSON.parse(await cli().ok('lsjson', `proxy:${target.bucket}/rclone`)) as Array<{
        Path: string;
        Size: number;
      }>;
      expect(listed.map(({ Path, Size }) => ({ Path, Size }))).toEqual([{ Path: 'big file.bin', Size: data.length }]);
      await cli().ok('copyto', source, copy);
      await cli().ok('copyto', copy, cli().file('copy.bin'));
      expect(sha256(cli().read('copy.bin'))).toBe(sha256(data));
      await cli().ok('deletefile', source);
      await cli().ok('deletefile', copy);
      expect(await files(target.bucket, 'rclone/')).toEqual([]);
      expect(await files(target.otherBucket, 'rclone/')).toEqual([]);
    });

    it('is refused a bucket outside its scope, and creating a bucket', async () => {
      const listing = await cli().run('lsf', 'proxy:not-my-bucket');
      expectRefused(listing, 'AccessDenied');
      const made = await cli().run('mkdir', 'proxy:made-by-rclone');
      expectRefused(made, 'AccessDenied');
    });
  });
}
