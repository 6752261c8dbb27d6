import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, SessionActor } from '../access/actor';
import { Authenticated } from '../access/authenticated.decorator';
import { ApiErrors } from '../docs/api-errors.decorator';
import { BackendsService } from './backends.service';
import {
  BackendHealthListDto,
  BackendIdParam,
  CreateEndpointDto,
  EndpointDto,
  EndpointListDto,
  PatchEndpointDto,
  TestEndpointDto,
  TestEndpointResultDto,
} from './dto/backend.dto';

@ApiTags('admin: backends')
@Controller('api/admin/backends')
export class AdminBackendsController {
  constructor(private readonly backends: BackendsService) {}

  @Get('health')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Every backend with its last 20 probes.' })
  @ApiOkResponse({ type: BackendHealthListDto })
  async health(): Promise<BackendHealthListDto> {
    return { backends: await this.backends.healthAll() };
  }

  @Get()
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Backends from the configuration file and from the dashboard.' })
  @ApiOkResponse({ type: EndpointListDto })
  async list(): Promise<EndpointListDto> {
    return { backends: await this.backends.endpoints() };
  }

  @Post()
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Add a backend; its secret is sealed with the root key.' })
  @ApiCreatedResponse({ type: EndpointDto })
  @ApiErrors('bad_request', 'id_taken', 'secret_key_unset', 'register_failed')
  create(@Body() body: CreateEndpointDto, @Actor() actor: SessionActor): Promise<EndpointDto> {
    return this.backends.create(body, actor);
  }

  @Post('test')
  @HttpCode(200)
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Try an endpoint and credentials without saving them.' })
  @ApiOkResponse({ type: TestEndpointResultDto })
  @ApiErrors('bad_request')
  test(@Body() body: TestEndpointDto, @Actor() actor: SessionActor): Promise<TestEndpointResultDto> {
    return this.backends.test(body, actor);
  }

  @Get(':bid')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'One backend.' })
  @ApiOkResponse({ type: EndpointDto })
  @ApiErrors('bad_request', 'not_found')
  get(@Param() { bid }: BackendIdParam): Promise<EndpointDto> {
    return this.backends.endpoint(bid);
  }

  @Patch(':bid')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Change a UI-managed backend; omit secret_key to keep it.' })
  @ApiOkResponse({ type: EndpointDto })
  @ApiErrors('bad_request', 'not_found', 'yaml_managed', 'store_unavailable', 'register_failed')
  update(
    @Param() { bid }: BackendIdParam,
    @Body() body: PatchEndpointDto,
    @Actor() actor: SessionActor,
  ): Promise<EndpointDto> {
    return this.backends.update(bid, body, actor);
  }

  @Delete(':bid')
  @HttpCode(204)
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Remove a UI-managed backend.' })
  @ApiNoContentResponse()
  @ApiErrors('bad_request', 'not_found', 'yaml_managed')
  async delete(@Param() { bid }: BackendIdParam, @Actor() actor: SessionActor): Promise<void> {
    await this.backends.delete(bid, actor);
  }
}
