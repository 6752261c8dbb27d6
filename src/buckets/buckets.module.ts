import { Module } from '@nestjs/common';
import { ChangeAnnouncerModule } from '../change-announcer/change-announcer.module';
import { StorageBackendsModule } from '../storage-backends/storage-backends.module';
import { BucketSettingsController } from './bucket-settings.controller';
import { BucketSettingsService } from './bucket-settings.service';
import { BucketsController } from './buckets.controller';
import { BucketsService } from './buckets.service';

/**
 * Buckets of a backend: listing, creating and deleting them, and the settings the upstream keeps
 * per bucket (versioning, CORS, policy, lifecycle). CORS rules are also stored for the S3 proxy,
 * which hears of changes through the change announcer.
 */
@Module({
  imports: [StorageBackendsModule, ChangeAnnouncerModule],
  controllers: [BucketsController, BucketSettingsController],
  providers: [BucketsService, BucketSettingsService],
})
export class BucketsModule {}
