import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import type { AuditIntent, AuditRecord } from '../../audit/audit.types';

const SWEEP_INTERVAL_MS = 1000;
const MAX_COALESCED_KEYS = 10_000;

/**
 * The proxy's way into the audit log. A write's row is `intend`ed as it goes upstream, its
 * success waits until that row is `committed` (group-committed with every other row waiting),
 * and its outcome is `conclude`d over it when the response closes; a write that went out
 * without an intent is `commit`ted instead. Everything else is `record`ed without waiting. Refusals that repeat (the same refusal of the same key from the same address) are
 * folded: the first is written at once, repeats within the next second only raise a count
 * written as one more row with `repeated`, so a flood of bad signatures cannot turn into a
 * flood of rows.
 */
@Injectable()
export class ProxyAuditRecorder implements OnModuleInit, OnApplicationShutdown {
  private coalesced = new Map<string, { event: AuditRecord; repeated: number; since: number }>();
  private timer?: NodeJS.Timeout;
  private dropped = 0;

  constructor(private readonly audit: AuditService) {}

  onModuleInit(): void {
    this.timer = setInterval(() => this.sweep(false), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.sweep(true);
  }

  /** Whether a write can be expected to get its row committed right now. */
  get available(): boolean {
    return this.audit.available;
  }

  /** Resolves once the row is committed; rejects (`store_unavailable`) when it cannot be. */
  commit(event: AuditRecord): Promise<void> {
    return this.audit.record(event);
  }

  /** Starts the durable INSERT of a write's row, `pending`, while the write goes upstream. */
  intend(event: AuditRecord): AuditIntent {
    return this.audit.intend(event);
  }

  /** Whether the intent's row is committed, once it is. */
  committed(intent: AuditIntent): Promise<boolean> {
    return this.audit.committed(intent);
  }

  /** Writes the write's outcome over its intent's row, without waiting. */
  conclude(intent: AuditIntent, event: AuditRecord): void {
    this.audit.conclude(intent, event);
  }

  /** Writes one event, best-effort, without waiting. */
  record(event: AuditRecord): void {
    void this.audit.note(event);
  }

  /** True (and counted) when a refusal with this key was written within the current second. */
  repeat(key: string): boolean {
    const existing = this.coalesced.get(key);
    if (!existing) return false;
    existing.repeated++;
    return true;
  }

  /** Writes a refusal; repeats of `key` within the next second only raise its count. */
  recordRefusal(key: string, event: AuditRecord): void {
    if (this.repeat(key)) return;
    if (this.coalesced.size >= MAX_COALESCED_KEYS) {
      this.dropped++;
      return;
    }
    this.coalesced.set(key, { event, repeated: 0, since: Date.now() });
    this.record(event);
  }

  /** Writes the counts of folded repeats whose second is over (all of them at shutdown). */
  private sweep(everything: boolean): void {
    const now = Date.now();
    for (const [key, entry] of this.coalesced) {
      if (!everything && now - entry.since < 1000) continue;
      this.coalesced.delete(key);
      if (entry.repeated > 0) {
        this.record({ ...entry.event, detail: { ...entry.event.detail, repeated: entry.repeated } });
      }
    }
    if (this.dropped > 0) {
      this.record({ action: 's3.proxy.audit_overflow', status: 'error', detail: { dropped: this.dropped } });
      this.dropped = 0;
    }
  }
}
