import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { MAX_PASSWORD_LENGTH } from '../password-hasher.service';

export class LoginLocalDto {
  @ApiProperty({ example: 'admin' })
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  username!: string;

  @ApiProperty({ format: 'password' })
  @IsString()
  @MinLength(1)
  @MaxLength(MAX_PASSWORD_LENGTH)
  password!: string;
}

export class LoginResultDto {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
  @ApiProperty({ example: 'local' }) source!: string;
  @ApiProperty() must_change_pw!: boolean;
}

export class StatusOkDto {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
}

export class OidcOfferDto {
  @ApiProperty({ example: 'Sign in with SSO' }) label!: string;
  @ApiProperty({ example: '/auth/login/oidc' }) login_url!: string;
}

export class AuthConfigDto {
  @ApiProperty({ enum: ['local', 'oidc', 'static'], isArray: true }) modes!: string[];
  @ApiProperty() allow_self_registration!: boolean;
  @ApiPropertyOptional({ type: OidcOfferDto, description: 'Present when OIDC sign-in is offered.' })
  oidc?: OidcOfferDto;
}

export class LogoutResultDto {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
  @ApiPropertyOptional({
    description: "The provider's end-session URL for an OIDC user (RP-initiated logout), when enabled.",
  })
  redirect?: string;
}

export class OidcStartQuery {
  @ApiPropertyOptional({ description: 'A path on this site to return to after signing in.', example: '/buckets' })
  @IsOptional()
  @IsString()
  @MaxLength(1024)
  next?: string;
}

/** What the provider sends back; other parameters (`iss`, `session_state`) are ignored. */
export class OidcCallbackQuery {
  @IsOptional() @IsString() @MaxLength(4096) @Matches(/^[\x21-\x7e]+$/) code?: string;
  @IsOptional() @IsString() @MaxLength(256) state?: string;
  @IsOptional() @IsString() @MaxLength(256) error?: string;
  @IsOptional() @IsString() @MaxLength(2048) error_description?: string;
}
