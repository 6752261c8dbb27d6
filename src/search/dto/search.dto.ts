import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

export class SearchQuery {
  @ApiProperty({ minLength: 1, maxLength: 256, description: 'Matched case-insensitively anywhere in a name.' })
  @IsString()
  @Length(1, 256)
  q!: string;
}

export class BucketHitDto {
  @ApiProperty() backend_id!: string;
  @ApiProperty() bucket!: string;
}

export class ObjectHitDto {
  @ApiProperty() backend_id!: string;
  @ApiProperty() bucket!: string;
  @ApiProperty() key!: string;
  @ApiProperty() size!: number;
  @ApiPropertyOptional({ format: 'date-time' }) last_modified?: string;
}

export class SearchResultDto {
  @ApiProperty() query!: string;
  @ApiProperty({ type: [BucketHitDto] }) buckets!: BucketHitDto[];
  @ApiProperty({ type: [ObjectHitDto] }) objects!: ObjectHitDto[];
  @ApiProperty({
    description:
      'True when the answer may be missing matches: a backend or bucket did not answer in time or failed, ' +
      'or a result cap was reached.',
  })
  truncated!: boolean;
}
