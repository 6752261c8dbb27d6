import { Module } from '@nestjs/common';
import { AdminBackendsController } from './admin-backends.controller';
import { BackendHealthService } from './backend-health.service';
import { BackendRegistry } from './backend-registry.service';
import { BackendFactory } from './backend.factory';
import { BackendsController } from './backends.controller';
import { BackendsRepository } from './backends.repository';
import { BackendsService } from './backends.service';
import { EndpointPolicy } from './endpoint-policy.service';

/** The backend registry, health probes, and the administration of backends. */
@Module({
  controllers: [BackendsController, AdminBackendsController],
  providers: [
    BackendFactory,
    BackendRegistry,
    BackendHealthService,
    BackendsRepository,
    BackendsService,
    EndpointPolicy,
  ],
  exports: [BackendRegistry, EndpointPolicy],
})
export class StorageBackendsModule {}
