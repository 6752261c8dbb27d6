import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength, MinLength } from 'class-validator';
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

export class AuthConfigDto {
  @ApiProperty({ enum: ['local', 'oidc', 'static'], isArray: true }) modes!: string[];
  @ApiProperty() allow_self_registration!: boolean;
}
