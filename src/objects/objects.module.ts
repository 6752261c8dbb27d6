import { Module } from '@nestjs/common';
import { StorageBackendsModule } from '../storage-backends/storage-backends.module';
import { MultipartController } from './multipart.controller';
import { MultipartService } from './multipart.service';
import { ObjectAttributesController } from './object-attributes.controller';
import { ObjectAttributesService } from './object-attributes.service';
import { ObjectsController } from './objects.controller';
import { ObjectsService } from './objects.service';

/** Object listing, download, upload and deletion through the backend seam. */
@Module({
  imports: [StorageBackendsModule],
  controllers: [ObjectsController, MultipartController, ObjectAttributesController],
  providers: [ObjectsService, MultipartService, ObjectAttributesService],
})
export class ObjectsModule {}
