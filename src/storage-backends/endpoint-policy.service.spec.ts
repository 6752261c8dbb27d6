import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '@stowage/config';
import { S3Driver } from './drivers';
import { UNREACHABLE_DETAIL } from './drivers/s3/s3-errors';
import { EndpointPolicy } from './endpoint-policy.service';
import { UpstreamClient } from './upstream/upstream-client';

describe('EndpointPolicy at connect time', () => {
  let server: Server;
  let port: number;
  let hits = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++;
      res.end('<ListAllMyBucketsResult><Buckets></Buckets></ListAllMyBucketsResult>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const clients: UpstreamClient[] = [];
  afterAll(() => Promise.all(clients.map((c) => c.onApplicationShutdown())));
  const driver = (policy: EndpointPolicy) => {
    const upstream = new UpstreamClient(policy);
    clients.push(upstream);
    return new S3Driver(
      {
        id: 't',
        name: 't',
        endpoint: `http://localhost:${port}`,
        region: 'us-east-1',
        accessKey: 'a',
        secretKey: 'b',
        pathStyle: true,
        kind: 'generic',
        checksums: 'when_required',
        lookup: policy.lookup,
      },
      upstream,
    );
  };

  it('refuses a connection whose host name resolves to a denied address, with the neutral text', async () => {
    const denied = new EndpointPolicy(
      loadConfig({ overrides: { backend_endpoints: { deny_networks: ['127.0.0.0/8', '::1/128'] } } }),
    );
    const backend = driver(denied);
    const before = hits;
    await expect(backend.probe(2000)).rejects.toMatchObject({ code: 'backend_error', detail: UNREACHABLE_DETAIL });
    // Object operations go through the signed upstream client, whose connections pass the same policy.
    await expect(backend.headObject('b', 'k')).rejects.toMatchObject({
      code: 'backend_error',
      detail: UNREACHABLE_DETAIL,
    });
    await expect(backend.presignGet('b', 'k', 60)).resolves.toMatch(/^http:\/\/localhost:/);
    expect(hits).toBe(before);
    backend.close();
  });

  it('lets the same name through when its addresses are allowed', async () => {
    const backend = driver(new EndpointPolicy(loadConfig({ overrides: {} })));
    await expect(backend.probe(2000)).resolves.toBeUndefined();
    backend.close();
  });

  it('assertAllowed checks every resolved address and refuses credentials in the URL', async () => {
    const denied = new EndpointPolicy(
      loadConfig({ overrides: { backend_endpoints: { deny_networks: ['127.0.0.0/8', '::1/128'] } } }),
    );
    await expect(denied.assertAllowed(`http://localhost:${port}`)).rejects.toMatchObject({ code: 'bad_request' });
    const open = new EndpointPolicy(loadConfig({ overrides: {} }));
    await expect(open.assertAllowed(`http://localhost:${port}`)).resolves.toBeUndefined();
    await expect(open.assertAllowed(`http://a:b@localhost:${port}`)).rejects.toMatchObject({ code: 'bad_request' });
    await expect(open.assertAllowed('http://no-such-host.invalid')).resolves.toBeUndefined();
  });
});
