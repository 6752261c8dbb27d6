import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, SessionActor } from '../access/actor';
import { ApiErrors } from '../docs/api-errors.decorator';
import { ChangePasswordDto, MeDto, toMeDto } from './dto/user.dto';
import { UsersService } from './users.service';
import { Authenticated } from '../access/authenticated.decorator';
import { StatusOkDto } from '../auth/dto/login.dto';
import { Caller, Identity } from '../access/identity';

@ApiTags('me')
@Controller('api/me')
export class MeController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @Authenticated({ role: 'readonly', allowPendingPasswordChange: true })
  @ApiOperation({ summary: 'The signed-in user.' })
  @ApiOkResponse({ type: MeDto })
  me(@Caller() caller: Identity): MeDto {
    return toMeDto(caller);
  }

  @Post('password')
  @HttpCode(200)
  @Authenticated({ role: 'readonly', allowPendingPasswordChange: true })
  @ApiOperation({ summary: 'Change your own password; ends your other sessions.' })
  @ApiOkResponse({ type: StatusOkDto })
  @ApiErrors('bad_request', 'password_mismatch', 'weak_password', 'not_local', 'static_user')
  async changePassword(@Actor() actor: SessionActor, @Body() body: ChangePasswordDto): Promise<StatusOkDto> {
    await this.users.changeOwnPassword(actor, body.current_password, body.new_password);
    return { status: 'ok' };
  }
}
