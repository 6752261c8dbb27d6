import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AdminUsersController } from './admin-users.controller';
import { UsersModule } from './users.module';

/** `/api/admin/users`: account administration. */
@Module({ imports: [AuthModule, UsersModule], controllers: [AdminUsersController] })
export class UserAdminModule {}
