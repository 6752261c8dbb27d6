import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { TestStack } from './app';
import { Child, runTs } from './child';
import { TEST_REDIS_URL } from './redis';
import { ROOT_KEY } from './s3-proxy';
import { freePort } from './ports';
import { s3rverBackend } from './s3rver';

export { freePort };

export interface ChildApp {
  child: Child;
  url: string;
  /** The S3 proxy listener. */
  endpoint: string;
  pid: number;
  /** Resident memory now and at its peak so far, in bytes (Linux /proc). */
  memory(): { rss: number; peak: number };
  /**
   * A full garbage collection in the child, then its heap figures in bytes: what it still holds.
   * Only for an app started with `{ gcProbe: true }`.
   */
  gc(): Promise<{ heap_used: number; heap_total: number; external: number; rss: number }>;
}

/**
 * The real `stowage serve` in a child process, on the stack's database, Redis namespace and S3
 * server (backend `local`), with the S3 proxy: for tests that kill it, or measure its memory
 * apart from the test's own.
 */
export async function startChildApp(
  stack: TestStack,
  config: Record<string, unknown> = {},
  options: { gcProbe?: boolean } = {},
): Promise<ChildApp> {
  const [port, proxyPort] = await Promise.all([freePort(), freePort()]);
  const s3 = stack.s3!;
  const file = join(mkdtempSync(join(tmpdir(), 'stowage-child-')), 'stowage.yaml');
  writeFileSync(
    file,
    stringify({
      server: { listen: `127.0.0.1:${port}` },
      db: { url: stack.db.url, pool_size: 10 },
      redis: { url: TEST_REDIS_URL, key_prefix: stack.redisPrefix },
      ratelimit: { login_per_ip: 0, api_per_minute: 0 },
      s3_proxy: { enabled: true, listen: `127.0.0.1:${proxyPort}` },
      backends: [s3rverBackend('local', s3, { region: true })],
      ...config,
    }),
  );
  const child = runTs(
    'src/main.ts',
    ['serve', '--config', file],
    {
      STOWAGE_CONFIG: file,
      STOWAGE_SECRET_KEY: ROOT_KEY,
      K: s3.accessKey,
      S: s3.secretKey,
      STOWAGE_LOG_LEVEL: 'info',
    },
    options.gcProbe ? ['--expose-gc', '-r', join(__dirname, 'gc-probe.js')] : [],
  );
  await child.waitForLog(/stowage is listening/, 60_000);
  const pid = child.process.pid!;
  let probes = 0;
  const status = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  };
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    endpoint: `http://127.0.0.1:${proxyPort}`,
    pid,
    memory: () => ({ rss: status('VmRSS'), peak: status('VmHWM') }),
    gc: async () => {
      if (!options.gcProbe) throw new Error('started without { gcProbe: true }');
      const seq = ++probes;
      child.process.kill('SIGUSR2');
      const line = await child.waitForLog(new RegExp(`^gc probe ${seq}$`), 30_000);
      return line as unknown as { heap_used: number; heap_total: number; external: number; rss: number };
    },
  };
}
