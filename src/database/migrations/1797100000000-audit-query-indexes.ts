import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes of the audit log that match its filters and its order: each filter column first, then
 * (at, id), so a filtered page newest first is one index range scan, and keyset paging resumes
 * where the last page ended.
 */
export class AuditQueryIndexes1797100000000 implements MigrationInterface {
  name = 'AuditQueryIndexes1797100000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "public"."audit_events_at"`);
    await queryRunner.query(`DROP INDEX "public"."audit_events_user_at"`);
    await queryRunner.query(`DROP INDEX "public"."audit_events_action_at"`);
    await queryRunner.query(`DROP INDEX "public"."audit_events_bucket_at"`);
    await queryRunner.query(`CREATE INDEX "audit_events_at" ON "audit_events" ("at", "id") `);
    await queryRunner.query(`CREATE INDEX "audit_events_user_at" ON "audit_events" ("user_id", "at", "id") `);
    await queryRunner.query(`CREATE INDEX "audit_events_username_at" ON "audit_events" ("username", "at", "id") `);
    await queryRunner.query(`CREATE INDEX "audit_events_action_at" ON "audit_events" ("action", "at", "id") `);
    await queryRunner.query(
      `CREATE INDEX "audit_events_bucket_at" ON "audit_events" ("backend_id", "bucket", "at", "id") `,
    );
    await queryRunner.query(`CREATE INDEX "audit_events_status_at" ON "audit_events" ("status", "at", "id") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const name of ['at', 'user_at', 'username_at', 'action_at', 'bucket_at', 'status_at']) {
      await queryRunner.query(`DROP INDEX "public"."audit_events_${name}"`);
    }
    await queryRunner.query(`CREATE INDEX "audit_events_bucket_at" ON "audit_events" ("backend_id", "bucket", "at") `);
    await queryRunner.query(`CREATE INDEX "audit_events_action_at" ON "audit_events" ("action", "at") `);
    await queryRunner.query(`CREATE INDEX "audit_events_user_at" ON "audit_events" ("user_id", "at") `);
    await queryRunner.query(`CREATE INDEX "audit_events_at" ON "audit_events" ("at") `);
  }
}
