import { Module } from '@nestjs/common';
import { AdminBackendsController } from './admin-backends.controller';
import { BackendHealthService } from './backend-health.service';
import { BackendRegistry } from './backend-registry.service';
import { BackendFactory } from './backend.factory';
import { BackendsController } from './backends.controller';
import { BackendsRepository } from './backends.repository';
import { BackendsService } from './backends.service';
import { EndpointPolicy } from './endpoint-policy.service';
import { UpstreamClient } from './upstream/upstream-client';

/** The backend registry, health probes, the administration of backends, and the signed upstream client both planes use. */
@Module({
  controllers: [BackendsController, AdminBackendsController],
  providers: [
    BackendFactory,
    BackendRegistry,
    BackendHealthService,
    BackendsRepository,
    BackendsService,
    EndpointPolicy,
    UpstreamClient,
  ],
  exports: [BackendRegistry, EndpointPolicy, UpstreamClient],
})
export class StorageBackendsModule {}
