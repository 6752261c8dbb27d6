import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * OIDC identities: the issuer beside the subject (an account is the pair, so a subject reused by
 * another issuer never names it), the display name refreshed on each sign-in, and the admin's pin
 * that keeps a role out of the provider's hands.
 */
export class OidcIdentity1796900000000 implements MigrationInterface {
  name = 'OidcIdentity1796900000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD "oidc_issuer" text`);
    await queryRunner.query(`ALTER TABLE "users" ADD "display_name" text`);
    await queryRunner.query(`ALTER TABLE "users" ADD "role_pinned" boolean NOT NULL DEFAULT false`);
    await queryRunner.query(`DROP INDEX "public"."users_oidc_subject_unique"`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "users_oidc_identity_unique" ON "users" ("oidc_issuer", "oidc_subject") WHERE "oidc_subject" IS NOT NULL`,
    );
    await queryRunner.query(
      `ALTER TABLE "users" ADD CONSTRAINT "users_oidc_identity_check" CHECK (("oidc_subject" IS NULL) = ("oidc_issuer" IS NULL))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" DROP CONSTRAINT "users_oidc_identity_check"`);
    await queryRunner.query(`DROP INDEX "public"."users_oidc_identity_unique"`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "users_oidc_subject_unique" ON "users" ("identity_source", "oidc_subject") WHERE "oidc_subject" IS NOT NULL`,
    );
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "role_pinned"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "display_name"`);
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "oidc_issuer"`);
  }
}
