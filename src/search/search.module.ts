import { Module } from '@nestjs/common';
import { StorageBackendsModule } from '../storage-backends/storage-backends.module';
import { SearchController } from './search.controller';
import { SearchService } from './search.service';

/** A bounded search for buckets and objects across every backend. */
@Module({ imports: [StorageBackendsModule], controllers: [SearchController], providers: [SearchService] })
export class SearchModule {}
