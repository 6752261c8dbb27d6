import { ApiProperty } from '@nestjs/swagger';
import { ERROR_CODES, ErrorCode } from '@stowage/errors';

export class ErrorDetailDto {
  @ApiProperty({ enum: ERROR_CODES, example: 'bad_request' }) code!: ErrorCode;
  @ApiProperty({ example: 'Validation failed.' }) message!: string;
  @ApiProperty({ example: 'name: must be a string', description: 'Specifics, e.g. the fields that failed validation.' })
  detail!: string;
}

export class ErrorResponseDto {
  @ApiProperty({ type: ErrorDetailDto }) error!: ErrorDetailDto;
}
