import { Module } from '@nestjs/common';
import { StorageBackendsModule } from '../storage-backends/storage-backends.module';
import { ObjectsController } from './objects.controller';
import { ObjectsService } from './objects.service';

/** Object listing, download, upload and deletion through the backend seam. */
@Module({ imports: [StorageBackendsModule], controllers: [ObjectsController], providers: [ObjectsService] })
export class ObjectsModule {}
