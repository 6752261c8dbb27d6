import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';

/**
 * Knows when the process has begun shutting down, so responses still in flight can ask their
 * clients to close the connection instead of keeping an idle keep-alive socket that would hold
 * the drain open until the timeout.
 */
@Injectable()
export class DrainService implements BeforeApplicationShutdown {
  private drainingSince?: number;

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  beforeApplicationShutdown(): void {
    this.drainingSince ??= Date.now();
  }
}
