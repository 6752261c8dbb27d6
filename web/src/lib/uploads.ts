import { useSyncExternalStore } from 'react';
import { ApiError, bucketPath, csrfToken, errorFrom } from '../api/client';

/**
 * The upload queue: files go up two at a time; a file above {@link MULTIPART_THRESHOLD} goes as a
 * multipart upload with {@link PART_CONCURRENCY} parts in flight. Every upload first asks the API
 * not to overwrite (`no_overwrite=true`, or `If-None-Match: *` for multipart); an `object_exists`
 * answer parks the file as a conflict until the person picks Replace, Skip or Keep both.
 *
 * Resume: a browser cannot keep a File across a reload, so each multipart upload in flight is
 * remembered in localStorage (target, upload id, the file's name, size and lastModified, and the
 * parts finished so far). After a reload those show as unfinished; the person picks the same
 * file again (checked by name, size and lastModified) and only the parts the server does not
 * hold go up: the server's part list where the backend offers one, the remembered parts otherwise.
 */

export const MULTIPART_THRESHOLD = 16 * 1024 * 1024;
export const PART_SIZE = 8 * 1024 * 1024;
export const PART_CONCURRENCY = 4;
const FILE_CONCURRENCY = 2;

export type UploadStatus = 'queued' | 'uploading' | 'conflict' | 'done' | 'skipped' | 'cancelled' | 'failed';
export type ConflictChoice = 'replace' | 'skip' | 'keepBoth';

/** A multipart upload remembered across reloads. */
export interface SavedUpload {
  bid: string;
  bucket: string;
  key: string;
  uploadId: string;
  name: string;
  size: number;
  lastModified: number;
  partSize: number;
  /** Part number → ETag of the parts this browser finished. */
  parts: Record<number, string>;
  started: number;
}

const SAVED_KEY = 'stowage.uploads.v1';

function loadSaved(): SavedUpload[] {
  try {
    const value = JSON.parse(localStorage.getItem(SAVED_KEY) ?? '[]') as unknown;
    return Array.isArray(value) ? (value as SavedUpload[]).filter((u) => u && typeof u.uploadId === 'string') : [];
  } catch {
    return [];
  }
}

function storeSaved(list: SavedUpload[]): void {
  try {
    localStorage.setItem(SAVED_KEY, JSON.stringify(list));
  } catch {
    // storage full or disabled: the upload still runs, it just cannot be resumed
  }
}

function remember(saved: SavedUpload): void {
  storeSaved([...loadSaved().filter((u) => u.uploadId !== saved.uploadId), saved]);
}

function forget(uploadId: string): void {
  storeSaved(loadSaved().filter((u) => u.uploadId !== uploadId));
}

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
  /** A multipart upload started before a reload, to continue rather than begin. */
  resume?: SavedUpload;
}

interface State {
  items: UploadItem[];
  /** Multipart uploads left unfinished by an earlier page, waiting for their file. */
  unfinished: SavedUpload[];
  /** Choices applied to every later conflict of a batch. */
  batchChoice: Map<number, ConflictChoice>;
}

/** Set while the page goes away: uploads cut off by a reload stay resumable rather than aborted. */
let leaving = false;
if (typeof window !== 'undefined') {
  window.addEventListener('pagehide', () => (leaving = true));
  window.addEventListener('pageshow', () => (leaving = false));
}

let state: State = { items: [], unfinished: loadSaved(), batchChoice: new Map() };
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

/** Parts already stored for a resumed upload: the server's list, or what this browser remembered. */
async function heldParts(item: UploadItem, saved: SavedUpload, base: string): Promise<Map<number, string>> {
  const q = new URLSearchParams({ key: item.key, upload_id: saved.uploadId });
  const res = await fetch(`${base}/parts?${q}`, { credentials: 'same-origin' }).catch(() => undefined);
  if (res?.ok) {
    const body = (await res.json()) as { parts: { part_number: number; etag: string; size: number }[] };
    const count = Math.ceil(saved.size / saved.partSize);
    const expected = (n: number) => (n < count ? saved.partSize : saved.size - (count - 1) * saved.partSize);
    return new Map(body.parts.filter((p) => p.part_number <= count && p.size === expected(p.part_number)).map((p) => [p.part_number, p.etag]));
  }
  if (res) {
    const error = await errorFrom(res);
    // The backend keeps no part list (`not_supported`): trust the parts this browser finished.
    if (error.code !== 'not_supported') throw error;
  }
  return new Map(Object.entries(saved.parts).map(([n, etag]) => [Number(n), etag]));
}

async function multipart(item: UploadItem, aborts: Set<() => void>): Promise<void> {
  const base = `${bucketPath(item.bid, item.bucket)}/multipart`;
  let saved = item.resume;
  let held = new Map<number, string>();
  if (saved) {
    const resumed = saved;
    held = await heldParts(item, resumed, base).catch((err: unknown) => {
      forget(resumed.uploadId);
      throw err;
    });
  } else {
    const keyQ = new URLSearchParams({ key: item.key });
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (!item.overwrite) headers['if-none-match'] = '*';
    const started = (await check(
      await send('POST', `${base}?${keyQ}`, JSON.stringify({ content_type: item.file.type || 'application/octet-stream' }), headers, () => {}, aborts),
    )) as { upload_id: string };
    saved = {
      bid: item.bid,
      bucket: item.bucket,
      key: item.key,
      uploadId: started.upload_id,
      name: item.file.name,
      size: item.file.size,
      lastModified: item.file.lastModified,
      partSize: PART_SIZE,
      parts: {},
      started: Date.now(),
    };
    remember(saved);
  }
  const upload = saved;
  const partSize = upload.partSize;
  const q = new URLSearchParams({ key: item.key, upload_id: upload.uploadId });
  const abortUpload = () => {
    forget(upload.uploadId);
    void fetch(`${base}?${q}`, { method: 'DELETE', headers: { 'x-csrf-token': csrfToken() } });
  };
  const count = Math.ceil(item.file.size / partSize);
  const partBytes = (index: number) => Math.min(item.file.size, (index + 1) * partSize) - index * partSize;
  const progress = Array.from({ length: count }, (_, index) => (held.has(index + 1) ? partBytes(index) : 0));
  update(item.id, { sent: progress.reduce((a, b) => a + b, 0) });
  const parts: { PartNumber: number; ETag: string }[] = [...held].map(([PartNumber, ETag]) => ({ PartNumber, ETag }));
  const missing = Array.from({ length: count }, (_, index) => index).filter((index) => !held.has(index + 1));
  let next = 0;
  let stopped = false;
  const worker = async () => {
    while (next < missing.length && !stopped) {
      const index = missing[next++]!;
      const blob = item.file.slice(index * partSize, index * partSize + partBytes(index));
      const result = (await withRetries(
        async () =>
          check(
            await send('PUT', `${base}/parts/${index + 1}?${q}`, blob, { 'content-type': 'application/octet-stream' }, (n) => {
              progress[index] = n;
              update(item.id, { sent: progress.reduce((a, b) => a + b, 0) });
            }, aborts),
          ),
        () => stopped || leaving || state.items.find((i) => i.id === item.id)?.status === 'cancelled',
      )) as { etag: string; part_number: number };
      if (stopped) return;
      parts.push({ PartNumber: result.part_number, ETag: result.etag });
      upload.parts[result.part_number] = result.etag;
      remember(upload);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(PART_CONCURRENCY, missing.length) }, worker));
    parts.sort((a, b) => a.PartNumber - b.PartNumber);
    await check(await send('POST', `${base}/complete?${q}`, JSON.stringify({ parts }), { 'content-type': 'application/json' }, () => {}, aborts));
    forget(upload.uploadId);
  } catch (err) {
    stopped = true;
    if (!leaving) {
      for (const abort of [...aborts]) abort();
      abortUpload();
    }
    throw err;
  }
}

/** Retries a part a few times when the failure is passing (network, 503, 429), honouring Retry-After. */
async function withRetries<T>(attempt: () => Promise<T>, giveUp: () => boolean): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (err) {
      const passing = err instanceof ApiError && (err.code === 'network' || err.status === 503 || err.status === 429);
      if (!passing || tries >= 4 || giveUp()) throw err;
      const seconds = err instanceof ApiError && err.retryAfter !== undefined ? Math.min(err.retryAfter, 10) : tries;
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      if (giveUp()) throw err;
    }
  }
}

/** Why `file` is not the file of an unfinished upload, or undefined when it is (name, size, lastModified). */
export function sameFileProblem(saved: SavedUpload, file: File): 'name' | 'size' | 'modified' | undefined {
  if (file.name !== saved.name) return 'name';
  if (file.size !== saved.size) return 'size';
  if (file.lastModified !== saved.lastModified) return 'modified';
  return undefined;
}

/** Continues an unfinished upload with the file picked again; answers why not when it is another file. */
export function resumeUpload(uploadId: string, file: File): ReturnType<typeof sameFileProblem> {
  const saved = state.unfinished.find((u) => u.uploadId === uploadId);
  if (!saved) return undefined;
  const problem = sameFileProblem(saved, file);
  if (problem) return problem;
  state.unfinished = state.unfinished.filter((u) => u.uploadId !== uploadId);
  state.items.push({
    id: nextId++,
    bid: saved.bid,
    bucket: saved.bucket,
    key: saved.key,
    file,
    sent: 0,
    status: 'queued',
    overwrite: true,
    batch: nextBatch++,
    resume: saved,
  });
  emit();
  pump();
  return undefined;
}

/** Gives up an unfinished upload: the server drops its parts, and it is forgotten here. */
export function discardUnfinished(uploadId: string): void {
  const saved = state.unfinished.find((u) => u.uploadId === uploadId);
  if (!saved) return;
  state.unfinished = state.unfinished.filter((u) => u.uploadId !== uploadId);
  forget(uploadId);
  emit();
  const q = new URLSearchParams({ key: saved.key, upload_id: uploadId });
  void fetch(`${bucketPath(saved.bid, saved.bucket)}/multipart?${q}`, { method: 'DELETE', headers: { 'x-csrf-token': csrfToken() } });
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
