import { Controller, Get, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Authenticated } from '../access/authenticated.decorator';
import { ApiErrors } from '../docs/api-errors.decorator';
import { AuditQueryService } from './audit-query.service';
import { AuditCsvQuery, AuditListQuery, AuditPageDto } from './dto/audit-query.dto';

@ApiTags('admin: audit')
@Controller('api/admin')
export class AuditController {
  constructor(private readonly audit: AuditQueryService) {}

  @Get('audit')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'The audit log, newest first, filtered; page with `next_cursor` (or `offset`).' })
  @ApiOkResponse({ type: AuditPageDto })
  @ApiErrors('bad_request')
  list(@Query() query: AuditListQuery): Promise<AuditPageDto> {
    return this.audit.list(query);
  }

  @Get('audit.csv')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'The audit log as CSV, same filters, streamed; the file name gives the time range.' })
  @ApiProduces('text/csv')
  @ApiErrors('bad_request')
  csv(@Query() query: AuditCsvQuery, @Res() reply: FastifyReply) {
    const { filename, stream } = this.audit.exportCsv(query);
    return reply
      .status(200)
      .header('Content-Type', 'text/csv; charset=utf-8')
      .header('Content-Disposition', `attachment; filename="${filename}"`)
      .header('Cache-Control', 'no-store')
      .send(stream);
  }
}
