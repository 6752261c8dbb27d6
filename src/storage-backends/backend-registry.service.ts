import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { StowageConfig } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import { EnvService } from '../config/env.service';
import { LOGGER } from '../logging/logging.module';
import { RedisService } from '../redis/redis.service';
import { RootKeyService } from '../secrets/root-key.service';
import { Backend } from './backend';
import { BackendSpec, BackendSource } from './backend-spec';
import { BackendEntity } from './backend.entity';
import { BackendFactory } from './backend.factory';
import { BackendsRepository } from './backends.repository';
import { assertBucketName } from './bucket-name';

export interface RegisteredBackend {
  backend: Backend;
  /** Endpoint and keys: what the S3 proxy needs to sign for this upstream itself. */
  spec: BackendSpec;
  source: BackendSource;
  /** When the stored row last changed (epoch ms); unchanged rows keep their driver. */
  version?: number;
}

/** The AAD that binds a backend's sealed secret to its id. */
export const backendSecretContext = (id: string) => `backend:${id}`;

/** How often every replica re-reads the database in case a change notice was missed. */
const RESYNC_INTERVAL_MS = 60_000;

/**
 * The live drivers, by backend id: YAML backends (secrets from the environment variables they
 * name) and UI-managed ones from PostgreSQL (secrets sealed with the root key). A change made
 * on any replica is announced on Redis, and every replica rebuilds that backend's driver.
 */
@Injectable()
export class BackendRegistry implements OnModuleInit, OnApplicationShutdown {
  private readonly entries = new Map<string, RegisteredBackend>();
  private subscriber?: Redis;
  private resync?: NodeJS.Timeout;

  constructor(
    private readonly config: StowageConfig,
    private readonly env: EnvService,
    private readonly rootKey: RootKeyService,
    private readonly repository: BackendsRepository,
    private readonly factory: BackendFactory,
    private readonly redis: RedisService,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  private get channel(): string {
    return this.redis.key('backends', 'changed');
  }

  async onModuleInit(): Promise<void> {
    for (const backend of this.config.backends) {
      this.install({
        id: backend.id,
        name: backend.name ?? backend.id,
        type: 's3v4',
        endpoint: backend.endpoint,
        region: backend.region,
        accessKey: this.env.get(backend.access_key_env) ?? '',
        secretKey: this.env.get(backend.secret_key_env) ?? '',
        pathStyle: backend.path_style,
        kind: backend.kind,
        checksums: backend.checksums,
        source: 'config',
      });
    }
    await this.syncDatabase();
    this.subscriber = this.redis.duplicate('backends-subscriber');
    this.subscriber.on('message', (_channel: string, id: string) => {
      void this.reload(id).catch((err: Error) =>
        this.logger.error({ err: err.message, backend: id }, 'backend reload failed'),
      );
    });
    await this.subscriber.subscribe(this.channel);
    this.resync = setInterval(() => void this.syncDatabase().catch(() => undefined), RESYNC_INTERVAL_MS);
    this.resync.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.resync);
    for (const entry of this.entries.values()) entry.backend.close();
    this.entries.clear();
  }

  list(): RegisteredBackend[] {
    return [...this.entries.values()].sort((a, b) => a.backend.id.localeCompare(b.backend.id));
  }

  /** The backend, or `not_found`. */
  get(id: string): Backend {
    const entry = this.entries.get(id);
    if (!entry) throw new StowageError('not_found', 'Backend not found.', id);
    return entry.backend;
  }

  /** The backend holding `bucket` (`not_found`), once the bucket's name passes the rules (`invalid_bucket`). */
  forBucket(target: { backendId: string; bucket: string }): Backend {
    const backend = this.get(target.backendId);
    assertBucketName(target.bucket);
    return backend;
  }

  entry(id: string): RegisteredBackend | undefined {
    return this.entries.get(id);
  }

  isConfigManaged(id: string): boolean {
    return this.config.backends.some((b) => b.id === id);
  }

  /** Rebuilds one UI-managed backend here and tells every other replica to do the same. */
  async changed(id: string): Promise<void> {
    await this.reload(id);
    await this.redis.client.publish(this.channel, id);
  }

  /** Builds the spec of a stored row, opening its secret. */
  specOf(row: BackendEntity): BackendSpec {
    const sealer = this.rootKey.require();
    const options = row.options;
    return {
      id: row.id,
      name: row.name,
      type: 's3v4',
      endpoint: row.endpoint,
      region: row.region,
      accessKey: row.accessKey,
      secretKey: row.secretKeySealed ? sealer.openString(row.secretKeySealed, backendSecretContext(row.id)) : '',
      pathStyle: row.pathStyle,
      kind: options.kind ?? 'generic',
      checksums: options.checksums ?? 'when_required',
      source: 'db',
    };
  }

  private async reload(id: string): Promise<void> {
    if (this.isConfigManaged(id)) return;
    const row = await this.repository.findWithSecret(id);
    if (!row || !row.enabled) {
      this.remove(id);
      return;
    }
    this.install(this.specOf(row), row.updatedAt.getTime());
  }

  private async syncDatabase(): Promise<void> {
    if (!this.rootKey.available) return;
    const rows = await this.repository.listWithSecrets();
    const seen = new Set<string>();
    for (const row of rows) {
      if (this.isConfigManaged(row.id)) continue;
      seen.add(row.id);
      if (this.entries.get(row.id)?.version === row.updatedAt.getTime()) continue;
      try {
        this.install(this.specOf(row), row.updatedAt.getTime());
      } catch (err) {
        this.logger.error({ backend: row.id, err: (err as Error).message }, 'cannot register a stored backend');
      }
    }
    for (const [id, entry] of this.entries) if (entry.source === 'db' && !seen.has(id)) this.remove(id);
  }

  private install(spec: BackendSpec, version?: number): void {
    const previous = this.entries.get(spec.id);
    let backend: Backend;
    try {
      backend = this.factory.create(spec);
    } catch (err) {
      // A backend that can no longer be built (say, its address is now denied) stops serving.
      this.remove(spec.id);
      throw err;
    }
    this.entries.set(spec.id, { backend, spec, source: spec.source, version });
    previous?.backend.close();
  }

  private remove(id: string): void {
    this.entries.get(id)?.backend.close();
    this.entries.delete(id);
  }
}
