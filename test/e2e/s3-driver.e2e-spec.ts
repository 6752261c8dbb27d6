import { randomBytes } from 'node:crypto';
import { lookup } from 'node:dns';
import { capabilitiesFor, S3Driver, S3DriverConfig } from '../../src/storage-backends/drivers';
import type { EndpointPolicy } from '../../src/storage-backends/endpoint-policy.service';
import { UpstreamClient } from '../../src/storage-backends/upstream/upstream-client';
import { describeDriverContract } from '../harness/s3-driver-contract';
import { startS3rver, TestS3 } from '../harness/s3rver';
import { failure, text } from '../harness/streams';

describe('S3Driver against s3rver', () => {
  let s3: TestS3;
  let config: S3DriverConfig;
  let driver: S3Driver;
  // Object reads go through the lean signed client, as the backend factory builds drivers.
  const reader = new UpstreamClient({ lookup } as unknown as EndpointPolicy);

  const bucketName = () => `drv-${randomBytes(5).toString('hex')}`;
  const newBucket = async () => {
    const name = bucketName();
    await driver.createBucket(name);
    return name;
  };

  beforeAll(async () => {
    s3 = await startS3rver();
    config = {
      id: 'local',
      name: 'Local s3rver',
      endpoint: s3.endpoint,
      region: s3.region,
      accessKey: s3.accessKey,
      secretKey: s3.secretKey,
      pathStyle: true,
      kind: 's3rver',
      checksums: 'when_required',
    };
    driver = new S3Driver(config, reader);
  });

  afterAll(async () => {
    driver?.close();
    await reader.onApplicationShutdown();
    await s3?.close();
  });

  describeDriverContract('s3rver', { driver: () => driver, config: () => config, bucketName, newBucket });

  it("advertises s3rver's capabilities", () => {
    expect(driver.id).toBe('local');
    expect(driver.displayName).toBe('Local s3rver');
    expect(driver.capabilities).toEqual(capabilitiesFor('s3rver'));
    expect(driver.capabilities).toMatchObject({
      versioning: false,
      lifecycle: false,
      bucket_policy: false,
      multipart_management: false,
      suffix_ranges: false,
      cors: true,
      tagging: true,
    });
  });

  it('answers not_supported, without asking s3rver, for what it lacks', async () => {
    const bucket = await newBucket();
    await driver.putObject({ bucket, key: 'k', body: text('value'), size: 5 });
    const refused: (() => Promise<unknown>)[] = [
      () => driver.getBucketVersioning(bucket),
      () => driver.setBucketVersioning(bucket, true),
      () => driver.listObjectVersions(bucket, ''),
      () => driver.getBucketPolicy(bucket),
      () => driver.setBucketPolicy(bucket, '{}'),
      () => driver.deleteBucketPolicy(bucket),
      () => driver.getBucketLifecycle(bucket),
      () => driver.setBucketLifecycle(bucket, [{ enabled: true, expiration_days: 1 }]),
      () => driver.listMultipartUploads(bucket),
      () => driver.listParts(bucket, 'k', 'id'),
      () => driver.abortMultipart(bucket, 'k', 'id'),
      () => driver.getObject(bucket, 'k', { range: { suffixLength: 3 } }),
    ];
    for (const call of refused) expect((await failure(call())).code).toBe('not_supported');
  });
});
