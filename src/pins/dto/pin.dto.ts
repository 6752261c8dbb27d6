import { ApiProperty } from '@nestjs/swagger';
import { IsString, Matches, MaxLength } from 'class-validator';
import { BACKEND_ID_PATTERN } from '../../storage-backends/dto/backend.dto';

export class PinDto {
  @ApiProperty() backend_id!: string;
  @ApiProperty() bucket!: string;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class PinListDto {
  @ApiProperty({ type: [PinDto] }) pins!: PinDto[];
}

export class CreatePinDto {
  @ApiProperty({ example: 'local' })
  @IsString()
  @Matches(BACKEND_ID_PATTERN, { message: 'must be a backend id' })
  backend_id!: string;
  /** Checked against the naming rules by the service (`invalid_bucket_name`). */
  @ApiProperty({ example: 'team-assets' }) @IsString() @MaxLength(255) bucket!: string;
}
