import { appendFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Writable } from 'node:stream';
import type { ModuleMetadata } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createLogger } from '../../src/logging/logger';
import { loadConfig, StowageConfig } from '@stowage/config';
import { createApp, listen } from '../../src/bootstrap';
import { cephS3 } from './ceph';
import { createTestDatabase, TestDatabase } from './database';
import { clearRedisPrefix, TEST_REDIS_URL, uniqueRedisPrefix } from './redis';
import { startS3rver, TestS3 } from './s3rver';

export interface BootOptions {
  /** Deep-merged into the configuration (YAML shape). */
  config?: Record<string, unknown>;
  /** Environment the app sees (secrets named by the config, STOWAGE_SECRET_KEY). */
  env?: Record<string, string | undefined>;
  imports?: ModuleMetadata['imports'];
}

export interface TestApp {
  app: NestFastifyApplication;
  config: StowageConfig;
  url: string;
  /** Log lines the instance wrote (JSON strings). */
  logs: string[];
  close(): Promise<void>;
}

export interface TestStackOptions {
  /**
   * The S3 server: `true` (default) starts an in-process s3rver of the stack's own, `'ceph'` uses the
   * Ceph RGW that the `test:s3-compat` suite's global setup started, `false` none.
   */
  s3?: boolean | 'ceph';
}

/**
 * The state one end-to-end test file runs against: a fresh PostgreSQL database, its own Redis
 * key namespace and a real S3 server. `boot()` starts an app instance on a free port; call it
 * twice for two replicas sharing the same state.
 */
export class TestStack {
  private readonly apps: TestApp[] = [];

  private constructor(
    readonly db: TestDatabase,
    readonly redisPrefix: string,
    readonly s3: TestS3 | undefined,
  ) {}

  static async start(options: TestStackOptions = {}): Promise<TestStack> {
    // cephS3() throws when the suite's setup provided no RGW: before any database is created.
    const ceph = options.s3 === 'ceph' ? cephS3() : undefined;
    const [db, s3] = await Promise.all([
      createTestDatabase(),
      ceph ?? (options.s3 === false ? undefined : startS3rver()),
    ]);
    return new TestStack(db, uniqueRedisPrefix(), s3);
  }

  configFor(options: BootOptions = {}): StowageConfig {
    return loadConfig({
      overrides: deepMerge(
        {
          server: { listen: '127.0.0.1:0', shutdown_timeout: '5s' },
          log: { level: process.env.STOWAGE_TEST_LOG_LEVEL ?? 'info' },
          db: { url: this.db.url, pool_size: 5 },
          redis: { url: TEST_REDIS_URL, key_prefix: this.redisPrefix },
        },
        options.config ?? {},
      ),
    });
  }

  async boot(options: BootOptions = {}): Promise<TestApp> {
    const config = this.configFor(options);
    const logs: string[] = [];
    const logFile = runLogFile();
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        if (logFile) appendFileSync(logFile, chunk);
        logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        if (logs.length > 5000) logs.splice(0, logs.length - 5000);
        done();
      },
    });
    const logger = createLogger(config.log, sink);
    const app = await createApp({ config, env: options.env ?? {}, logger, imports: options.imports });
    const { port } = await listen(app, config);
    let closed = false;
    const instance: TestApp = {
      app,
      config,
      url: `http://127.0.0.1:${port}`,
      logs,
      close: async () => {
        if (closed) return;
        closed = true;
        await app.close();
      },
    };
    this.apps.push(instance);
    return instance;
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.apps.map((a) => a.close()));
    await Promise.allSettled([this.db.drop(), this.s3?.close(), clearRedisPrefix(this.redisPrefix)]);
  }
}

let instances = 0;

/**
 * Where this app instance appends its log lines for the whole-run log scan
 * (test/harness/log-scan): set when the e2e global setup ran, one file per instance.
 */
function runLogFile(): string | undefined {
  const dir = process.env.STOWAGE_E2E_LOG_DIR;
  if (!dir) return undefined;
  const testPath = typeof expect === 'undefined' ? undefined : (expect.getState() as { testPath?: string }).testPath;
  return join(dir, `${basename(testPath ?? 'app')}-${process.pid}-${++instances}.log`);
}

function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] =
      value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      current &&
      typeof current === 'object' &&
      !Array.isArray(current)
        ? deepMerge(current as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}
