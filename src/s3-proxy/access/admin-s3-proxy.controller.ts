import { Controller, Get, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../../access/authenticated.decorator';
import { AnonymousBindingViewListDto } from './dto/anonymous-binding.dto';
import { S3CredentialViewListDto } from './dto/s3-credential.dto';
import { S3AnonymousService } from './s3-anonymous.service';
import { S3CredentialsService } from './s3-credentials.service';

/** Read-only views of everything the S3 proxy recognises, each row tagged with its source. */
@ApiTags('admin: s3 proxy')
@Controller('api/admin/s3-proxy')
export class AdminS3ProxyController {
  constructor(
    private readonly credentials: S3CredentialsService,
    private readonly anonymous: S3AnonymousService,
  ) {}

  @Get('credentials')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Every credential the proxy accepts, with its source (always "db").' })
  @ApiOkResponse({ type: S3CredentialViewListDto })
  async credentialsView(@Req() request: FastifyRequest): Promise<S3CredentialViewListDto> {
    return { credentials: await this.credentials.view(request.hostname) };
  }

  @Get('anonymous')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Every anonymous binding the proxy applies, with its source (always "db").' })
  @ApiOkResponse({ type: AnonymousBindingViewListDto })
  async anonymousView(): Promise<AnonymousBindingViewListDto> {
    return { bindings: await this.anonymous.view() };
  }
}
