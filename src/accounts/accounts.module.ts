import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { ChangeAnnouncerModule } from '../change-announcer/change-announcer.module';
import { UsersModule } from '../users/users.module';
import { AdminUsersController } from './admin-users.controller';
import { MeController } from './me.controller';
import { UsersService } from './users.service';

/**
 * Accounts, above sign-in: creating, changing and deleting users (`/api/admin/users`) and the
 * signed-in user's own account (`/api/me`). Ending sessions and lockouts goes through auth.
 */
@Module({
  imports: [AuthModule, UsersModule, ChangeAnnouncerModule],
  controllers: [AdminUsersController, MeController],
  providers: [UsersService],
  exports: [UsersService],
})
export class AccountsModule {}
