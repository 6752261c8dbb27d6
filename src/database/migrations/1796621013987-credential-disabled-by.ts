import { MigrationInterface, QueryRunner } from 'typeorm';

export class CredentialDisabledBy1796621013987 implements MigrationInterface {
  name = 'CredentialDisabledBy1796621013987';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "s3_credentials" ADD "disabled_by" text`);
    await queryRunner.query(
      `ALTER TABLE "s3_credentials" ADD CONSTRAINT "s3_credentials_disabled_by_check" CHECK ("disabled_by" IN ('admin', 'owner'))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "s3_credentials" DROP CONSTRAINT "s3_credentials_disabled_by_check"`);
    await queryRunner.query(`ALTER TABLE "s3_credentials" DROP COLUMN "disabled_by"`);
  }
}
