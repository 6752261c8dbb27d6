import { Module } from '@nestjs/common';
import { S3AccessEvents } from './s3-access-events.service';

/** The change announcements alone, for modules whose writes affect the S3 proxy (users, CORS). */
@Module({ providers: [S3AccessEvents], exports: [S3AccessEvents] })
export class S3AccessEventsModule {}
