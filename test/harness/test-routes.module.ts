import { Body, Controller, Get, Module, Param, Post, Query, Req } from '@nestjs/common';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { ErrorCode, StowageError } from '@stowage/errors';
import { AuditService } from '../../src/audit/audit.service';
import { originOf } from '../../src/access/actor';
import { Authenticated } from '../../src/access/authenticated.decorator';
import { Caller, Identity } from '../../src/access/identity';
import { Public } from '../../src/access/public.decorator';
import { BodyLimit } from '../../src/http/body-limit.decorator';
import { RootKeyService } from '../../src/secrets/root-key.service';

class EchoDto {
  @IsString() name!: string;
  @IsInt() @Min(1) @Max(10) count!: number;
  @IsOptional() @IsString() note?: string;
}

/** Routes that exist only in end-to-end tests, to drive the real pipeline into each case. */
@Controller('__test')
class TestRoutesController {
  constructor(
    private readonly rootKey: RootKeyService,
    private readonly audit: AuditService,
  ) {}

  @Get('errors/:code')
  @Public()
  fail(@Param('code') code: string): never {
    if (code === 'rate_limited') throw StowageError.rateLimited(7);
    throw new StowageError(code as ErrorCode, undefined, `detail for ${code}`);
  }

  @Get('boom')
  @Public()
  boom(): never {
    const err = new Error('relation "users" does not exist; password=hunter2');
    throw err;
  }

  @Post('echo')
  @Public()
  @BodyLimit(1024)
  echo(@Body() body: EchoDto): EchoDto {
    return body;
  }

  @Get('whoami')
  @Public()
  whoami(@Req() request: FastifyRequest) {
    return { ip: request.ip, protocol: request.protocol };
  }

  @Get('slow')
  @Public()
  async slow(@Query('ms') ms = '1000') {
    await new Promise((resolve) => setTimeout(resolve, Number(ms)));
    return { slept: Number(ms) };
  }

  @Post('seal')
  @Public()
  seal(@Body() body: { text: string }) {
    const sealer = this.rootKey.require();
    const sealed = sealer.seal(body.text, 'test');
    return { roundTrip: sealer.openString(sealed, 'test'), fingerprint: sealer.fingerprint };
  }

  @Get('readonly')
  @Authenticated({ role: 'readonly' })
  readonlyRoute(@Caller() caller: Identity) {
    return { username: caller.username, role: caller.role };
  }

  @Post('user')
  @Authenticated({ role: 'user' })
  userRoute(@Caller() caller: Identity) {
    return { username: caller.username, role: caller.role };
  }

  @Get('undeclared')
  undeclared() {
    return { reached: true };
  }

  @Post('audit')
  @Public()
  async record(@Req() request: FastifyRequest) {
    await this.audit.record({ ...originOf(request), action: 'test.action', bucket: 'b', key: 'k', detail: { n: 1 } });
    return { ok: true };
  }
}

@Module({ controllers: [TestRoutesController] })
export class TestRoutesModule {}
