import { createServer, Server, Socket } from 'node:net';
import { TestApp, TestStack } from '../harness/app';
import { s3rverBackend } from '../harness/s3rver';
import { login, seedUser, Session } from '../harness/session';

/** A TCP server that accepts connections and never answers. */
async function silentServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('search: /api/search', () => {
  let stack: TestStack;
  let healthy: TestApp;
  let degraded: TestApp;
  let reader: Session;
  let silent: Awaited<ReturnType<typeof silentServer>>;

  beforeAll(async () => {
    stack = await TestStack.start();
    silent = await silentServer();
    const s3 = stack.s3!;
    const local = s3rverBackend('local', s3);
    const env = { K: s3.accessKey, S: s3.secretKey };
    const ratelimit = { login_per_ip: 0, api_per_minute: 0 };
    healthy = await stack.boot({ config: { ratelimit, backends: [local] }, env });
    degraded = await stack.boot({
      config: {
        ratelimit,
        backends: [
          local,
          { ...local, id: 'silent', endpoint: `http://127.0.0.1:${silent.port}` },
          { ...local, id: 'closed', endpoint: `http://127.0.0.1:${await closedPort()}` },
        ],
      },
      env,
    });
    const admin = await login(healthy, (await seedUser(healthy, { role: 'admin' })).username);
    for (const name of ['reports-2024', 'archive', 'media']) {
      const res = await admin.request('/api/backends/local/buckets', { method: 'POST', body: { name } });
      expect(res.status).toBe(201);
    }
    const upload = async (bucket: string, key: string) => {
      const res = await admin.request(`/api/backends/local/buckets/${bucket}/object?key=${encodeURIComponent(key)}`, {
        method: 'POST',
        body: 'x'.repeat(7),
        headers: { 'content-type': 'application/octet-stream' },
      });
      expect(res.status).toBe(201);
    };
    await upload('archive', 'Reports/q1.pdf');
    await upload('archive', 'old/annual-REPORT.txt');
    await upload('archive', 'unrelated.txt');
    await upload('media', 'photos/cat.jpg');
    reader = await login(healthy, (await seedUser(healthy, { role: 'readonly' })).username);
  });
  afterAll(async () => {
    await stack.stop();
    await silent.close();
  });

  const search = (q: string, app: TestApp = healthy) =>
    reader.on(app).request(`/api/search?q=${encodeURIComponent(q)}`);

  it('finds bucket names and object keys containing the query, case-insensitively', async () => {
    const res = await search('report');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      query: 'report',
      buckets: [{ backend_id: 'local', bucket: 'reports-2024' }],
      objects: [
        { backend_id: 'local', bucket: 'archive', key: 'Reports/q1.pdf', size: 7, last_modified: expect.any(String) },
        {
          backend_id: 'local',
          bucket: 'archive',
          key: 'old/annual-REPORT.txt',
          size: 7,
          last_modified: expect.any(String),
        },
      ],
      truncated: false,
    });
  });

  it('finds keys by their exact prefix', async () => {
    const res = await search('photos/');
    expect(res.body.objects.map((o: { key: string }) => o.key)).toEqual(['photos/cat.jpg']);
    expect(res.body.buckets).toEqual([]);
  });

  it('answers empty lists when nothing matches', async () => {
    expect((await search('zzz-nothing')).body).toEqual({
      query: 'zzz-nothing',
      buckets: [],
      objects: [],
      truncated: false,
    });
  });

  it('answers within a few seconds when a backend never answers and another is down, marking it truncated', async () => {
    const started = Date.now();
    const res = await search('report', degraded);
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    expect(elapsed).toBeLessThan(6_000);
    expect(res.body.truncated).toBe(true);
    expect(res.body.buckets).toEqual([{ backend_id: 'local', bucket: 'reports-2024' }]);
    expect(res.body.objects.map((o: { key: string }) => o.key)).toEqual(['Reports/q1.pdf', 'old/annual-REPORT.txt']);
  });

  it.each(['', 'x'.repeat(257)])('refuses the query %p with bad_request', async (q) => {
    const res = await search(q);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('bad_request');
  });

  it('refuses a missing query with bad_request', async () => {
    const res = await reader.request('/api/search');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('bad_request');
  });

  it('requires a session', async () => {
    const res = await fetch(`${healthy.url}/api/search?q=x`);
    expect(res.status).toBe(401);
  });
});
