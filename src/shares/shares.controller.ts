import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, SessionActor } from '../access/actor';
import { Authenticated } from '../access/authenticated.decorator';
import { Caller, Identity } from '../access/identity';
import { ApiErrors } from '../docs/api-errors.decorator';
import { CreateShareDto, ListSharesQuery, ShareDto, ShareIdParams, ShareListDto } from './dto/share.dto';
import { SharesService } from './shares.service';

@ApiTags('shares')
@Controller('api/shares')
export class SharesController {
  constructor(private readonly shares: SharesService) {}

  @Get()
  @Authenticated({ role: 'readonly' })
  @ApiOperation({ summary: 'Your share links, newest first; admins may ask for everyone’s with scope=all.' })
  @ApiOkResponse({ type: ShareListDto })
  @ApiErrors('bad_request')
  async list(@Query() { scope }: ListSharesQuery, @Caller() caller: Identity): Promise<ShareListDto> {
    return { shares: await this.shares.list(caller, scope) };
  }

  @Post()
  @Authenticated({ role: 'user' })
  @ApiOperation({ summary: 'Create a share link to one object (optional password, expiry, download cap).' })
  @ApiCreatedResponse({ type: ShareDto })
  @ApiErrors('bad_request', 'not_found', 'invalid_bucket', 'invalid_key', 'backend_error')
  create(@Body() body: CreateShareDto, @Actor() actor: SessionActor): Promise<ShareDto> {
    return this.shares.create(body, actor);
  }

  @Delete(':id')
  @HttpCode(204)
  @Authenticated({ role: 'user' })
  @ApiOperation({ summary: 'Revoke a share link (its creator or an admin); revoking twice changes nothing.' })
  @ApiNoContentResponse()
  @ApiErrors('bad_request', 'not_found')
  async revoke(@Param() { id }: ShareIdParams, @Actor() actor: SessionActor): Promise<void> {
    await this.shares.revoke(id, actor);
  }
}
