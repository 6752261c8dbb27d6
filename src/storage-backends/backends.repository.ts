import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, QueryFailedError } from 'typeorm';
import { StowageError } from '@stowage/errors';
import { BackendEntity } from './backend.entity';

/** UI-managed backends. The sealed secret is only read where a driver must be built. */
@Injectable()
export class BackendsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  private get repo() {
    return this.dataSource.getRepository(BackendEntity);
  }

  /** Every row, with the sealed secret (to tell whether one is set; it is never returned). */
  list(): Promise<BackendEntity[]> {
    return this.repo.createQueryBuilder('b').addSelect('b.secretKeySealed').orderBy('b.id').getMany();
  }

  findById(id: string): Promise<BackendEntity | null> {
    return this.repo.findOneBy({ id });
  }

  findWithSecret(id: string): Promise<BackendEntity | null> {
    return this.repo.createQueryBuilder('b').addSelect('b.secretKeySealed').where({ id }).getOne();
  }

  listWithSecrets(): Promise<BackendEntity[]> {
    return this.repo
      .createQueryBuilder('b')
      .addSelect('b.secretKeySealed')
      .where({ enabled: true })
      .orderBy('b.id')
      .getMany();
  }

  async insert(row: Partial<BackendEntity>): Promise<void> {
    try {
      await this.repo.insert(row);
    } catch (err) {
      if (err instanceof QueryFailedError && (err.driverError as { code?: string }).code === '23505')
        throw new StowageError('id_taken');
      throw err;
    }
  }

  async update(id: string, patch: Partial<BackendEntity>): Promise<void> {
    await this.repo.update({ id }, { ...patch, updatedAt: new Date() });
  }

  async delete(id: string): Promise<boolean> {
    return ((await this.repo.delete({ id })).affected ?? 0) > 0;
  }
}
