import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { StowageConfig } from '@stowage/config';
import { RedisService } from '../redis/redis.service';
import { UsersModule } from '../users/users.module';
import { ApiThrottlerGuard } from './api-throttler.guard';
import { AuthController } from './auth.controller';
import { AuthGuard } from './auth.guard';
import { LockoutService } from './lockout.service';
import { LoginRateLimiter } from './login-rate-limit.service';
import { LoginService } from './login.service';
import { OidcAccounts } from './oidc/oidc-accounts.service';
import { OidcCallbackGuard, OidcStartGuard } from './oidc/oidc-auth.guard';
import { OidcProviderClient } from './oidc/oidc-provider.client';
import { OidcSignIn } from './oidc/oidc-sign-in.service';
import { OidcStateStore } from './oidc/oidc-state.store';
import { OidcStrategy } from './oidc/oidc.strategy';
import { LocalAuthGuard, LocalStrategy } from './passport/local.strategy';
import { PasswordHasher } from './password-hasher.service';
import { SessionsService } from './sessions.service';
import { StaticAccountService } from './static-account.service';

/**
 * Sign-in (password and OIDC, each a Passport strategy), sessions, CSRF, lockout and rate
 * limits, plus the global guards every route passes:
 * first AuthGuard (session, CSRF, role), then the per-session API rate limit.
 */
@Module({
  imports: [
    UsersModule,
    ThrottlerModule.forRootAsync({
      inject: [StowageConfig, RedisService],
      useFactory: (config: StowageConfig, redis: RedisService) => ({
        throttlers: [{ name: 'default', ttl: 60_000, limit: config.ratelimit.api_per_minute }],
        skipIf: () => config.ratelimit.api_per_minute === 0,
        storage: new ThrottlerStorageRedisService(redis.client),
      }),
    }),
  ],
  controllers: [AuthController],
  providers: [
    PasswordHasher,
    SessionsService,
    LockoutService,
    LoginRateLimiter,
    LoginService,
    StaticAccountService,
    LocalStrategy,
    LocalAuthGuard,
    OidcProviderClient,
    OidcStateStore,
    OidcAccounts,
    OidcSignIn,
    OidcStrategy,
    OidcStartGuard,
    OidcCallbackGuard,
    { provide: APP_GUARD, useClass: AuthGuard },
    { provide: APP_GUARD, useClass: ApiThrottlerGuard },
  ],
  exports: [PasswordHasher, SessionsService, LockoutService, StaticAccountService],
})
export class AuthModule {}
