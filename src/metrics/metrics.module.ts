import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { RequestStatsService } from './request-stats.service';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsService, RequestStatsService],
  exports: [MetricsService, RequestStatsService],
})
export class MetricsModule {}
