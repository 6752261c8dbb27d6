import type { Worker } from 'bullmq';
import type { Logger } from 'pino';
import { RedisService } from '../redis/redis.service';

/**
 * Stops a BullMQ worker taking jobs and lets the running ones finish. With Redis unreachable that
 * could wait forever, so the worker is then closed by force: shutdown must never hang.
 */
export async function closeWorker(worker: Worker, redis: RedisService, logger: Logger): Promise<void> {
  const redisUp = await redis.ping(500).then(
    () => true,
    () => false,
  );
  if (!redisUp) logger.warn('redis unreachable at shutdown; closing the job worker by force');
  await worker.close(!redisUp);
}
