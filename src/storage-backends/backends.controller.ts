import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../access/authenticated.decorator';
import { ApiErrors } from '../docs/api-errors.decorator';
import { BackendsService } from './backends.service';
import { BackendDto, BackendIdParam, BackendListDto, ProbeResultDto } from './dto/backend.dto';

@ApiTags('backends')
@Controller('api/backends')
export class BackendsController {
  constructor(private readonly backends: BackendsService) {}

  @Get()
  @Authenticated({ role: 'readonly' })
  @ApiOperation({ summary: 'Every backend with its capabilities and latest health.' })
  @ApiOkResponse({ type: BackendListDto })
  async list(): Promise<BackendListDto> {
    return { backends: await this.backends.list() };
  }

  @Get(':bid')
  @Authenticated({ role: 'readonly' })
  @ApiOperation({ summary: 'One backend.' })
  @ApiOkResponse({ type: BackendDto })
  @ApiErrors('bad_request', 'not_found')
  get(@Param() { bid }: BackendIdParam): Promise<BackendDto> {
    return this.backends.get(bid);
  }

  @Get(':bid/health')
  @Authenticated({ role: 'readonly' })
  @ApiOperation({ summary: 'Probe the backend now.' })
  @ApiOkResponse({ type: ProbeResultDto })
  @ApiErrors('bad_request', 'not_found')
  probe(@Param() { bid }: BackendIdParam): Promise<ProbeResultDto> {
    return this.backends.probe(bid);
  }
}
