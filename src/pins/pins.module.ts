import { Module } from '@nestjs/common';
import { StorageBackendsModule } from '../storage-backends/storage-backends.module';
import { PinsController } from './pins.controller';
import { PinsService } from './pins.service';

/** Buckets each user pinned to the top of their dashboard. */
@Module({ imports: [StorageBackendsModule], controllers: [PinsController], providers: [PinsService] })
export class PinsModule {}
