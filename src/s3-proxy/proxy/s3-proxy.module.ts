import { Module } from '@nestjs/common';
import { StorageBackendsModule } from '../../storage-backends/storage-backends.module';
import { S3AccessDirectoryService } from '../access/s3-access-directory.service';
import { S3AccessModule } from '../access/s3-access.module';
import { ProxyAuditRecorder } from './proxy-audit.recorder';
import { ProxyMetrics } from './proxy-metrics';
import { RpsLimiter } from './rps-limiter';
import { S3_ACCESS_DIRECTORY, S3ProxyHandler } from './s3-proxy.handler';
import { S3ProxyServer } from './s3-proxy.server';
import { UpstreamClient } from './upstream-client';

/** The embedded S3 endpoint: its listener, request pipeline, upstream client and limits. */
@Module({
  imports: [S3AccessModule, StorageBackendsModule],
  providers: [
    { provide: S3_ACCESS_DIRECTORY, useExisting: S3AccessDirectoryService },
    S3ProxyHandler,
    S3ProxyServer,
    UpstreamClient,
    RpsLimiter,
    ProxyMetrics,
    ProxyAuditRecorder,
  ],
  exports: [S3ProxyServer],
})
export class S3ProxyModule {}
