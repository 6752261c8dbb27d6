import { Module } from '@nestjs/common';
import { QuotasModule } from '../quotas/quotas.module';
import { StorageBackendsModule } from '../storage-backends/storage-backends.module';
import { FormUploadService } from './form-upload.service';
import { MultipartController } from './multipart.controller';
import { MultipartService } from './multipart.service';
import { ObjectAttributesController } from './object-attributes.controller';
import { ObjectAttributesService } from './object-attributes.service';
import { ObjectCopier } from './object-copier';
import { ObjectsController } from './objects.controller';
import { ObjectsService } from './objects.service';
import { PrefixTransfersService } from './prefix-transfers.service';
import { TransfersController } from './transfers.controller';
import { TransfersService } from './transfers.service';
import { ZipController } from './zip.controller';
import { ZipService } from './zip.service';

/** Object listing, download, upload and deletion through the backend seam. */
@Module({
  imports: [StorageBackendsModule, QuotasModule],
  controllers: [ObjectsController, MultipartController, ObjectAttributesController, TransfersController, ZipController],
  providers: [
    ObjectsService,
    FormUploadService,
    MultipartService,
    ObjectAttributesService,
    ObjectCopier,
    TransfersService,
    PrefixTransfersService,
    ZipService,
  ],
  exports: [ObjectsService],
})
export class ObjectsModule {}
