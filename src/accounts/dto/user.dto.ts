import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsEmail,
  IsIn,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import { IDENTITY_SOURCES, IdentitySource, Role, ROLES, UserEntity } from '../../users/user.entity';
import { MAX_LIST_OFFSET, QueryInt } from '../../http/dto-fields';
import { LockState } from '../../auth/lockout.service';
import { MAX_PASSWORD_LENGTH } from '../../auth/password-hasher.service';
import { UserSnapshot } from '../../users/user-snapshot';

const lower = () => Transform(({ value }) => (typeof value === 'string' ? value.trim().toLowerCase() : value));

export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._@-]{1,63}$/;

export class MeDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() username!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty({ enum: IDENTITY_SOURCES }) identity_source!: IdentitySource;
  @ApiProperty() must_change_pw!: boolean;
  @ApiPropertyOptional() email?: string;
}

export function toMeDto(user: UserSnapshot): MeDto {
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    identity_source: user.identitySource,
    must_change_pw: user.mustChangePassword,
    ...(user.email ? { email: user.email } : {}),
  };
}

export class UserDto extends MeDto {
  @ApiProperty() enabled!: boolean;
  @ApiProperty() failed_attempts!: number;
  @ApiPropertyOptional({ format: 'date-time' }) locked_until?: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
  @ApiPropertyOptional({ format: 'date-time' }) last_login_at?: string;
  @ApiPropertyOptional({ description: 'The name the identity provider gives (OIDC accounts).' }) display_name?: string;
  @ApiProperty({ description: 'OIDC accounts: the role is kept at sign-in rather than mapped.' }) role_pinned!: boolean;
}

export function toUserDto(user: UserEntity, lock?: LockState): UserDto {
  return {
    id: user.id,
    username: user.username,
    ...(user.email ? { email: user.email } : {}),
    role: user.role,
    identity_source: user.identitySource,
    enabled: user.enabled,
    must_change_pw: user.mustChangePassword,
    failed_attempts: lock?.failedAttempts ?? 0,
    ...(lock?.lockedUntil ? { locked_until: lock.lockedUntil.toISOString() } : {}),
    created_at: user.createdAt.toISOString(),
    ...(user.lastLoginAt ? { last_login_at: user.lastLoginAt.toISOString() } : {}),
    ...(user.displayName ? { display_name: user.displayName } : {}),
    role_pinned: user.rolePinned,
  };
}

export class UserListDto {
  @ApiProperty({ type: [UserDto] }) users!: UserDto[];
}

export class CreateUserDto {
  @ApiProperty({ example: 'alice', description: 'Case-insensitive; stored lower-cased.' })
  @lower()
  @Matches(USERNAME_PATTERN, {
    message: 'must be 2-64 characters of letters, digits, . _ @ -, starting with a letter or digit',
  })
  username!: string;

  @ApiPropertyOptional({ example: 'alice@example.com' })
  @IsOptional()
  @lower()
  @IsEmail()
  @MaxLength(254)
  email?: string;

  @ApiProperty({ format: 'password' })
  @IsString()
  @MaxLength(2048)
  password!: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: Role;

  @ApiPropertyOptional({ default: true, description: 'Require a password change at first sign-in.' })
  @IsOptional()
  @IsBoolean()
  must_change_pw?: boolean;
}

export class PatchUserDto {
  @ApiPropertyOptional({ enum: ROLES }) @IsOptional() @IsIn(ROLES) role?: Role;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() enabled?: boolean;
  @ApiPropertyOptional({
    description: 'OIDC accounts: keep the role on record at sign-in instead of mapping it from the provider’s claim.',
  })
  @IsOptional()
  @IsBoolean()
  role_pinned?: boolean;

  @ApiPropertyOptional({ nullable: true, description: 'Empty string or null clears it.' })
  @IsOptional()
  @lower()
  @ValidateIf((o: PatchUserDto) => o.email !== '' && o.email !== null)
  @IsEmail()
  @MaxLength(254)
  email?: string | null;
}

export class ResetPasswordDto {
  @ApiProperty({ format: 'password' }) @IsString() @MaxLength(2048) new_password!: string;
}

export class UserIdParam {
  @ApiProperty({ format: 'uuid' })
  @IsUUID('all', { message: 'must be a user id (UUID)' }) id!: string;
}

export class ListUsersQuery {
  @ApiPropertyOptional({ description: 'Substring of username or email.' })
  @IsOptional()
  @IsString()
  @MaxLength(128)
  query?: string;

  @ApiPropertyOptional({ enum: ROLES }) @IsOptional() @IsIn(ROLES) role?: Role;
  @ApiPropertyOptional({ enum: IDENTITY_SOURCES }) @IsOptional() @IsIn(IDENTITY_SOURCES) source?: IdentitySource;

  @ApiPropertyOptional()
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  enabled?: boolean;

  @ApiPropertyOptional({ default: 100, minimum: 1, maximum: 500 })
  @IsOptional()
  @QueryInt(1, 500)
  limit?: number;

  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: MAX_LIST_OFFSET })
  @IsOptional()
  @QueryInt(0, MAX_LIST_OFFSET)
  offset?: number;
}

export class ChangePasswordDto {
  @ApiProperty({ format: 'password' })
  @IsString()
  @MaxLength(MAX_PASSWORD_LENGTH)
  current_password!: string;

  @ApiProperty({ format: 'password' })
  @IsString()
  @MaxLength(MAX_PASSWORD_LENGTH * 2)
  new_password!: string;
}
