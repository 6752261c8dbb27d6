import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestStack } from '../harness/app';
import { freePort } from '../harness/child-app';
import { http } from '../harness/http';
import { bootWithProxy, createBucket, mintCredential, ProxyFixture, proxyClient } from '../harness/s3-proxy';

/** The names of the metrics catalogue that apply, and the standard process and runtime ones. */
const EXPECTED = [
  'stowage_requests_total',
  'stowage_request_duration_seconds_bucket',
  'stowage_response_bytes_bucket',
  'stowage_s3_request_total',
  'stowage_s3_request_duration_seconds_bucket',
  'stowage_s3_upstream_duration_seconds_bucket',
  'stowage_s3_bytes_in_total',
  'stowage_s3_credential_cache_size',
  'stowage_s3_inflight_requests',
  'stowage_audit_commit_duration_seconds_bucket',
  'stowage_audit_commit_wait_seconds_bucket',
  'stowage_audit_pending_rows',
  'stowage_queue_jobs',
  'process_resident_memory_bytes',
  'process_cpu_seconds_total',
  'nodejs_heap_size_used_bytes',
  'nodejs_eventloop_lag_seconds',
];

/**
 * /metrics: the catalogue's names with bounded labels, valid for `promtool check metrics`, and
 * scraped by a real Prometheus (Debian's `prometheus` package) that answers a query for one
 * series of ours.
 */
describe('metrics', () => {
  let stack: TestStack;
  let fx: ProxyFixture;
  let client: S3Client;
  let prometheus: ChildProcess | undefined;
  let dataDir: string | undefined;
  let prometheusUrl = '';

  beforeAll(async () => {
    stack = await TestStack.start();
    fx = await bootWithProxy(stack);
    await createBucket(fx.admin, fx.backendId, 'metrics-e2e');
    client = proxyClient(
      fx.endpoint,
      await mintCredential(fx.user, [{ backend_id: fx.backendId, bucket: 'metrics-e2e' }]),
    );
    await client.send(new PutObjectCommand({ Bucket: 'metrics-e2e', Key: 'a.txt', Body: 'a' }));
    // A request naming an unknown backend and a random path: neither may become a label.
    await fx.user.request('/api/backends/no-such-backend-7f3a/buckets/x/objects');
    await fx.user.request('/api/definitely/not/a/route/9c1e');
  }, 60_000);

  afterAll(async () => {
    client?.destroy();
    prometheus?.kill('SIGKILL');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    await stack?.stop();
  });

  it('exposes the catalogue names, labels bounded, and passes promtool check metrics', async () => {
    const res = await http(fx.app.url, '/metrics');
    expect(res.status).toBe(200);
    const names = new Set(
      res.text
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => l.split(/[{ ]/)[0]),
    );
    expect(EXPECTED.filter((n) => !names.has(n))).toEqual([]);
    expect(res.text).toMatch(/stowage_requests_total\{method="POST",status_class="2xx",backend="local"\} \d+/);
    expect(res.text).not.toContain('no-such-backend-7f3a');
    expect(res.text).not.toContain('9c1e');
    const check = spawnSync('promtool', ['check', 'metrics'], { input: res.text, encoding: 'utf8' });
    if (check.status !== 0) console.log(check.stdout, check.stderr);
    expect(check.error).toBeUndefined();
    expect(check.status).toBe(0);
  });

  it('is scraped by a real Prometheus, which answers a query for one of its series', async () => {
    const [port] = await Promise.all([freePort()]);
    dataDir = mkdtempSync(join(tmpdir(), 'stowage-prometheus-'));
    const target = new URL(fx.app.url).host;
    writeFileSync(
      join(dataDir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: stowage\n    static_configs:\n      - targets: ['${target}']\n`,
    );
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dataDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dataDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    prometheusUrl = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 30_000;
    let result: Array<{ metric: Record<string, string>; value: [number, string] }> = [];
    while (Date.now() < deadline) {
      try {
        const res = await fetch(
          `http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent('stowage_s3_request_total{operation="PutObject"}')}`,
        );
        if (res.ok) {
          result = ((await res.json()) as { data: { result: typeof result } }).data.result;
          if (result.length > 0) break;
        }
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(result.length).toBeGreaterThan(0);
    expect(result[0].metric).toMatchObject({ job: 'stowage', operation: 'PutObject', method: 'PUT', status: '200' });
    expect(Number(result[0].value[1])).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('backs every panel of the Grafana dashboard: each query parses, each metric it names is exported', async () => {
    const dashboard = JSON.parse(
      readFileSync(join(__dirname, '../../deploy/grafana/stowage-dashboard.json'), 'utf8'),
    ) as {
      panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
    };
    const exported = new Set(
      (await http(fx.app.url, '/metrics')).text
        .split('\n')
        .filter((l) => l.startsWith('# TYPE '))
        .flatMap((l) => {
          const [, , name, type] = l.split(' ');
          return type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name];
        }),
    );
    const problems: string[] = [];
    let queries = 0;
    for (const panel of dashboard.panels) {
      for (const { expr } of panel.targets ?? []) {
        queries++;
        for (const name of expr.match(/\b(?:stowage|process|nodejs)_[a-z0-9_]+/g) ?? []) {
          if (!exported.has(name)) problems.push(`${panel.title}: ${name} is not exported`);
        }
        const query = expr
          .replace(/\$__rate_interval|\$__range/g, '1m')
          .replace(/\$(job|instance|route|method)\b/g, '.*');
        const res = await fetch(`${prometheusUrl}/api/v1/query?query=${encodeURIComponent(query)}`);
        const body = (await res.json()) as { status: string; error?: string };
        if (body.status !== 'success') problems.push(`${panel.title}: ${body.error}`);
      }
    }
    expect(problems).toEqual([]);
    expect(queries).toBeGreaterThan(40);
  });
});
