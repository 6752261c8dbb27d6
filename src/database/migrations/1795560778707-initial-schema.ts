import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1795560778707 implements MigrationInterface {
  name = 'InitialSchema1795560778707';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "audit_events" ("id" BIGSERIAL NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "user_id" uuid, "username" text, "action" text NOT NULL, "backend_id" text, "bucket" text, "object_key" text, "request_id" text, "ip" text, "user_agent" text, "status" text NOT NULL DEFAULT 'ok', "detail" jsonb, CONSTRAINT "PK_910f64d901a5c3e9878f0d4a407" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "audit_events_bucket_at" ON "audit_events" ("backend_id", "bucket", "at") `);
    await queryRunner.query(`CREATE INDEX "audit_events_action_at" ON "audit_events" ("action", "at") `);
    await queryRunner.query(`CREATE INDEX "audit_events_user_at" ON "audit_events" ("user_id", "at") `);
    await queryRunner.query(`CREATE INDEX "audit_events_at" ON "audit_events" ("at") `);
    await queryRunner.query(
      `CREATE TABLE "users" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "username" text NOT NULL, "email" text, "password_hash" text NOT NULL DEFAULT '', "role" text NOT NULL, "identity_source" text NOT NULL DEFAULT 'local', "oidc_subject" text, "enabled" boolean NOT NULL DEFAULT true, "must_change_pw" boolean NOT NULL DEFAULT false, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "created_by" uuid, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_login_at" TIMESTAMP WITH TIME ZONE, "pw_changed_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "users_identity_source_check" CHECK ("identity_source" IN ('local', 'oidc', 'static')), CONSTRAINT "users_role_check" CHECK ("role" IN ('admin', 'user', 'readonly')), CONSTRAINT "PK_a3ffb1c0c8416b9fc6f907b7433" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE UNIQUE INDEX "users_oidc_subject_unique" ON "users" ("identity_source", "oidc_subject") WHERE "oidc_subject" IS NOT NULL`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "users_email_unique" ON "users" ("email") WHERE "email" IS NOT NULL`);
    await queryRunner.query(`CREATE UNIQUE INDEX "users_username_unique" ON "users" ("username") `);
    await queryRunner.query(
      `CREATE TABLE "password_reset_tokens" ("token_hash" text NOT NULL, "user_id" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "used_at" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_91185d86d5d7557b19abbb2868b" PRIMARY KEY ("token_hash"))`,
    );
    await queryRunner.query(`CREATE INDEX "password_reset_tokens_user_id" ON "password_reset_tokens" ("user_id") `);
    await queryRunner.query(
      `CREATE TABLE "sessions" ("id_hash" text NOT NULL, "user_id" uuid NOT NULL, "identity_source" text NOT NULL, "csrf_hash" text NOT NULL, "ip" text, "user_agent" text, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "last_seen_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_5dda86a77da1e1e37e690a45996" PRIMARY KEY ("id_hash"))`,
    );
    await queryRunner.query(`CREATE INDEX "sessions_expires_at" ON "sessions" ("expires_at") `);
    await queryRunner.query(`CREATE INDEX "sessions_user_id" ON "sessions" ("user_id") `);
    await queryRunner.query(
      `CREATE TABLE "bucket_pins" ("user_id" uuid NOT NULL, "backend_id" text NOT NULL, "bucket" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_2d2084ddf76e30693eeacc23938" PRIMARY KEY ("user_id", "backend_id", "bucket"))`,
    );
    await queryRunner.query(`CREATE INDEX "bucket_pins_user_created" ON "bucket_pins" ("user_id", "created_at") `);
    await queryRunner.query(
      `CREATE TABLE "bucket_quotas" ("backend_id" text NOT NULL, "bucket" text NOT NULL, "soft_bytes" bigint, "hard_bytes" bigint, "soft_objects" bigint, "hard_objects" bigint, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_by" uuid, CONSTRAINT "bucket_quotas_objects_check" CHECK ("soft_objects" IS NULL OR "hard_objects" IS NULL OR "soft_objects" <= "hard_objects"), CONSTRAINT "bucket_quotas_bytes_check" CHECK ("soft_bytes" IS NULL OR "hard_bytes" IS NULL OR "soft_bytes" <= "hard_bytes"), CONSTRAINT "PK_5a70aaad28f7cef74a3e5c9a0f3" PRIMARY KEY ("backend_id", "bucket"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "bucket_size_tracking" ("backend_id" text NOT NULL, "bucket" text NOT NULL, "enabled" boolean NOT NULL DEFAULT true, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_by" uuid, CONSTRAINT "PK_ef543b680fa65e60944ab0dd9c2" PRIMARY KEY ("backend_id", "bucket"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "bucket_usage" ("backend_id" text NOT NULL, "bucket" text NOT NULL, "bytes" bigint NOT NULL DEFAULT '0', "objects" bigint NOT NULL DEFAULT '0', "scanned_at" TIMESTAMP WITH TIME ZONE, "scan_duration_ms" integer, "last_error" text, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_bd8431b30a4cd2756a52cf43720" PRIMARY KEY ("backend_id", "bucket"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "s3_anonymous_bindings" ("backend_id" text NOT NULL, "bucket" text NOT NULL, "mode" text NOT NULL DEFAULT 'ReadOnly', "per_source_ip_rps" integer NOT NULL DEFAULT '20', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "created_by" uuid, CONSTRAINT "s3_anonymous_bindings_mode_check" CHECK ("mode" IN ('ReadOnly')), CONSTRAINT "PK_546f82708054caaa7a5e44c5e95" PRIMARY KEY ("backend_id", "bucket"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "s3_bucket_cors" ("backend_id" text NOT NULL, "bucket" text NOT NULL, "rules" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_by" uuid, CONSTRAINT "PK_340b24b009b4583d58d8ff46593" PRIMARY KEY ("backend_id", "bucket"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "s3_credentials" ("access_key" text NOT NULL, "secret_key_sealed" bytea NOT NULL, "user_id" uuid, "description" text NOT NULL DEFAULT '', "enabled" boolean NOT NULL DEFAULT true, "expires_at" TIMESTAMP WITH TIME ZONE, "last_used_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "created_by" uuid, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_by" uuid, CONSTRAINT "PK_961d45467a98463dd42e5c2a997" PRIMARY KEY ("access_key"))`,
    );
    await queryRunner.query(`CREATE INDEX "s3_credentials_user_id" ON "s3_credentials" ("user_id") `);
    await queryRunner.query(
      `CREATE TABLE "s3_credential_scopes" ("access_key" text NOT NULL, "backend_id" text NOT NULL, "bucket" text NOT NULL, CONSTRAINT "PK_7d49a7649779375deea7e5e7779" PRIMARY KEY ("access_key", "backend_id", "bucket"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "s3_credential_scopes_bucket" ON "s3_credential_scopes" ("backend_id", "bucket") `,
    );
    await queryRunner.query(
      `CREATE TABLE "shares" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "code" text NOT NULL, "backend_id" text NOT NULL, "bucket" text NOT NULL, "object_key" text NOT NULL, "created_by" uuid NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires_at" TIMESTAMP WITH TIME ZONE, "password_hash" text, "max_downloads" integer, "download_count" integer NOT NULL DEFAULT '0', "revoked" boolean NOT NULL DEFAULT false, "revoked_at" TIMESTAMP WITH TIME ZONE, "last_accessed_at" TIMESTAMP WITH TIME ZONE, "disposition" text NOT NULL DEFAULT 'attachment', CONSTRAINT "shares_download_cap_check" CHECK ("max_downloads" IS NULL OR "download_count" <= "max_downloads"), CONSTRAINT "shares_disposition_check" CHECK ("disposition" IN ('attachment', 'inline')), CONSTRAINT "PK_b88473409066c43c2ccb1894a82" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "shares_expires_at" ON "shares" ("expires_at") `);
    await queryRunner.query(`CREATE INDEX "shares_created_by" ON "shares" ("created_by") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "shares_code_unique" ON "shares" ("code") `);
    await queryRunner.query(
      `CREATE TABLE "backends" ("id" text NOT NULL, "name" text NOT NULL, "type" text NOT NULL DEFAULT 's3v4', "endpoint" text NOT NULL, "region" text NOT NULL DEFAULT '', "path_style" boolean NOT NULL DEFAULT false, "access_key" text NOT NULL DEFAULT '', "secret_key_sealed" bytea, "enabled" boolean NOT NULL DEFAULT true, "options" jsonb NOT NULL DEFAULT '{}', "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "created_by" uuid, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_by" uuid, CONSTRAINT "PK_b76ab7f27f18d38acadfd7bcbc6" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "password_reset_tokens" ADD CONSTRAINT "FK_52ac39dd8a28730c63aeb428c9c" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "sessions" ADD CONSTRAINT "FK_085d540d9f418cfbdc7bd55bb19" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "bucket_pins" ADD CONSTRAINT "FK_7406c8a7912eee76b80e75b0d08" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "s3_credentials" ADD CONSTRAINT "FK_bb58d7ea0598ece6dd0a4696c32" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "s3_credential_scopes" ADD CONSTRAINT "FK_95eedf34728ca602b3ae8bd296c" FOREIGN KEY ("access_key") REFERENCES "s3_credentials"("access_key") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "shares" ADD CONSTRAINT "FK_2f484ad2daff4f054fa99d56d56" FOREIGN KEY ("created_by") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "shares" DROP CONSTRAINT "FK_2f484ad2daff4f054fa99d56d56"`);
    await queryRunner.query(`ALTER TABLE "s3_credential_scopes" DROP CONSTRAINT "FK_95eedf34728ca602b3ae8bd296c"`);
    await queryRunner.query(`ALTER TABLE "s3_credentials" DROP CONSTRAINT "FK_bb58d7ea0598ece6dd0a4696c32"`);
    await queryRunner.query(`ALTER TABLE "bucket_pins" DROP CONSTRAINT "FK_7406c8a7912eee76b80e75b0d08"`);
    await queryRunner.query(`ALTER TABLE "sessions" DROP CONSTRAINT "FK_085d540d9f418cfbdc7bd55bb19"`);
    await queryRunner.query(`ALTER TABLE "password_reset_tokens" DROP CONSTRAINT "FK_52ac39dd8a28730c63aeb428c9c"`);
    await queryRunner.query(`DROP TABLE "backends"`);
    await queryRunner.query(`DROP INDEX "public"."shares_code_unique"`);
    await queryRunner.query(`DROP INDEX "public"."shares_created_by"`);
    await queryRunner.query(`DROP INDEX "public"."shares_expires_at"`);
    await queryRunner.query(`DROP TABLE "shares"`);
    await queryRunner.query(`DROP INDEX "public"."s3_credential_scopes_bucket"`);
    await queryRunner.query(`DROP TABLE "s3_credential_scopes"`);
    await queryRunner.query(`DROP INDEX "public"."s3_credentials_user_id"`);
    await queryRunner.query(`DROP TABLE "s3_credentials"`);
    await queryRunner.query(`DROP TABLE "s3_bucket_cors"`);
    await queryRunner.query(`DROP TABLE "s3_anonymous_bindings"`);
    await queryRunner.query(`DROP TABLE "bucket_usage"`);
    await queryRunner.query(`DROP TABLE "bucket_size_tracking"`);
    await queryRunner.query(`DROP TABLE "bucket_quotas"`);
    await queryRunner.query(`DROP INDEX "public"."bucket_pins_user_created"`);
    await queryRunner.query(`DROP TABLE "bucket_pins"`);
    await queryRunner.query(`DROP INDEX "public"."sessions_user_id"`);
    await queryRunner.query(`DROP INDEX "public"."sessions_expires_at"`);
    await queryRunner.query(`DROP TABLE "sessions"`);
    await queryRunner.query(`DROP INDEX "public"."password_reset_tokens_user_id"`);
    await queryRunner.query(`DROP TABLE "password_reset_tokens"`);
    await queryRunner.query(`DROP INDEX "public"."users_username_unique"`);
    await queryRunner.query(`DROP INDEX "public"."users_email_unique"`);
    await queryRunner.query(`DROP INDEX "public"."users_oidc_subject_unique"`);
    await queryRunner.query(`DROP TABLE "users"`);
    await queryRunner.query(`DROP INDEX "public"."audit_events_at"`);
    await queryRunner.query(`DROP INDEX "public"."audit_events_user_at"`);
    await queryRunner.query(`DROP INDEX "public"."audit_events_action_at"`);
    await queryRunner.query(`DROP INDEX "public"."audit_events_bucket_at"`);
    await queryRunner.query(`DROP TABLE "audit_events"`);
  }
}
