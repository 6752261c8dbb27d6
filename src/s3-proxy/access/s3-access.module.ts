import { Module } from '@nestjs/common';
import { StorageBackendsModule } from '../../storage-backends/storage-backends.module';
import { QuotasModule } from '../../quotas/quotas.module';
import { UsersModule } from '../../users/users.module';
import { AdminNamespacesController } from './admin-namespaces.controller';
import { AdminS3AnonymousController } from './admin-s3-anonymous.controller';
import { AdminS3CredentialsController } from './admin-s3-credentials.controller';
import { AdminS3ProxyController } from './admin-s3-proxy.controller';
import { MeS3CredentialsController } from './me-s3-credentials.controller';
import { NamespacesService } from './namespaces.service';
import { S3AccessDirectoryService } from './s3-access-directory.service';
import { ChangeAnnouncerModule } from '../../change-announcer/change-announcer.module';
import { S3AnonymousService } from './s3-anonymous.service';
import { S3CredentialsRepository } from './s3-credentials.repository';
import { S3CredentialsService } from './s3-credentials.service';

/**
 * Who may use the S3 proxy: virtual credentials and anonymous bindings, their REST API, and the
 * directory the proxy consults on every request. The routes exist whether or not the proxy
 * listens, so credentials can be prepared before it is switched on.
 */
@Module({
  imports: [StorageBackendsModule, UsersModule, ChangeAnnouncerModule, QuotasModule],
  controllers: [
    MeS3CredentialsController,
    AdminS3CredentialsController,
    AdminS3AnonymousController,
    AdminS3ProxyController,
    AdminNamespacesController,
  ],
  providers: [
    S3AccessDirectoryService,
    S3CredentialsRepository,
    S3CredentialsService,
    S3AnonymousService,
    NamespacesService,
  ],
  exports: [S3AccessDirectoryService, ChangeAnnouncerModule],
})
export class S3AccessModule {}
