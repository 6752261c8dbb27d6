import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, SessionActor } from '../../access/actor';
import { Authenticated } from '../../access/authenticated.decorator';
import { ApiErrors } from '../../docs/api-errors.decorator';
import { NamespaceListDto, NamespaceParams, NamespaceQuotaDto, SetNamespaceQuotaDto } from './dto/namespace.dto';
import { NamespacesService } from './namespaces.service';

const ERRORS = ['bad_request', 'invalid_prefix', 'not_found'] as const;

@ApiTags('admin: s3 proxy')
@Controller('api/admin/namespaces')
export class AdminNamespacesController {
  constructor(private readonly namespaces: NamespacesService) {}

  @Get()
  @Authenticated({ role: 'admin' })
  @ApiOperation({
    summary: 'Every namespace a credential holds or a quota names: holders, quota, usage and bucket count.',
  })
  @ApiOkResponse({ type: NamespaceListDto })
  list(): Promise<NamespaceListDto> {
    return this.namespaces.list();
  }

  @Get(':bid/:prefix/quota')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'The quota of the namespace with its usage (`configured: false` when none is set).' })
  @ApiOkResponse({ type: NamespaceQuotaDto })
  @ApiErrors(...ERRORS)
  get(@Param() { bid, prefix }: NamespaceParams): Promise<NamespaceQuotaDto> {
    return this.namespaces.get({ backendId: bid, prefix });
  }

  @Put(':bid/:prefix/quota')
  @Authenticated({ role: 'admin' })
  @ApiOperation({
    summary: 'Set the soft and hard byte caps (bytes, or sizes such as 8Gi; soft ≤ hard) and max_buckets.',
  })
  @ApiOkResponse({ type: NamespaceQuotaDto })
  @ApiErrors(...ERRORS, 'invalid_quota', 'conflict')
  set(
    @Param() { bid, prefix }: NamespaceParams,
    @Body() body: SetNamespaceQuotaDto,
    @Actor() actor: SessionActor,
  ): Promise<NamespaceQuotaDto> {
    return this.namespaces.set({ backendId: bid, prefix }, body, actor);
  }

  @Delete(':bid/:prefix/quota')
  @HttpCode(204)
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Remove the quota; the namespace is no longer capped.' })
  @ApiNoContentResponse()
  @ApiErrors(...ERRORS)
  async delete(@Param() { bid, prefix }: NamespaceParams, @Actor() actor: SessionActor): Promise<void> {
    await this.namespaces.delete({ backendId: bid, prefix }, actor);
  }
}
