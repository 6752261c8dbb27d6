import { Global, Module } from '@nestjs/common';
import { AuditQueryService } from './audit-query.service';
import { AuditRetentionService } from './audit-retention.service';
import { AuditController } from './audit.controller';
import { AuditService } from './audit.service';

/** Writes audit rows for every module (global) and serves them to admins. */
@Global()
@Module({
  controllers: [AuditController],
  providers: [AuditService, AuditQueryService, AuditRetentionService],
  exports: [AuditService, AuditRetentionService],
})
export class AuditModule {}
