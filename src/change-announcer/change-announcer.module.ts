import { Module } from '@nestjs/common';
import { ChangeAnnouncer } from './change-announcer.service';

/**
 * The cross-replica change announcer: modules whose writes affect who may use the S3 proxy
 * (credentials, anonymous bindings, users, bucket CORS) announce them; every replica's S3 access
 * directory listens.
 */
@Module({ providers: [ChangeAnnouncer], exports: [ChangeAnnouncer] })
export class ChangeAnnouncerModule {}
