import { Injectable } from '@nestjs/common';
import { Backend, ObjectInfo } from '../storage-backends/backend';
import { BackendRegistry } from '../storage-backends/backend-registry.service';
import { BucketHitDto, ObjectHitDto, SearchResultDto } from './dto/search.dto';

/** How long one backend may take before the answer goes out without it. */
export const SEARCH_BACKEND_TIMEOUT_MS = 3_000;
export const MAX_BUCKET_HITS = 50;
export const MAX_OBJECT_HITS = 200;
/** Buckets whose keys are searched on one backend. */
export const MAX_BUCKETS_SCANNED = 100;
/** Keys listed per listing (one with the query as a prefix, one first page). */
export const KEYS_PER_LISTING = 1000;
/** Buckets of one backend listed at the same time. */
const BUCKET_CONCURRENCY = 8;

interface BackendHits {
  buckets: BucketHitDto[];
  objects: ObjectHitDto[];
  truncated: boolean;
}

/**
 * A bounded search across every backend: bucket names and object keys containing the query.
 * Backends are searched in parallel, each under its own deadline, so one slow or dead backend
 * only drops its own matches (and marks the answer truncated).
 */
@Injectable()
export class SearchService {
  constructor(private readonly registry: BackendRegistry) {}

  async search(query: string): Promise<SearchResultDto> {
    const results = await Promise.all(this.registry.list().map(({ backend }) => this.withDeadline(backend, query)));
    const buckets = results.flatMap((r) => r.buckets).sort(byLocation);
    const objects = results.flatMap((r) => r.objects).sort((a, b) => byLocation(a, b) || compare(a.key, b.key));
    return {
      query,
      buckets: buckets.slice(0, MAX_BUCKET_HITS),
      objects: objects.slice(0, MAX_OBJECT_HITS),
      truncated:
        results.some((r) => r.truncated) || buckets.length > MAX_BUCKET_HITS || objects.length > MAX_OBJECT_HITS,
    };
  }

  /** One backend's matches; what was found before the deadline is kept, and the answer is then truncated. */
  private async withDeadline(backend: Backend, query: string): Promise<BackendHits> {
    const hits: BackendHits = { buckets: [], objects: [], truncated: false };
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        controller.abort(new Error('search deadline'));
        resolve();
      }, SEARCH_BACKEND_TIMEOUT_MS);
    });
    const work = this.searchBackend(backend, query, hits, controller.signal).then(
      () => true,
      () => false,
    );
    const finished = await Promise.race([work, deadline.then(() => false)]);
    clearTimeout(timer);
    if (!finished) hits.truncated = true;
    // Freeze what is returned: late answers of an abandoned backend must not change it.
    return { buckets: [...hits.buckets], objects: [...hits.objects], truncated: hits.truncated };
  }

  private async searchBackend(backend: Backend, query: string, hits: BackendHits, signal: AbortSignal) {
    const needle = query.toLowerCase();
    const buckets = await backend.listBuckets(signal);
    for (const b of buckets) {
      if (b.name.toLowerCase().includes(needle)) hits.buckets.push({ backend_id: backend.id, bucket: b.name });
    }
    if (buckets.length > MAX_BUCKETS_SCANNED) hits.truncated = true;
    const queue = buckets.slice(0, MAX_BUCKETS_SCANNED).map((b) => b.name);
    const worker = async () => {
      for (let bucket = queue.shift(); bucket !== undefined && !signal.aborted; bucket = queue.shift()) {
        try {
          for (const object of await this.matchingKeys(backend, bucket, query, signal)) {
            hits.objects.push({
              backend_id: backend.id,
              bucket,
              key: object.key,
              size: object.size,
              ...(object.lastModified ? { last_modified: object.lastModified.toISOString() } : {}),
            });
          }
        } catch {
          hits.truncated = true;
        }
        if (hits.objects.length > MAX_OBJECT_HITS) {
          hits.truncated = true;
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: BUCKET_CONCURRENCY }, worker));
  }

  /** Keys containing the needle among those starting with the query and the bucket's first page. */
  private async matchingKeys(backend: Backend, bucket: string, query: string, signal: AbortSignal) {
    const needle = query.toLowerCase();
    const [prefixed, firstPage] = await Promise.all([
      backend.listObjects({ bucket, prefix: query, maxKeys: KEYS_PER_LISTING }, signal),
      backend.listObjects({ bucket, maxKeys: KEYS_PER_LISTING }, signal),
    ]);
    const found = new Map<string, ObjectInfo>();
    for (const object of [...prefixed.objects, ...firstPage.objects]) {
      if (object.key.toLowerCase().includes(needle)) found.set(object.key, object);
    }
    return [...found.values()];
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byLocation(a: BucketHitDto, b: BucketHitDto): number {
  return compare(a.backend_id, b.backend_id) || compare(a.bucket, b.bucket);
}
