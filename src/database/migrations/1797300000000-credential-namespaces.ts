import { MigrationInterface, QueryRunner } from 'typeorm';

/** Credential scopes gain namespaces (bucket-name prefixes) and key prefixes. */
export class CredentialNamespaces1797300000000 implements MigrationInterface {
  name = 'CredentialNamespaces1797300000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "s3_credential_scopes" ADD "kind" text NOT NULL DEFAULT 'bucket'`);
    await queryRunner.query(`ALTER TABLE "s3_credential_scopes" ADD "key_prefix" text`);
    await queryRunner.query(
      `ALTER TABLE "s3_credential_scopes" ADD CONSTRAINT "s3_credential_scopes_kind_check" CHECK ("kind" IN ('bucket', 'namespace'))`,
    );
    await queryRunner.query(
      `ALTER TABLE "s3_credential_scopes" ADD CONSTRAINT "s3_credential_scopes_key_prefix_check" CHECK ("key_prefix" IS NULL OR "kind" = 'bucket')`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM "s3_credential_scopes" WHERE "kind" <> 'bucket' OR "key_prefix" IS NOT NULL`);
    await queryRunner.query(
      `ALTER TABLE "s3_credential_scopes" DROP CONSTRAINT "s3_credential_scopes_key_prefix_check"`,
    );
    await queryRunner.query(`ALTER TABLE "s3_credential_scopes" DROP CONSTRAINT "s3_credential_scopes_kind_check"`);
    await queryRunner.query(`ALTER TABLE "s3_credential_scopes" DROP COLUMN "key_prefix"`);
    await queryRunner.query(`ALTER TABLE "s3_credential_scopes" DROP COLUMN "kind"`);
  }
}
