import type { Provider } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import pino from 'pino';
import { BackendConfig, StowageConfig } from '@stowage/config';
import { AuditService } from '../../src/audit/audit.service';
import { Actor } from '../../src/access/actor';
import { Identity } from '../../src/access/identity';
import { EnvService } from '../../src/config/env.service';
import { LOGGER } from '../../src/logging/logging.module';
import { QuotaReservations } from '../../src/quotas/quota-reservations.service';
import { RedisService } from '../../src/redis/redis.service';
import { RootKeyService } from '../../src/secrets/root-key.service';
import { BackendRegistry } from '../../src/storage-backends/backend-registry.service';
import { BackendSpec } from '../../src/storage-backends/backend-spec';
import { BackendFactory } from '../../src/storage-backends/backend.factory';
import { BackendsRepository } from '../../src/storage-backends/backends.repository';
import { MemoryDriver } from './fakes/memory.driver';

const PROBED = new Set([
  'then',
  'asymmetricMatch',
  'onModuleInit',
  'onApplicationBootstrap',
  'onModuleDestroy',
  'beforeApplicationShutdown',
  'onApplicationShutdown',
]);

/**
 * A stand-in that answers only what the test gave it: any other property read throws, naming
 * the stub and the member, so a service that starts calling something new fails loudly.
 */
export function strictStub<T extends object>(name: string, members: Partial<Record<keyof T, unknown>> = {}): T {
  return new Proxy(members as T, {
    get(target, property) {
      if (property in target) return target[property as keyof T];
      // Promise resolution, Jest's printing and Nest's lifecycle probe these; no service calls them.
      if (typeof property === 'symbol' || PROBED.has(property)) return undefined;
      throw new Error(`${name}.${String(property)} was not expected in this test`);
    },
  });
}

/** The default configuration, changed where a test says so. */
export function testConfig(change: (config: StowageConfig) => void = () => undefined): StowageConfig {
  const config = new StowageConfig();
  change(config);
  return config;
}

/** Collects audit rows instead of writing them. */
export class AuditLog {
  readonly rows: Array<Record<string, unknown>> = [];
  readonly service = strictStub<AuditService>('AuditService', {
    // Durable rows (record) and best-effort ones (note) land in the same list here.
    recordBy: async (actor: Actor, event: Record<string, unknown>) => this.byActor(actor, event),
    noteBy: async (actor: Actor, event: Record<string, unknown>) => this.byActor(actor, event),
    record: async (event: Record<string, unknown>) => void this.rows.push(event),
    note: async (event: Record<string, unknown>) => void this.rows.push(event),
  });

  private byActor(actor: Actor, event: Record<string, unknown>): void {
    this.rows.push({ ...event, userId: actor.identity.id });
  }

  actions(): unknown[] {
    return this.rows.map((r) => r.action);
  }
}

export const silentLogger = pino({ enabled: false });

export interface ServiceSetup {
  /** Served by a real {@link BackendRegistry} as config-managed backends, one per driver id. */
  drivers: MemoryDriver[];
  /** The services under test and stubs of what they need beyond the shared ones below. */
  providers: Provider[];
  config?: StowageConfig;
  /** Members of RedisService beyond `key` (which prefixes with `test:`). */
  redis?: Partial<Record<keyof RedisService, unknown>>;
  rootKey?: RootKeyService;
}

/**
 * Compiles and initialises a Nest testing module holding the services under test, the memory
 * drivers behind a real registry (no stored backend, no Redis connection: the registry's change
 * channel is a silent stand-in), the configuration, a silent logger and strict stubs for the rest.
 */
export async function buildServices(setup: ServiceSetup): Promise<TestingModule> {
  const config = setup.config ?? testConfig();
  const byId = new Map(setup.drivers.map((d) => [d.id, d]));
  config.backends = setup.drivers.map((d) =>
    Object.assign(new BackendConfig(), { id: d.id, name: d.displayName, endpoint: `http://${d.id}.invalid` }),
  );
  const subscriber = { on: () => subscriber, subscribe: async () => 1 };
  const module = await Test.createTestingModule({
    providers: [
      BackendRegistry,
      { provide: StowageConfig, useValue: config },
      { provide: EnvService, useValue: strictStub<EnvService>('EnvService', { get: () => undefined }) },
      { provide: LOGGER, useValue: silentLogger },
      { provide: RootKeyService, useValue: setup.rootKey ?? rootKeyStub() },
      {
        provide: BackendFactory,
        useValue: strictStub<BackendFactory>('BackendFactory', { create: (spec: BackendSpec) => byId.get(spec.id)! }),
      },
      {
        provide: BackendsRepository,
        useValue: strictStub<BackendsRepository>('BackendsRepository', { listWithSecrets: async () => [] }),
      },
      {
        provide: RedisService,
        useValue: strictStub<RedisService>('RedisService', {
          key: (...parts: Array<string | number>) => `test:${parts.join(':')}`,
          duplicate: () => subscriber,
          ...setup.redis,
        }),
      },
      // No quota on any bucket: holds are empty (the quota rules run against PostgreSQL in test/e2e).
      { provide: QuotaReservations, useValue: unlimitedQuotas() },
      ...setup.providers,
    ],
  }).compile();
  await module.init();
  return module;
}

/** Reservations on buckets without quotas: every hold is empty, nothing is counted. */
export function unlimitedQuotas(): QuotaReservations {
  const hold = {
    limited: false,
    grow: async () => undefined,
    commit: async () => undefined,
    release: async () => undefined,
  };
  return strictStub<QuotaReservations>('QuotaReservations', {
    reserve: async () => hold,
    reserving: async <T>(_ref: unknown, _bytes: number, write: (held: typeof hold) => Promise<T>) => write(hold),
    isLimited: async () => false,
    removed: async () => undefined,
    adjust: async () => undefined,
  });
}

/** A root key service without a key unless one is given. */
export function rootKeyStub(sealer?: unknown): RootKeyService {
  return strictStub<RootKeyService>('RootKeyService', {
    available: sealer !== undefined,
    require: () => {
      if (!sealer) throw new Error('RootKeyService.require() without a key');
      return sealer;
    },
  });
}

let nextUser = 0;

/** A signed-in caller with a session, as the auth guard hands it to controllers. */
export function identity(change: Partial<Identity> = {}): Identity {
  nextUser++;
  return {
    id: `00000000-0000-4000-8000-${String(nextUser).padStart(12, '0')}`,
    username: `user${nextUser}`,
    email: null,
    role: 'user',
    identitySource: 'local',
    enabled: true,
    mustChangePassword: false,
    sessionId: `session-${nextUser}`,
    csrfHash: '',
    ...change,
  };
}

export const actorOf = (who: Identity): Actor & { identity: Identity } => ({
  identity: who,
  origin: { requestId: 'test', ip: '127.0.0.1' },
});
