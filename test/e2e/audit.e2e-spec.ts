import { CopyObjectCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Client } from 'pg';
import { TestStack } from '../harness/app';
import { rowsOf } from '../harness/audit-catalogue';
import { cutOffRequest } from '../harness/cut-off-writes';
import { http } from '../harness/http';
import {
  bootWithProxy,
  createBucket,
  mintCredential,
  ProxyFixture,
  proxyClient,
  VirtualKeys,
} from '../harness/s3-proxy';
import { buildSignedChunkedPut } from '../harness/s3-proxy-matrix';
import { startChildApp } from '../harness/child-app';
import { loginRequest, Session } from '../harness/session';

interface AuditEvent {
  id: number;
  timestamp: string;
  user_id?: string;
  username?: string;
  action: string;
  backend?: string;
  bucket?: string;
  key?: string;
  request_id?: string;
  status: string;
  detail?: string;
}

/**
 * The audit log end to end: the rows of catalogue actions done through the dashboard and the S3
 * proxy, the query's filters and paging, and the CSV export (quoting, formula-safe cells, a
 * 100,000-row export with flat memory). Bulk rows are made by generate_series in SQL.
 */
describe('audit log: query and export', () => {
  let stack: TestStack;
  let fx: ProxyFixture;
  let db: Client;
  let client: S3Client;
  let keys: VirtualKeys;
  const bucket = 'audit-e2e';

  const page = async (query: string) => {
    const res = await fx.admin.request(`/api/admin/audit?${query}`);
    expect(res.status).toBe(200);
    return res.body as { events: AuditEvent[]; total: number; total_exact: boolean; next_cursor?: string };
  };

  beforeAll(async () => {
    stack = await TestStack.start();
    fx = await bootWithProxy(stack, { config: { ratelimit: { login_per_ip: 0, api_per_minute: 0 } } });
    db = new Client({ connectionString: stack.db.url });
    await db.connect();
    await createBucket(fx.admin, fx.backendId, bucket);
    keys = await mintCredential(fx.user, [{ backend_id: fx.backendId, bucket }]);
    client = proxyClient(fx.endpoint, keys);
  }, 60_000);

  afterAll(async () => {
    client?.destroy();
    await db?.end();
    await stack?.stop();
  });

  it('is for admins only', async () => {
    expect((await fx.user.request('/api/admin/audit')).body.error.code).toBe('forbidden');
    expect((await fx.user.request('/api/admin/audit.csv')).status).toBe(403);
    expect((await http(fx.app.url, '/api/admin/audit')).status).toBe(401);
  });

  it('has exactly one row per catalogue action, with its fields, committed before the answer', async () => {
    const base = `/api/backends/${fx.backendId}/buckets/${bucket}`;
    const up = await fx.user.request(`${base}/object?key=${encodeURIComponent('dash/one.txt')}`, {
      method: 'POST',
      body: 'hello',
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(up.status).toBe(201);
    const upId = up.headers.get('x-request-id');
    // No waiting: the row is there as soon as the success is.
    const uploads = await page(`action=object.upload&bucket=${bucket}`);
    expect(uploads.events.filter((e) => e.request_id === upId)).toHaveLength(1);
    expect(uploads.events[0]).toMatchObject({
      action: 'object.upload',
      backend: fx.backendId,
      bucket,
      key: 'dash/one.txt',
      status: 'ok',
    });
    expect(uploads.events[0].user_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(uploads.events[0].timestamp).toISOString().slice(0, 19)).toBe(
      uploads.events[0].timestamp.slice(0, 19),
    );

    const dashDelete = await fx.user.request(`${base}/object?key=${encodeURIComponent('dash/one.txt')}`, {
      method: 'DELETE',
    });
    expect(dashDelete.status).toBe(204);
    expect((await page(`action=object.delete&bucket=${bucket}`)).events).toHaveLength(1);

    const put = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'proxy/one.txt', Body: 'x' }));
    // The row is there as soon as the success is; its outcome follows when the response closes.
    expect((await page(`action=s3.proxy.putobject&bucket=${bucket}`)).events).toMatchObject([
      { action: 's3.proxy.putobject', bucket, key: 'proxy/one.txt', status: expect.stringMatching(/^(pending|ok)$/) },
    ]);
    expect(await rowsOf(db, put.$metadata.requestId!, 1)).toMatchObject([{ status: 'ok' }]);
    const del = await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'proxy/one.txt' }));
    expect(await rowsOf(db, del.$metadata.requestId!, 1)).toMatchObject([{ status: 'ok' }]);
    const proxyDeletes = await page(`action=s3.proxy.deleteobject`);
    expect(proxyDeletes.events).toHaveLength(1);
    expect(JSON.parse(proxyDeletes.events[0].detail!)).toMatchObject({ http_status: 204, auth: 'sigv4' });

    const share = await fx.user.request('/api/shares', {
      method: 'POST',
      body: { backend_id: fx.backendId, bucket, key: 'dash/none.txt' },
    });
    if (share.status === 201) {
      expect((await page('action=share.create')).events).toHaveLength(1);
    }

    // A failed sign-in is recorded (best-effort, but written before the answer too).
    const failed = await loginRequest(fx.app, 'nobody-here', 'wrong password 123');
    expect(failed.status).toBe(401);
    const logins = await page('action=auth.login&status=error');
    expect(logins.events.filter((e) => e.username === 'nobody-here')).toHaveLength(1);
    const csv = await fx.admin.request('/api/admin/audit.csv?action=auth.');
    expect(csv.text).toContain('nobody-here');
  });

  describe('an S3-proxy write: its row INSERTed as pending while it goes upstream, its outcome written over it', () => {
    it('leaves exactly one row for a PutObject, ok with its HTTP status and size', async () => {
      const out = await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'intent/put.txt', Body: 'hello' }));
      const rows = await rowsOf(db, out.$metadata.requestId!, 1);
      expect(rows).toMatchObject([
        {
          action: 's3.proxy.putobject',
          backend_id: fx.backendId,
          bucket,
          object_key: 'intent/put.txt',
          status: 'ok',
          detail: { http_status: 200, auth: 'sigv4', bytes_in: 5 },
        },
      ]);
    });

    it('leaves exactly one row, with the failure, for a write the upstream refused', async () => {
      const copy = await client
        .send(new CopyObjectCommand({ Bucket: bucket, Key: 'intent/copy.txt', CopySource: `${bucket}/intent/none` }))
        .then(
          () => undefined,
          (err: { name: string; $metadata: { httpStatusCode?: number; requestId?: string } }) => err,
        );
      expect([copy?.name, copy?.$metadata.httpStatusCode]).toEqual(['NoSuchKey', 404]);
      expect(await rowsOf(db, copy!.$metadata.requestId!, 1)).toMatchObject([
        { action: 's3.proxy.copyobject', status: 'error', detail: { http_status: 404 } },
      ]);

      // A bucket that is gone upstream (deleted behind the credential's back).
      const gone = 'audit-e2e-gone';
      await createBucket(fx.admin, fx.backendId, gone);
      const goneClient = proxyClient(
        fx.endpoint,
        await mintCredential(fx.user, [{ backend_id: fx.backendId, bucket: gone }]),
      );
      try {
        expect(
          (await fx.admin.request(`/api/backends/${fx.backendId}/buckets/${gone}`, { method: 'DELETE' })).status,
        ).toBe(204);
        const put = await goneClient.send(new PutObjectCommand({ Bucket: gone, Key: 'k.txt', Body: 'x' })).then(
          () => undefined,
          (err: { name: string; $metadata: { httpStatusCode?: number; requestId?: string } }) => err,
        );
        expect([put?.name, put?.$metadata.httpStatusCode]).toEqual(['NoSuchBucket', 404]);
        expect(await rowsOf(db, put!.$metadata.requestId!, 1)).toMatchObject([
          { action: 's3.proxy.putobject', bucket: gone, status: 'error', detail: { http_status: 404 } },
        ]);
      } finally {
        goneClient.destroy();
      }
    });

    it('leaves one row, not pending, for a client that goes away mid-body', async () => {
      const key = 'intent/cut-off.bin';
      const { url, headers, body } = buildSignedChunkedPut(
        fx.endpoint,
        keys,
        bucket,
        key,
        Buffer.alloc(2 * 1024 * 1024, 7),
      );
      await cutOffRequest(url.toString(), {
        method: 'PUT',
        headers,
        declared: body.length,
        sent: body.subarray(0, body.length / 2),
      });
      const read = async () =>
        (
          await db.query<{ status: string; detail: Record<string, unknown> }>(
            'SELECT status, detail FROM audit_events WHERE bucket = $1 AND object_key = $2',
            [bucket, key],
          )
        ).rows;
      const deadline = Date.now() + 5000;
      let rows = await read();
      while ((rows.length === 0 || rows.some((r) => r.status === 'pending')) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        rows = await read();
      }
      await new Promise((r) => setTimeout(r, 150));
      rows = await read();
      expect(rows).toHaveLength(1);
      expect(['aborted', 'error']).toContain(rows[0].status);
      expect(rows[0].detail).toMatchObject({ payload: 'streaming-signed', bytes_in: 2 * 1024 * 1024 });
    });

    it('filters and exports pending rows (an outcome never written: its instance stopped first)', async () => {
      await db.query(
        `INSERT INTO audit_events (action, bucket, object_key, request_id, status, detail)
         VALUES ('s3.proxy.putobject', 'audit-e2e-pending', 'left.txt', 'PENDING-1', 'pending', '{"auth":"sigv4"}')`,
      );
      const pending = await page('status=pending&bucket=audit-e2e-pending');
      expect(pending.events).toMatchObject([{ key: 'left.txt', status: 'pending', request_id: 'PENDING-1' }]);
      const csv = await fx.admin.request('/api/admin/audit.csv?status=pending&bucket=audit-e2e-pending');
      expect(csv.status).toBe(200);
      expect(csv.text.split('\r\n')[1]).toContain(',PENDING-1,,,pending,');
    });
  });

  describe('over rows made in bulk', () => {
    const alice = '11111111-2222-4333-8444-555555555555';
    beforeAll(async () => {
      // 30,000 rows over the last 30 days: three users, five actions, two backends, three statuses.
      await db.query(`
        INSERT INTO audit_events (at, user_id, username, action, backend_id, bucket, object_key, status, detail)
        SELECT now() - (i || ' minutes')::interval,
               CASE i % 3 WHEN 0 THEN '${alice}'::uuid ELSE NULL END,
               CASE i % 3 WHEN 0 THEN 'bulk-alice' WHEN 1 THEN 'bulk-bob' ELSE 'bulk-carol' END,
               (ARRAY['object.upload','object.delete','share.create','s3.proxy.putobject','s3.proxy.getobject'])[1 + i % 5],
               CASE i % 2 WHEN 0 THEN 'bulk-a' ELSE 'bulk-b' END,
               'bulk-bucket-' || (i % 4),
               'k/' || i,
               (ARRAY['ok','error','denied'])[1 + i % 3],
               jsonb_build_object('i', i)
        FROM generate_series(1, 30000) AS i`);
      await db.query('ANALYZE audit_events');
    }, 60_000);

    it('combines filters, exactly as SQL counts them', async () => {
      const from = new Date(Date.now() - 10 * 24 * 3600_000).toISOString();
      const to = new Date(Date.now() - 1 * 24 * 3600_000).toISOString();
      const res = await page(
        `user=${alice}&action=object.&backend=bulk-a&status=ok&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&limit=1000`,
      );
      const { rows } = await db.query(
        `SELECT count(*)::int AS n FROM audit_events WHERE user_id = $1 AND action LIKE 'object.%' AND backend_id = 'bulk-a'
         AND status = 'ok' AND at >= $2 AND at < $3`,
        [alice, from, to],
      );
      expect(rows[0].n).toBeGreaterThan(0);
      expect([res.total, res.total_exact, res.events.length]).toEqual([rows[0].n, true, rows[0].n]);
      for (const e of res.events) {
        expect(e).toMatchObject({ user_id: alice, backend: 'bulk-a', status: 'ok' });
        expect(e.action.startsWith('object.')).toBe(true);
        expect(e.timestamp >= from && e.timestamp < to).toBe(true);
      }
      // By username, with a prefix written as `*`, by bucket.
      const byName = await page('user=bulk-bob&action=s3.proxy.*&bucket=bulk-bucket-1&limit=5');
      expect(byName.events.every((e) => e.username === 'bulk-bob' && e.bucket === 'bulk-bucket-1')).toBe(true);
      // LIKE wildcards in a filter are plain characters.
      expect((await page('action=object_%25.')).total).toBe(0);
    });

    it('pages with the cursor through every row once, newest first', async () => {
      const seen = new Set<number>();
      let cursor: string | undefined;
      let last = '9999';
      let pages = 0;
      do {
        const res = await page(`backend=bulk-b&bucket=bulk-bucket-1&limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
        for (const e of res.events) {
          expect(seen.has(e.id)).toBe(false);
          expect(e.timestamp <= last).toBe(true);
          last = e.timestamp;
          seen.add(e.id);
        }
        cursor = res.next_cursor;
        pages++;
      } while (cursor);
      expect(seen.size).toBe(7500);
      expect(pages).toBe(8);
    });

    it('counts exactly up to 10,000 and estimates above, saying so', async () => {
      expect(await page('action=share.create&limit=1')).toMatchObject({ total: 6000 + 0, total_exact: true });
      const all = await page('limit=1');
      expect(all.total_exact).toBe(false);
      expect(all.total).toBeGreaterThan(10_000);
      expect(all.total).toBeGreaterThan(20_000);
      expect(all.total).toBeLessThan(45_000);
      // Offsets still work for the first pages.
      const second = await page('backend=bulk-a&limit=10&offset=10');
      const first = await page('backend=bulk-a&limit=20');
      expect(second.events.map((e) => e.id)).toEqual(first.events.slice(10).map((e) => e.id));
    });

    it('refuses what is not a filter: bad_request, never 500', async () => {
      for (const query of [
        'cursor=%00',
        'cursor=bm90LWEtY3Vyc29y',
        'cursor=AAAA&offset=1',
        'from=yesterday',
        'from=2026-02-30T00:00:00Z&to=2026-01-01T00:00:00Z',
        'to=10000-01-01T00:00:00Z',
        'from=2026-05-01T00:00:00Z&to=2026-04-01T00:00:00Z',
        'limit=0',
        'limit=1001',
        'limit=1e3',
        'offset=-1',
        'offset=99999999999999999999',
        'user=%00',
        'action=a%0Ab',
        `bucket=${'b'.repeat(300)}`,
        'backend=..%2F..',
        'status[]=ok',
        'unknown=1',
      ]) {
        const res = await fx.admin.request(`/api/admin/audit?${query}`);
        expect([query, res.status, res.body?.error?.code]).toEqual([query, 400, 'bad_request']);
      }
      expect((await fx.admin.request('/api/admin/audit.csv?from=nope')).status).toBe(400);
    });
  });

  it('exports CSV with safe cells, correct quoting and a file name naming its range', async () => {
    await db.query(
      `INSERT INTO audit_events (action, username, bucket, object_key, user_agent, status, detail)
       VALUES ('object.upload', '-sneaky', '@bucket', '=HYPERLINK("http://evil","x")', '+agent', 'ok', '{"a":"b,c"}'),
              ('object.upload', 'plain', 'b', E'line\\nbreak', 'tab', 'ok', NULL)`,
    );
    const res = await fx.admin.request(
      '/api/admin/audit.csv?action=object.upload&from=2020-01-01&to=2999-01-01T00:00:00Z',
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(
      'attachment; filename="audit-20200101T000000Z-29990101T000000Z.csv"',
    );
    const text = res.text;
    expect(text.split('\r\n')[0]).toBe(
      'id,timestamp,user_id,username,action,backend,bucket,key,request_id,ip,user_agent,status,detail',
    );
    expect(text).toContain(
      `,'-sneaky,object.upload,,'@bucket,"'=HYPERLINK(""http://evil"",""x"")",,,'+agent,ok,"{""a"": ""b,c""}"`,
    );
    expect(text).toContain(',"line\nbreak",');
    for (const line of text.split('\r\n').slice(1)) {
      for (const cell of line.split(',')) expect(/^[=+@-]/.test(cell.replace(/^"/, ''))).toBe(false);
    }
  });

  it('streams 100,000 rows with flat memory (measured on an instance in a process of its own)', async () => {
    await db.query(`
      INSERT INTO audit_events (action, username, backend_id, bucket, object_key, user_agent, status, detail)
      SELECT CASE WHEN i <= 10000 THEN 'csv.small' ELSE 'csv.bulk' END, 'csv-user', 'bulk-a', 'csv-bucket',
             'some/fairly/long/object/key/' || i || '.bin',
             'aws-sdk-js/3.0 ua/2.1 os/linux lang/js md/nodejs#20', 'ok', jsonb_build_object('http_status', 200, 'bytes_in', i)
      FROM generate_series(1, 110000) AS i`);
    // --expose-gc and a probe: after each export a full collection shows what the instance still holds.
    const child = await startChildApp(stack, {}, { gcProbe: true });
    try {
      const admin = new Session(child.url, fx.admin.token, fx.admin.csrf);
      const MiB = 2 ** 20;
      const exportOf = async (action: string) => {
        const before = child.memory().rss;
        let peak = before;
        const sampler = setInterval(() => (peak = Math.max(peak, child.memory().rss)), 10);
        const res = await fetch(`${admin.baseUrl}/api/admin/audit.csv?action=${action}`, {
          headers: { cookie: admin.cookie },
        });
        expect(res.status).toBe(200);
        let lines = 0;
        let bytes = 0;
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          bytes += chunk.length;
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
        }
        clearInterval(sampler);
        const held = await child.gc();
        return {
          rows: lines - 1,
          mib: bytes / MiB,
          before: before / MiB,
          peak: peak / MiB,
          heap: held.heap_used / MiB,
        };
      };
      // A first small export warms the instance up (code paths compiled, pool connected).
      const small = await exportOf('csv.small');
      const runs = [await exportOf('csv.bulk'), await exportOf('csv.bulk'), await exportOf('csv.bulk')];
      const fmt = (r: typeof small) =>
        `${r.rows} rows (${r.mib.toFixed(1)} MiB): RSS ${r.before.toFixed(0)} MiB before, peak ${r.peak.toFixed(0)} MiB ` +
        `(+${(r.peak - r.before).toFixed(1)} MiB), heap after a full GC ${r.heap.toFixed(1)} MiB`;
      console.log(
        `audit CSV export, server memory:\n  warm-up ${fmt(small)}\n${runs.map((r, i) => `  export ${i + 1}: ${fmt(r)}`).join('\n')}`,
      );
      expect([small.rows, ...runs.map((r) => r.rows)]).toEqual([10_000, 100_000, 100_000, 100_000]);
      // Nothing of an export stays: after a full collection the heap is what it was after the
      // warm-up, however many exports ran (100,000 rows held would be tens of MiB).
      for (const r of runs) expect(r.heap - small.heap).toBeLessThan(8);
      expect(runs[2].heap - runs[0].heap).toBeLessThan(4);
      // The peak is garbage awaiting collection, bounded and not growing from export to export.
      for (const r of runs) expect(r.peak - r.before).toBeLessThan(64);
      expect(runs[2].peak).toBeLessThan(runs[0].peak + 16);
    } finally {
      child.child.process.kill('SIGTERM');
      await child.child.exit;
    }
  }, 180_000);
});
