import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RequestStatsService } from '../metrics/request-stats.service';
import { DashboardDto } from './dashboard.dto';

const TOP_BUCKETS = 10;

/**
 * The admin dashboard: requests of the last 24 hours counted by every replica (Redis), and the
 * stored sizes measured by the quota scans (`bucket_usage`), read-only. Buckets never measured
 * are not in it; with no measurement at all both storage lists are empty.
 */
@Injectable()
export class DashboardService {
  constructor(
    private readonly stats: RequestStatsService,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async get(): Promise<DashboardDto> {
    const [requests, byBackend, top] = await Promise.all([
      this.stats.snapshot(),
      this.dataSource.query<{ backend_id: string; bytes: string; objects: string; buckets: string }[]>(
        `SELECT backend_id, sum(bytes)::text AS bytes, sum(objects)::text AS objects, count(*)::text AS buckets
         FROM bucket_usage GROUP BY backend_id ORDER BY backend_id`,
      ),
      this.dataSource.query<{ backend_id: string; bucket: string; bytes: string; objects: string }[]>(
        `SELECT backend_id, bucket, bytes::text AS bytes, objects::text AS objects
         FROM bucket_usage ORDER BY bytes DESC, backend_id, bucket LIMIT ${TOP_BUCKETS}`,
      ),
    ]);
    return {
      requests,
      storage: {
        by_backend: byBackend.map((r) => ({
          backend_id: r.backend_id,
          bytes: Number(r.bytes),
          objects: Number(r.objects),
          buckets: Number(r.buckets),
        })),
        top_buckets: top.map((r) => ({
          backend_id: r.backend_id,
          bucket: r.bucket,
          bytes: Number(r.bytes),
          objects: Number(r.objects),
        })),
      },
    };
  }
}
