import { Module } from '@nestjs/common';
import { QuotasModule } from '../../quotas/quotas.module';
import { StorageBackendsModule } from '../../storage-backends/storage-backends.module';
import { S3AccessDirectoryService } from '../access/s3-access-directory.service';
import { S3AccessModule } from '../access/s3-access.module';
import { ProxyAuthenticator } from './authenticate';
import { S3_ACCESS_DIRECTORY } from './exchange';
import { ProxyForwarder } from './forward';
import { ProxyGate } from './gate';
import { ProxyPostObject } from './post-object';
import { ProxyAuditRecorder } from './proxy-audit.recorder';
import { ProxyMetrics } from './proxy-metrics';
import { ProxyQuota } from './quota';
import { ProxyRecorder } from './record';
import { RpsLimiter } from './rps-limiter';
import { S3ProxyHandler } from './s3-proxy.handler';
import { S3ProxyServer } from './s3-proxy.server';

/** The embedded S3 endpoint: its listener, request pipeline (route, authenticate, gate, forward, record) and limits; the upstream client comes from StorageBackendsModule. */
@Module({
  imports: [S3AccessModule, StorageBackendsModule, QuotasModule],
  providers: [
    { provide: S3_ACCESS_DIRECTORY, useExisting: S3AccessDirectoryService },
    S3ProxyHandler,
    ProxyAuthenticator,
    ProxyGate,
    ProxyForwarder,
    ProxyRecorder,
    S3ProxyServer,
    RpsLimiter,
    ProxyMetrics,
    ProxyAuditRecorder,
    ProxyQuota,
    ProxyPostObject,
  ],
  exports: [S3ProxyServer],
})
export class S3ProxyModule {}
