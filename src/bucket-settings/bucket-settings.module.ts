import { Module } from '@nestjs/common';
import { ChangeAnnouncerModule } from '../change-announcer/change-announcer.module';
import { StorageBackendsModule } from '../storage-backends/storage-backends.module';
import { BucketSettingsController } from './bucket-settings.controller';
import { BucketSettingsService } from './bucket-settings.service';

/** Per-bucket settings kept by the upstream: versioning, CORS, policy and lifecycle rules. */
@Module({
  imports: [StorageBackendsModule, ChangeAnnouncerModule],
  controllers: [BucketSettingsController],
  providers: [BucketSettingsService],
})
export class BucketSettingsModule {}
