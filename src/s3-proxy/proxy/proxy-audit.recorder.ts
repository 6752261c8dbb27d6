import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import type { AuditRecord } from '../../audit/audit.types';

const FLUSH_INTERVAL_MS = 250;
const MAX_BATCH = 500;
const MAX_PENDING = 20_000;
const MAX_COALESCED_KEYS = 10_000;

/**
 * Writes the proxy's audit rows in batches: one INSERT per quarter second instead of one per
 * request. Refusals that repeat (the same refusal of the same key from the same address) are
 * folded into one row per second carrying a `repeated` count, so a flood of bad signatures
 * cannot turn into a flood of rows. Pending rows are flushed on shutdown.
 */
@Injectable()
export class ProxyAuditRecorder implements OnModuleInit, OnApplicationShutdown {
  private pending: AuditRecord[] = [];
  private coalesced = new Map<string, { event: AuditRecord; repeated: number; since: number }>();
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> = Promise.resolve();
  private dropped = 0;

  constructor(private readonly audit: AuditService) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush(true);
  }

  /** Queues one event. */
  record(event: AuditRecord): void {
    if (this.pending.length >= MAX_PENDING) {
      this.dropped++;
      return;
    }
    this.pending.push(event);
    if (this.pending.length >= MAX_BATCH) void this.flush();
  }

  /** True (and counted) when a refusal with this key was queued within the current second. */
  repeat(key: string): boolean {
    const existing = this.coalesced.get(key);
    if (!existing) return false;
    existing.repeated++;
    return true;
  }

  /** Queues a refusal; repeats of `key` within the current second only raise its count. */
  recordRefusal(key: string, event: AuditRecord): void {
    if (this.repeat(key)) return;
    if (this.coalesced.size >= MAX_COALESCED_KEYS) {
      this.dropped++;
      return;
    }
    this.coalesced.set(key, { event, repeated: 0, since: Date.now() });
    this.record(event);
  }

  /** Writes everything queued so far; resolves when it is stored. */
  flush(everything = false): Promise<void> {
    const batch = this.takeBatch(everything);
    this.flushing = this.flushing.then(async () => {
      for (let i = 0; i < batch.length; i += MAX_BATCH) await this.audit.recordMany(batch.slice(i, i + MAX_BATCH));
    });
    return this.flushing;
  }

  private takeBatch(everything: boolean): AuditRecord[] {
    const batch = this.pending;
    this.pending = [];
    const now = Date.now();
    for (const [key, entry] of this.coalesced) {
      if (!everything && now - entry.since < 1000) continue;
      this.coalesced.delete(key);
      if (entry.repeated > 0) {
        batch.push({ ...entry.event, detail: { ...entry.event.detail, repeated: entry.repeated } });
      }
    }
    if (this.dropped > 0) {
      batch.push({ action: 's3.proxy.audit_overflow', status: 'error', detail: { dropped: this.dropped } });
      this.dropped = 0;
    }
    return batch;
  }
}
