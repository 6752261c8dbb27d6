import { getQueueToken } from '@nestjs/bullmq';
import { Queue, QueueEvents } from 'bullmq';
import { DataSource } from 'typeorm';
import { MaintenanceJob, QueueName } from '../../src/jobs/queues';
import { RedisService } from '../../src/redis/redis.service';
import { TestApp, TestStack } from '../harness/app';
import { seedUser } from '../harness/session';

async function queueEvents(app: TestApp): Promise<QueueEvents> {
  const redis = app.app.get(RedisService);
  const events = new QueueEvents(QueueName.Maintenance, {
    connection: redis.connectionOptions(),
    prefix: `${redis.prefix}bull`,
  });
  await events.waitUntilReady();
  return events;
}

describe('background jobs (BullMQ)', () => {
  let stack: TestStack;
  let app: TestApp;

  beforeAll(async () => {
    stack = await TestStack.start({ s3: false });
    app = await stack.boot({ config: { auth: { session: { idle_timeout: '1h' } } } });
  });
  afterAll(() => stack.stop());

  it('schedules the session purge once, under the deployment’s key prefix', async () => {
    const second = await stack.boot();
    const queue = app.app.get<Queue>(getQueueToken(QueueName.Maintenance));
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers.map((s) => s.key ?? s.name)).toEqual([MaintenanceJob.PurgeExpiredSessions]);
    const keys = await app.app.get(RedisService).client.keys(`${stack.redisPrefix}bull:*`);
    expect(keys.length).toBeGreaterThan(0);
    await second.close();
  });

  it('purges expired and long-idle sessions, and keeps live ones', async () => {
    const db = app.app.get(DataSource);
    const user = await seedUser(app);
    const insert = (id: string, expires: string, lastSeen: string) =>
      db.query(
        `INSERT INTO sessions (id_hash, user_id, identity_source, csrf_hash, expires_at, last_seen_at)
         VALUES ($1, $2, 'local', 'c', now() + $3::interval, now() + $4::interval)`,
        [id, user.id, expires, lastSeen],
      );
    await insert('expired', '-1 minute', '-2 minutes');
    await insert('idle', '+5 hours', '-3 hours');
    await insert('live', '+5 hours', '-1 minute');

    const queue = app.app.get<Queue>(getQueueToken(QueueName.Maintenance));
    const events = await queueEvents(app);
    try {
      const job = await queue.add(MaintenanceJob.PurgeExpiredSessions, {});
      expect(await job.waitUntilFinished(events, 15_000)).toEqual({ purged: 2 });
    } finally {
      await events.close();
    }
    const left = await db.query('SELECT id_hash FROM sessions WHERE user_id = $1', [user.id]);
    expect(left).toEqual([{ id_hash: 'live' }]);
  });

  it('fails an unknown job without retrying it', async () => {
    const queue = app.app.get<Queue>(getQueueToken(QueueName.Maintenance));
    const events = await queueEvents(app);
    try {
      const job = await queue.add('no-such-job', {});
      await expect(job.waitUntilFinished(events, 15_000)).rejects.toThrow(/unknown maintenance job/);
      expect((await queue.getJob(job.id!))?.attemptsMade).toBe(1);
    } finally {
      await events.close();
    }
  });
});
