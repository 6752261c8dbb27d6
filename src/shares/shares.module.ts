import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ObjectsModule } from '../objects/objects.module';
import { StorageBackendsModule } from '../storage-backends/storage-backends.module';
import { ShareAccessController } from './share-access.controller';
import { ShareAccessService } from './share-access.service';
import { SharePageController } from './share-page.controller';
import { ShareRateLimitGuard } from './share-rate-limit.guard';
import { SharesController } from './shares.controller';
import { SharesRepository } from './shares.repository';
import { SharesService } from './shares.service';

/**
 * Public share links: `/api/shares` for their owners, `/s/{code}/…` and the recipient page for
 * anyone holding a link. Object reads go through the objects service (Range, conditionals).
 */
@Module({
  imports: [AuthModule, StorageBackendsModule, ObjectsModule],
  controllers: [SharesController, ShareAccessController, SharePageController],
  providers: [SharesRepository, SharesService, ShareAccessService, ShareRateLimitGuard],
})
export class SharesModule {}
