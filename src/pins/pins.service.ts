import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { StowageError } from '@stowage/errors';
import { bucketNameProblem } from '@stowage/s3-naming';
import { BackendRegistry } from '../storage-backends/backend-registry.service';
import { BucketPinEntity } from './bucket-pin.entity';
import { PinDto } from './dto/pin.dto';

function toPinDto(pin: BucketPinEntity): PinDto {
  return { backend_id: pin.backendId, bucket: pin.bucket, created_at: pin.createdAt.toISOString() };
}

/** The buckets each user pinned to the top of their dashboard; nobody sees another's pins. */
@Injectable()
export class PinsService {
  constructor(
    private readonly registry: BackendRegistry,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  private get pins(): Repository<BucketPinEntity> {
    return this.dataSource.getRepository(BucketPinEntity);
  }

  async list(userId: string): Promise<PinDto[]> {
    const rows = await this.pins.find({
      where: { userId },
      order: { createdAt: 'ASC', backendId: 'ASC', bucket: 'ASC' },
    });
    return rows.map(toPinDto);
  }

  /** Pins a bucket; pinning it again changes nothing and answers the existing pin. */
  async pin(userId: string, backendId: string, bucket: string): Promise<PinDto> {
    this.registry.get(backendId);
    const problem = bucketNameProblem(bucket);
    if (problem) throw new StowageError('invalid_bucket_name', undefined, `bucket: ${problem}`);
    await this.pins.createQueryBuilder().insert().values({ userId, backendId, bucket }).orIgnore().execute();
    return toPinDto(await this.pins.findOneByOrFail({ userId, backendId, bucket }));
  }

  /** Removes a pin; removing one that does not exist is not an error. */
  async unpin(userId: string, backendId: string, bucket: string): Promise<void> {
    await this.pins.delete({ userId, backendId, bucket });
  }
}
