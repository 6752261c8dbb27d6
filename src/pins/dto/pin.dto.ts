import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { IsBackendId } from '../../storage-backends/dto/backend-id';

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
  @IsBackendId()
  backend_id!: string;
  /** Checked against the naming rules by the service (`invalid_bucket_name`). */
  @ApiProperty({ example: 'team-assets' }) @IsString() @MaxLength(255) bucket!: string;
}
