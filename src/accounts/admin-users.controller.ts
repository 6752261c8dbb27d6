import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, SessionActor } from '../access/actor';
import { Authenticated } from '../access/authenticated.decorator';
import { StatusOkDto } from '../auth/dto/login.dto';
import { ApiErrors } from '../docs/api-errors.decorator';
import {
  CreateUserDto,
  ListUsersQuery,
  PatchUserDto,
  ResetPasswordDto,
  UserDto,
  UserIdParam,
  UserListDto,
} from './dto/user.dto';
import { UsersService } from './users.service';

@ApiTags('admin: users')
@Controller('api/admin/users')
export class AdminUsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'List users.' })
  @ApiOkResponse({ type: UserListDto })
  @ApiErrors('bad_request')
  async list(@Query() query: ListUsersQuery): Promise<UserListDto> {
    return { users: await this.users.list(query) };
  }

  @Post()
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Create a local user.' })
  @ApiCreatedResponse({ type: UserDto })
  @ApiErrors('bad_request', 'username_taken', 'email_taken', 'weak_password')
  create(@Body() body: CreateUserDto, @Actor() actor: SessionActor): Promise<UserDto> {
    return this.users.create(body, actor);
  }

  @Get(':id')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'One user.' })
  @ApiOkResponse({ type: UserDto })
  @ApiErrors('bad_request', 'not_found')
  get(@Param() { id }: UserIdParam): Promise<UserDto> {
    return this.users.get(id);
  }

  @Patch(':id')
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Change role, enabled state or email. Disabling ends the user’s sessions.' })
  @ApiOkResponse({ type: UserDto })
  @ApiErrors('bad_request', 'not_found', 'email_taken', 'last_admin', 'self_role_change', 'static_user')
  patch(@Param() { id }: UserIdParam, @Body() body: PatchUserDto, @Actor() actor: SessionActor) {
    return this.users.patch(id, body, actor);
  }

  @Post(':id/reset-password')
  @HttpCode(200)
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Set a new password; the user must change it at next sign-in.' })
  @ApiOkResponse({ type: StatusOkDto })
  @ApiErrors('bad_request', 'not_found', 'weak_password', 'not_local', 'static_user')
  async resetPassword(
    @Param() { id }: UserIdParam,
    @Body() body: ResetPasswordDto,
    @Actor() actor: SessionActor,
  ): Promise<StatusOkDto> {
    await this.users.resetPassword(id, body.new_password, actor);
    return { status: 'ok' };
  }

  @Post(':id/unlock')
  @HttpCode(200)
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Lift a lockout caused by failed sign-ins.' })
  @ApiOkResponse({ type: StatusOkDto })
  @ApiErrors('bad_request', 'not_found')
  async unlock(@Param() { id }: UserIdParam, @Actor() actor: SessionActor): Promise<StatusOkDto> {
    await this.users.unlock(id, actor);
    return { status: 'ok' };
  }

  @Delete(':id')
  @HttpCode(204)
  @Authenticated({ role: 'admin' })
  @ApiOperation({ summary: 'Delete a user and end their sessions.' })
  @ApiNoContentResponse()
  @ApiErrors('bad_request', 'not_found', 'last_admin', 'self_delete', 'static_user')
  async delete(@Param() { id }: UserIdParam, @Actor() actor: SessionActor): Promise<void> {
    await this.users.delete(id, actor);
  }
}
