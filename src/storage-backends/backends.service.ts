import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { StowageConfig } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import { AuditService } from '../audit/audit.service';
import { Actor } from '../access/actor';
import { BackendHealthService, ProbeRecord } from './backend-health.service';
import { BackendRegistry, backendSecretContext, RegisteredBackend } from './backend-registry.service';
import { BackendSpec } from './backend-spec';
import { BackendEntity } from './backend.entity';
import { BackendFactory } from './backend.factory';
import { BackendsRepository } from './backends.repository';
import { RootKeyService } from '../secrets/root-key.service';
import { LOGGER } from '../logging/logging.module';
import { EndpointPolicy } from './endpoint-policy.service';
import { describeCause, probeFailureText } from './probe-failure';
import {
  BackendDto,
  BackendHealthDto,
  CreateEndpointDto,
  EndpointDto,
  PatchEndpointDto,
  ProbeResultDto,
  TestEndpointDto,
  TestEndpointResultDto,
} from './dto/backend.dto';

const TEST_TIMEOUT_MS = 5_000;

/** Backends as the dashboard sees them, and the administration of UI-managed ones. */
@Injectable()
export class BackendsService {
  constructor(
    private readonly config: StowageConfig,
    private readonly registry: BackendRegistry,
    private readonly health: BackendHealthService,
    private readonly repository: BackendsRepository,
    private readonly factory: BackendFactory,
    private readonly rootKey: RootKeyService,
    private readonly audit: AuditService,
    private readonly policy: EndpointPolicy,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async list(): Promise<BackendDto[]> {
    return Promise.all(
      this.registry.list().map(async (entry) => this.toDto(entry, (await this.health.history(entry.backend.id))[0])),
    );
  }

  async get(id: string): Promise<BackendDto> {
    const entry = this.mustGet(id);
    return this.toDto(entry, (await this.health.history(id))[0]);
  }

  async probe(id: string): Promise<ProbeResultDto> {
    this.mustGet(id);
    const record = await this.health.probe(id);
    return {
      healthy: record.healthy,
      last_probe_at: record.at,
      last_error: record.error ?? '',
      latency_ms: record.latency_ms,
    };
  }

  async healthAll(): Promise<BackendHealthDto[]> {
    return Promise.all(
      this.registry.list().map(async ({ backend }) => {
        const history = await this.health.history(backend.id);
        const latest = history[0];
        return {
          id: backend.id,
          name: backend.displayName,
          healthy: latest?.healthy ?? false,
          last_probe_at: latest?.at,
          last_error: latest?.error,
          latency_ms: latest?.latency_ms ?? 0,
          history,
        };
      }),
    );
  }

  async endpoints(): Promise<EndpointDto[]> {
    const fromConfig = await Promise.all(this.config.backends.map((b) => this.configEndpoint(b.id)));
    const rows = await this.repository.list();
    const fromDb = await Promise.all(
      rows.filter((r) => !this.registry.isConfigManaged(r.id)).map((r) => this.dbEndpoint(r)),
    );
    return [...fromConfig, ...fromDb].sort((a, b) => a.id.localeCompare(b.id));
  }

  async endpoint(id: string): Promise<EndpointDto> {
    if (this.registry.isConfigManaged(id)) return this.configEndpoint(id);
    const row = await this.repository.findWithSecret(id);
    if (!row) throw new StowageError('not_found', 'Backend not found.', id);
    return this.dbEndpoint(row);
  }

  async create(dto: CreateEndpointDto, actor: Actor): Promise<EndpointDto> {
    if (this.registry.isConfigManaged(dto.id))
      throw new StowageError('id_taken', undefined, 'defined in the configuration file');
    const sealer = this.rootKey.require();
    await this.policy.assertAllowed(dto.endpoint);
    await this.repository.insert({
      id: dto.id,
      name: dto.name || dto.id,
      type: 's3v4',
      endpoint: dto.endpoint,
      region: dto.region ?? '',
      pathStyle: dto.path_style ?? false,
      accessKey: dto.access_key,
      secretKeySealed: dto.secret_key ? sealer.seal(dto.secret_key, backendSecretContext(dto.id)) : null,
      enabled: dto.enabled ?? true,
      options: { kind: dto.kind ?? 'generic', checksums: dto.checksums ?? 'when_required' },
      createdBy: actor.identity.id,
      updatedBy: actor.identity.id,
    });
    await this.record(actor, 'backend.create', dto.id, { endpoint: dto.endpoint });
    await this.announce(dto.id);
    return this.endpoint(dto.id);
  }

  async update(id: string, dto: PatchEndpointDto, actor: Actor): Promise<EndpointDto> {
    if (this.registry.isConfigManaged(id)) throw new StowageError('yaml_managed');
    if (!this.rootKey.available) throw new StowageError('store_unavailable');
    const row = await this.repository.findById(id);
    if (!row) throw new StowageError('not_found', 'Backend not found.', id);
    const patch: Partial<BackendEntity> = { updatedBy: actor.identity.id };
    if (dto.endpoint !== undefined) await this.policy.assertAllowed(dto.endpoint);
    if (dto.name !== undefined) patch.name = dto.name || id;
    if (dto.endpoint !== undefined) patch.endpoint = dto.endpoint;
    if (dto.region !== undefined) patch.region = dto.region;
    if (dto.path_style !== undefined) patch.pathStyle = dto.path_style;
    if (dto.access_key !== undefined) patch.accessKey = dto.access_key;
    if (dto.enabled !== undefined) patch.enabled = dto.enabled;
    if (dto.secret_key !== undefined) {
      patch.secretKeySealed = dto.secret_key
        ? this.rootKey.require().seal(dto.secret_key, backendSecretContext(id))
        : null;
    }
    if (dto.kind !== undefined || dto.checksums !== undefined) {
      patch.options = {
        ...row.options,
        ...(dto.kind ? { kind: dto.kind } : {}),
        ...(dto.checksums ? { checksums: dto.checksums } : {}),
      };
    }
    await this.repository.update(id, patch);
    await this.record(actor, 'backend.update', id, {
      changes: Object.keys(dto).filter((k) => k !== 'secret_key' || dto.secret_key !== undefined),
    });
    await this.announce(id);
    return this.endpoint(id);
  }

  async delete(id: string, actor: Actor): Promise<void> {
    if (this.registry.isConfigManaged(id)) throw new StowageError('yaml_managed');
    if (!(await this.repository.delete(id))) throw new StowageError('not_found', 'Backend not found.', id);
    await this.record(actor, 'backend.delete', id);
    await this.registry.changed(id);
  }

  /** Tries credentials without saving them. */
  async test(dto: TestEndpointDto, actor: Actor): Promise<TestEndpointResultDto> {
    await this.policy.assertAllowed(dto.endpoint);
    const spec: BackendSpec = {
      id: 'connection-test',
      name: 'connection test',
      type: 's3v4',
      endpoint: dto.endpoint,
      region: dto.region || 'us-east-1',
      accessKey: dto.access_key,
      secretKey: dto.secret_key,
      pathStyle: dto.path_style ?? false,
      kind: dto.kind ?? 'generic',
      checksums: dto.checksums ?? 'when_required',
      source: 'db',
    };
    const backend = this.factory.create(spec);
    const started = process.hrtime.bigint();
    let error: string | undefined;
    try {
      await backend.probe(TEST_TIMEOUT_MS);
    } catch (err) {
      // One text for every way of not reaching an S3 service: the test must not map open ports.
      this.logger.info({ err: describeCause(err) }, 'backend connection test failed');
      error = probeFailureText(err);
    } finally {
      backend.close();
    }
    const latency = Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;
    await this.record(actor, 'backend.test', null, { endpoint: dto.endpoint, healthy: !error }, error ? 'error' : 'ok');
    return { healthy: !error, latency_ms: latency, ...(error ? { error } : {}) };
  }

  private async announce(id: string): Promise<void> {
    try {
      await this.registry.changed(id);
    } catch (err) {
      throw new StowageError(
        'register_failed',
        undefined,
        ((err as { detail?: string }).detail || (err as Error).message).slice(0, 500),
      );
    }
  }

  private mustGet(id: string): RegisteredBackend {
    const entry = this.registry.entry(id);
    if (!entry) throw new StowageError('not_found', 'Backend not found.', id);
    return entry;
  }

  private toDto(entry: RegisteredBackend, latest: ProbeRecord | undefined): BackendDto {
    return {
      id: entry.backend.id,
      name: entry.backend.displayName,
      capabilities: entry.backend.capabilities,
      healthy: latest?.healthy ?? false,
      ...(latest ? { last_probe_at: latest.at } : {}),
      ...(latest?.error ? { last_error: latest.error } : {}),
    };
  }

  private async configEndpoint(id: string): Promise<EndpointDto> {
    const b = this.config.backends.find((c) => c.id === id)!;
    const latest = (await this.health.history(id))[0];
    return {
      id: b.id,
      name: b.name ?? b.id,
      type: b.type,
      endpoint: b.endpoint,
      region: b.region,
      path_style: b.path_style,
      secret_set: Boolean(b.secret_key_env),
      enabled: true,
      kind: b.kind,
      checksums: b.checksums,
      source: 'config',
      ...this.healthFields(latest),
    };
  }

  private async dbEndpoint(row: BackendEntity): Promise<EndpointDto> {
    const latest = (await this.health.history(row.id))[0];
    const options = row.options;
    return {
      id: row.id,
      name: row.name,
      type: row.type,
      endpoint: row.endpoint,
      region: row.region,
      path_style: row.pathStyle,
      ...(row.accessKey ? { access_key: row.accessKey } : {}),
      secret_set: Boolean(row.secretKeySealed),
      enabled: row.enabled,
      kind: options.kind ?? 'generic',
      checksums: options.checksums ?? 'when_required',
      source: 'db',
      created_at: row.createdAt.toISOString(),
      updated_at: row.updatedAt.toISOString(),
      ...this.healthFields(latest),
    };
  }

  private healthFields(latest: ProbeRecord | undefined) {
    return {
      healthy: latest?.healthy ?? false,
      ...(latest?.error ? { last_error: latest.error } : {}),
      ...(latest ? { last_probe_at: latest.at } : {}),
    };
  }

  private record(
    actor: Actor,
    action: string,
    backendId: string | null,
    detail: Record<string, unknown> = {},
    status = 'ok',
  ) {
    return this.audit.recordBy(actor, {
      action,
      status,
      backendId,
      detail,
    });
  }
}
