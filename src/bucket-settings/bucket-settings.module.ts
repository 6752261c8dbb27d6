import { Module } from '@nestjs/common';
import { S3AccessEventsModule } from '../s3-proxy/access/s3-access-events.module';
import { StorageBackendsModule } from '../storage-backends/storage-backends.module';
import { BucketSettingsController } from './bucket-settings.controller';
import { BucketSettingsService } from './bucket-settings.service';

/** Per-bucket settings kept by the upstream: versioning, CORS, policy and lifecycle rules. */
@Module({
  imports: [StorageBackendsModule, S3AccessEventsModule],
  controllers: [BucketSettingsController],
  providers: [BucketSettingsService],
})
export class BucketSettingsModule {}
