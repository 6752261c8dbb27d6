import { useSyncExternalStore } from 'react';
import { ApiError, bucketPath, csrfToken, errorFrom } from '../api/client';

/**
 * The upload queue: files go up two at a time; a file above {@link MULTIPART_THRESHOLD} goes as a
 * multipart upload with {@link PART_CONCURRENCY} parts in flight. Every upload first asks the API
 * not to overwrite (`no_overwrite=true`, or `If-None-Match: *` for multipart); an `object_exists`
 * answer parks the file as a conflict until the person picks Replace, Skip or Keep both.
 */

export const MULTIPART_THRESHOLD = 16 * 1024 * 1024;
export const PART_SIZE = 8 * 1024 * 1024;
export const PART_CONCURRENCY = 4;
const FILE_CONCURRENCY = 2;

export type UploadStatus = 'queued' | 'uploading' | 'conflict' | 'done' | 'skipped' | 'cancelled' | 'failed';
export type ConflictChoice = 'replace' | 'skip' | 'keepBoth';

export interface UploadItem {
  id: number;
  bid: string;
  bucket: string;
  key: string;
  file: File;
  sent: number;
  status: UploadStatus;
  error?: ApiError;
  overwrite: boolean;
  /** Set when the whole batch resolved its conflicts one way. */
  batch: number;
}

interface State {
  items: UploadItem[];
  /** Choices applied to every later conflict of a batch. */
  batchChoice: Map<number, ConflictChoice>;
}

let state: State = { items: [], batchChoice: new Map() };
const listeners = new Set<() => void>();
const inflight = new Map<number, { aborts: Set<() => void> }>();
let nextId = 1;
let nextBatch = 1;
const finishedListeners = new Set<(item: UploadItem) => void>();

function emit(): void {
  state = { ...state, items: [...state.items] };
  for (const l of listeners) l();
}

function update(id: number, patch: Partial<UploadItem>): void {
  const i = state.items.findIndex((it) => it.id === id);
  if (i < 0) return;
  state.items[i] = { ...state.items[i]!, ...patch };
  emit();
}

export function useUploads(): State {
  return useSyncExternalStore(
    (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    () => state,
  );
}

/** Called when an upload ends well (the browser refreshes the listing). */
export function onUploadFinished(fn: (item: UploadItem) => void): () => void {
  finishedListeners.add(fn);
  return () => finishedListeners.delete(fn);
}

export function enqueue(bid: string, bucket: string, files: { file: File; key: string }[]): void {
  const batch = nextBatch++;
  for (const { file, key } of files) {
    state.items.push({ id: nextId++, bid, bucket, key, file, sent: 0, status: 'queued', overwrite: false, batch });
  }
  emit();
  pump();
}

function pump(): void {
  const running = state.items.filter((i) => i.status === 'uploading').length;
  const waiting = state.items.filter((i) => i.status === 'queued');
  for (const item of waiting.slice(0, Math.max(0, FILE_CONCURRENCY - running))) void run(item.id);
}

async function run(id: number): Promise<void> {
  const item = state.items.find((i) => i.id === id);
  if (!item) return;
  update(id, { status: 'uploading', sent: 0, error: undefined });
  const slot = { aborts: new Set<() => void>() };
  inflight.set(id, slot);
  try {
    if (item.file.size > MULTIPART_THRESHOLD) await multipart(item, slot.aborts);
    else await single(item, slot.aborts);
    update(id, { status: 'done', sent: item.file.size });
    for (const l of finishedListeners) l(item);
  } catch (err) {
    const current = state.items.find((i) => i.id === id);
    if (current?.status === 'cancelled') {
      // cancelled by the person: nothing more to say
    } else if (err instanceof ApiError && err.code === 'object_exists') {
      const choice = state.batchChoice.get(item.batch);
      update(id, { status: 'conflict', sent: 0, error: err });
      if (choice) resolveConflict(id, choice);
    } else {
      update(id, { status: 'failed', error: err instanceof ApiError ? err : new ApiError('network', String(err), '', 0) });
    }
  } finally {
    inflight.delete(id);
    pump();
  }
}

interface XhrResult {
  status: number;
  body: string;
  headers: (name: string) => string | null;
}

function send(method: string, url: string, body: Blob | string | null, headers: Record<string, string>, onProgress: (n: number) => void, aborts: Set<() => void>): Promise<XhrResult> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader('x-csrf-token', csrfToken());
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    const abort = () => xhr.abort();
    aborts.add(abort);
    xhr.onload = () => {
      aborts.delete(abort);
      resolve({ status: xhr.status, body: xhr.responseText, headers: (n) => xhr.getResponseHeader(n) });
    };
    xhr.onerror = () => {
      aborts.delete(abort);
      reject(new ApiError('network', 'The upload was interrupted.', '', 0));
    };
    xhr.onabort = () => {
      aborts.delete(abort);
      reject(new ApiError('network', 'Cancelled.', '', 0));
    };
    xhr.send(body);
  });
}

async function check(result: XhrResult): Promise<unknown> {
  if (result.status >= 200 && result.status < 300) return result.body ? JSON.parse(result.body) : undefined;
  const response = new Response(result.body || null, {
    status: result.status,
    headers: { 'retry-after': result.headers('retry-after') ?? '' },
  });
  throw await errorFrom(response);
}

async function single(item: UploadItem, aborts: Set<() => void>): Promise<void> {
  const q = new URLSearchParams({ key: item.key });
  if (!item.overwrite) q.set('no_overwrite', 'true');
  const result = await send(
    'POST',
    `${bucketPath(item.bid, item.bucket)}/object?${q}`,
    item.file,
    { 'content-type': item.file.type || 'application/octet-stream' },
    (n) => update(item.id, { sent: n }),
    aborts,
  );
  await check(result);
}

async function multipart(item: UploadItem, aborts: Set<() => void>): Promise<void> {
  const base = `${bucketPath(item.bid, item.bucket)}/multipart`;
  const keyQ = new URLSearchParams({ key: item.key });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (!item.overwrite) headers['if-none-match'] = '*';
  const started = (await check(
    await send('POST', `${base}?${keyQ}`, JSON.stringify({ content_type: item.file.type || 'application/octet-stream' }), headers, () => {}, aborts),
  )) as { upload_id: string };
  const q = new URLSearchParams({ key: item.key, upload_id: started.upload_id });
  const abortUpload = () => void fetch(`${base}?${q}`, { method: 'DELETE', headers: { 'x-csrf-token': csrfToken() } });
  const count = Math.ceil(item.file.size / PART_SIZE);
  const progress = new Array<number>(count).fill(0);
  const parts: { PartNumber: number; ETag: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      const blob = item.file.slice(index * PART_SIZE, Math.min(item.file.size, (index + 1) * PART_SIZE));
      const result = (await check(
        await send('PUT', `${base}/parts/${index + 1}?${q}`, blob, { 'content-type': 'application/octet-stream' }, (n) => {
          progress[index] = n;
          update(item.id, { sent: progress.reduce((a, b) => a + b, 0) });
        }, aborts),
      )) as { etag: string; part_number: number };
      parts.push({ PartNumber: result.part_number, ETag: result.etag });
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, count) }, worker));
    parts.sort((a, b) => a.PartNumber - b.PartNumber);
    await check(await send('POST', `${base}/complete?${q}`, JSON.stringify({ parts }), { 'content-type': 'application/json' }, () => {}, aborts));
  } catch (err) {
    abortUpload();
    throw err;
  }
}

export function cancel(id: number): void {
  const item = state.items.find((i) => i.id === id);
  if (!item || !['queued', 'uploading', 'conflict'].includes(item.status)) return;
  update(id, { status: 'cancelled' });
  for (const abort of inflight.get(id)?.aborts ?? []) abort();
}

export function cancelAll(): void {
  for (const item of state.items) cancel(item.id);
}

export function clearFinished(): void {
  state.items = state.items.filter((i) => ['queued', 'uploading', 'conflict'].includes(i.status));
  emit();
}

/** "report (1).pdf" for "report.pdf": the first free variant is found by the API refusing the taken ones. */
export function keepBothKey(key: string, n: number): string {
  const slash = key.lastIndexOf('/');
  const dir = key.slice(0, slash + 1);
  const name = key.slice(slash + 1);
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${dir}${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${dir}${name} (${n})`;
}

export function resolveConflict(id: number, choice: ConflictChoice, applyToBatch = false): void {
  const item = state.items.find((i) => i.id === id);
  if (!item || item.status !== 'conflict') return;
  if (applyToBatch) state.batchChoice.set(item.batch, choice);
  if (choice === 'skip') update(id, { status: 'skipped', error: undefined });
  else if (choice === 'replace') update(id, { status: 'queued', overwrite: true, error: undefined });
  else {
    const m = /\((\d+)\)(\.[^./]*)?$/.exec(item.key);
    const n = m ? Number(m[1]) + 1 : 1;
    const original = m ? item.key.replace(/ \(\d+\)(\.[^./]*)?$/, '$1') : item.key;
    update(id, { status: 'queued', key: keepBothKey(original, n), error: undefined });
  }
  if (applyToBatch) for (const other of state.items) if (other.batch === item.batch && other.status === 'conflict') resolveConflict(other.id, choice);
  pump();
}
