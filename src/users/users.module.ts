import { Module } from '@nestjs/common';
import { UserCache } from './user-cache.service';
import { UsersRepository } from './users.repository';

/** User storage: the repository and the shared snapshot cache. */
@Module({ providers: [UsersRepository, UserCache], exports: [UsersRepository, UserCache] })
export class UsersModule {}
