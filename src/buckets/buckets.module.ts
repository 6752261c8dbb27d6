import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { ChangeAnnouncerModule } from '../change-announcer/change-announcer.module';
import { QuotasModule } from '../quotas/quotas.module';
import { SIZE_SCAN_QUEUE } from '../quotas/size-scan.jobs';
import { StorageBackendsModule } from '../storage-backends/storage-backends.module';
import { BucketQuotasController } from './bucket-quotas.controller';
import { BucketQuotasService } from './bucket-quotas.service';
import { BucketSettingsController } from './bucket-settings.controller';
import { BucketSettingsService } from './bucket-settings.service';
import { BucketsController } from './buckets.controller';
import { BucketsService } from './buckets.service';
import { PrefixSizeService } from './prefix-size.service';

/**
 * Buckets of a backend: listing, creating and deleting them, the settings the upstream keeps
 * per bucket (versioning, CORS, policy, lifecycle), and the sizes and quotas Stowage keeps. CORS
 * rules are also stored for the S3 proxy, which hears of changes through the change announcer.
 */
@Module({
  imports: [
    StorageBackendsModule,
    ChangeAnnouncerModule,
    QuotasModule,
    BullModule.registerQueue({ name: SIZE_SCAN_QUEUE }),
  ],
  controllers: [BucketsController, BucketSettingsController, BucketQuotasController],
  providers: [BucketsService, BucketSettingsService, BucketQuotasService, PrefixSizeService],
})
export class BucketsModule {}
