import { Global, Module } from '@nestjs/common';
import { RootKeyService } from './root-key.service';

@Global()
@Module({ providers: [RootKeyService], exports: [RootKeyService] })
export class SecretsModule {}
