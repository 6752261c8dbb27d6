import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams, useSearch } from '@tanstack/react-router';
import { useVirtualizer } from '@tanstack/react-virtual';
import { type DragEvent, useEffect, useMemo, useRef, useState } from 'react';
import { api, bucketPath, mutationHeaders, unwrap } from '../api/client';
import { FolderIcon } from '../components/icons';
import { Button, ConfirmDialog, ErrorMessage, Field, FormDialog } from '../components/ui';
import { t } from '../i18n';
import { baseName, formatBytes, formatDate } from '../lib/format';
import { canWrite, isAdmin, useMe } from '../lib/session';
import { listingQuery } from '../lib/listing';
import { enqueue, onUploadFinished } from '../lib/uploads';
import { CopyDialog } from './CopyDialog';
import { ObjectPanel } from './ObjectPanel';
import { ShareDialog } from './ShareDialog';

interface Row {
  key: string;
  name: string;
  folder: boolean;
  size?: number;
  modified?: string;
  contentType?: string;
}

type SortKey = 'name' | 'size' | 'modified';
const ROW_HEIGHT = 36;

export default function Browser() {
  const { bid, bucket } = useParams({ from: '/b/$bid/$bucket' });
  const { prefix = '' } = useSearch({ from: '/b/$bid/$bucket' });
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const me = useMe();
  const writable = canWrite(me.data);
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'name', desc: false });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [anchor, setAnchor] = useState<number>();
  const [open, setOpen] = useState<Row>();
  const [dialog, setDialog] = useState<'folder' | 'delete' | 'copy' | 'share'>();
  const [folderName, setFolderName] = useState('');
  const [actionError, setActionError] = useState<unknown>();
  const [dragging, setDragging] = useState(false);
  const [elapsed, setElapsed] = useState<number>();
  const [firstRows, setFirstRows] = useState<number>();
  /** When the first rows were rendered, from the page's navigation start (performance.now()): the cold-load figure. */
  const [firstAt, setFirstAt] = useState<number>();
  const started = useRef(performance.now());
  const fileInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);

  // Folder sizes come from the size-tracking route; a bucket without tracking answers 409
  // size_tracking_disabled, shown as its readable message.
  const folderSize = useMutation({
    mutationFn: (p: string) => unwrap(api.GET('/api/backends/{bid}/buckets/{bucket}/prefix-size', { params: { path: { bid, bucket }, query: { prefix: p } } })),
  });

  const listing = useInfiniteQuery(listingQuery(bid, bucket, prefix));

  // Every page of the folder, one after the other, while the rows already listed stay usable:
  // sorting and filtering cover what has arrived, and the status line says more is coming.
  useEffect(() => {
    if (listing.hasNextPage && !listing.isFetchingNextPage && !listing.error) void listing.fetchNextPage();
  }, [listing.hasNextPage, listing.isFetchingNextPage, listing.error, listing]);

  useEffect(() => {
    started.current = performance.now();
    setElapsed(undefined);
    setFirstRows(undefined);
    setSelected(new Set());
    setOpen(undefined);
    setFilter('');
    folderSize.reset();
  }, [bid, bucket, prefix]);

  useEffect(() => onUploadFinished((item) => {
    if (item.bid === bid && item.bucket === bucket) void queryClient.invalidateQueries({ queryKey: ['objects', bid, bucket] });
  }), [bid, bucket, queryClient]);

  const all = useMemo<Row[]>(() => {
    const rows: Row[] = [];
    for (const page of listing.data?.pages ?? []) {
      for (const p of page.common_prefixes) rows.push({ key: p, name: baseName(p), folder: true });
      for (const o of page.objects) {
        if (o.key === prefix) continue;
        rows.push({ key: o.key, name: o.key.slice(prefix.length), folder: false, size: o.size, modified: o.last_modified, contentType: o.content_type });
      }
    }
    return rows;
  }, [listing.data, prefix]);

  const rows = useMemo(() => {
    const needle = filter.toLowerCase();
    const shown = needle ? all.filter((r) => r.name.toLowerCase().includes(needle)) : all.slice();
    const dir = sort.desc ? -1 : 1;
    shown.sort((a, b) => {
      if (a.folder !== b.folder) return a.folder ? -1 : 1;
      if (sort.key === 'size') return ((a.size ?? 0) - (b.size ?? 0)) * dir;
      if (sort.key === 'modified') return (a.modified ?? '').localeCompare(b.modified ?? '') * dir;
      return (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) * dir;
    });
    return shown;
  }, [all, filter, sort]);

  const complete = listing.isSuccess && !listing.hasNextPage;
  useEffect(() => {
    if (complete && elapsed === undefined) setElapsed(Math.round(performance.now() - started.current));
  }, [complete, elapsed]);
  useEffect(() => {
    if ((all.length > 0 || complete) && firstRows === undefined) {
      setFirstRows(Math.round(performance.now() - started.current));
      setFirstAt(Math.round(performance.now()));
    }
  }, [all.length, complete, firstRows]);

  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 12 });

  const go = (p: string) => void navigate({ to: '/b/$bid/$bucket', params: { bid, bucket }, search: p ? { prefix: p } : {} });
  const crumbs = prefix.split('/').filter(Boolean).map((part, i, parts) => ({ name: part, prefix: parts.slice(0, i + 1).join('/') + '/' }));

  const toggle = (index: number, shift: boolean) => {
    const next = new Set(selected);
    if (shift && anchor !== undefined) {
      const [a, b] = [Math.min(anchor, index), Math.max(anchor, index)];
      for (let i = a; i <= b; i++) next.add(rows[i]!.key);
    } else if (next.has(rows[index]!.key)) next.delete(rows[index]!.key);
    else next.add(rows[index]!.key);
    setAnchor(index);
    setSelected(next);
  };
  const allSelected = rows.length > 0 && rows.every((r) => selected.has(r.key));
  const selectedRows = rows.filter((r) => selected.has(r.key));
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['objects', bid, bucket] });

  const addFiles = (files: { file: File; key: string }[]) => {
    if (files.length) enqueue(bid, bucket, files);
  };
  const onPick = (list: FileList | null) => {
    addFiles([...(list ?? [])].map((file) => ({ file, key: prefix + (file.webkitRelativePath || file.name) })));
  };
  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    if (!writable) return;
    const entries = [...e.dataTransfer.items].map((i) => i.webkitGetAsEntry?.()).filter((x): x is FileSystemEntry => !!x);
    if (entries.length === 0) return onPick(e.dataTransfer.files);
    const files: { file: File; key: string }[] = [];
    await Promise.all(entries.map((entry) => walk(entry, '', files)));
    addFiles(files.map((f) => ({ file: f.file, key: prefix + f.key })));
  };

  const createFolder = async () => {
    setActionError(undefined);
    try {
      await unwrap(api.POST('/api/backends/{bid}/buckets/{bucket}/objects/folder', { params: { path: { bid, bucket } }, body: { key: `${prefix}${folderName.replace(/\/+$/, '')}/` } }));
      setDialog(undefined);
      setFolderName('');
      refresh();
    } catch (err) {
      setActionError(err);
    }
  };

  const deleteSelected = async () => {
    setActionError(undefined);
    try {
      const files = selectedRows.filter((r) => !r.folder).map((r) => ({ key: r.key }));
      for (let i = 0; i < files.length; i += 1000) {
        await unwrap(api.POST('/api/backends/{bid}/buckets/{bucket}/objects/delete', { params: { path: { bid, bucket } }, body: { keys: files.slice(i, i + 1000) } }));
      }
      for (const folder of selectedRows.filter((r) => r.folder)) {
        const res = await fetch(`${bucketPath(bid, bucket)}/objects/delete-prefix`, {
          method: 'POST',
          headers: { ...mutationHeaders(), 'content-type': 'application/json' },
          body: JSON.stringify({ prefix: folder.key }),
        });
        await res.text();
      }
      setDialog(undefined);
      setSelected(new Set());
      refresh();
    } catch (err) {
      setActionError(err);
    }
  };

  const zipUrl = () => `${bucketPath(bid, bucket)}/objects/zip?${new URLSearchParams(selectedRows.map((r) => ['key', r.key]))}`;
  const single = selectedRows.length === 1 && !selectedRows[0]!.folder ? selectedRows[0] : undefined;

  const header = (key: SortKey, label: string, className: string) => (
    <button
      type="button"
      className={`text-left font-medium text-muted ${className}`}
      aria-label={t('browser.sortBy', { column: label })}
      aria-pressed={sort.key === key}
      onClick={() => setSort((s) => ({ key, desc: s.key === key ? !s.desc : false }))}
    >
      {label} {sort.key === key ? (sort.desc ? '↓' : '↑') : ''}
    </button>
  );

  return (
    <section
      className="flex min-h-0 flex-1 flex-col gap-3 p-6"
      onDragOver={(e) => {
        if (!writable) return;
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => void onDrop(e)}
    >
      <header className="flex flex-col gap-2">
        <div className="flex items-center gap-3">
          <h1 className="text-xl font-semibold">{bucket}</h1>
          {isAdmin(me.data) && (
            <Link to="/b/$bid/$bucket/settings" params={{ bid, bucket }} className="text-sm text-accent underline">
              {t('settings.open')}
            </Link>
          )}
        </div>
        <nav aria-label={t('browser.breadcrumbs')}>
          <ol className="flex flex-wrap items-center gap-1 text-sm">
            <li>
              <Link to="/b/$bid" params={{ bid }} className="text-accent underline">
                {bid}
              </Link>
            </li>
            <li aria-hidden>/</li>
            <li>
              <button type="button" className="text-accent underline" onClick={() => go('')} aria-current={prefix === '' ? 'location' : undefined}>
                {bucket}
              </button>
            </li>
            {crumbs.map((c) => (
              <li key={c.prefix} className="flex items-center gap-1">
                <span aria-hidden>/</span>
                <button type="button" className="text-accent underline" onClick={() => go(c.prefix)} aria-current={c.prefix === prefix ? 'location' : undefined}>
                  {c.name}
                </button>
              </li>
            ))}
          </ol>
        </nav>
      </header>

      <div className="flex flex-wrap items-end gap-2">
        <div className="w-64">
          <Field label={t('browser.filter')} type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
        </div>
        {writable && (
          <>
            <Button variant="primary" onClick={() => fileInput.current?.click()}>
              {t('browser.upload')}
            </Button>
            <Button onClick={() => folderInput.current?.click()}>{t('browser.uploadFolder')}</Button>
            <Button onClick={() => setDialog('folder')}>{t('browser.newFolder')}</Button>
          </>
        )}
        <Button onClick={() => folderSize.mutate(prefix)} disabled={folderSize.isPending}>
          {t('browser.folderSize')}
        </Button>
        {folderSize.data && (
          <span className="text-sm" role="status" data-testid="folder-size">
            {t('browser.folderSizeValue', { size: formatBytes(folderSize.data.bytes), count: folderSize.data.count })}
          </span>
        )}
        {selectedRows.length > 0 && (
          <>
            <span className="text-sm text-muted" aria-live="polite">
              {t('browser.selected', { count: selectedRows.length })}
            </span>
            <a className="rounded-md border border-line px-3 py-1.5 text-sm hover:bg-hover" href={zipUrl()} download>
              {t('browser.zip')}
            </a>
            {writable && <Button onClick={() => setDialog('copy')}>{t('browser.copy')}</Button>}
            {writable && single && <Button onClick={() => setDialog('share')}>{t('browser.share')}</Button>}
            {writable && (
              <Button variant="danger" onClick={() => setDialog('delete')}>
                {t('browser.delete')}
              </Button>
            )}
          </>
        )}
        <input ref={fileInput} type="file" multiple hidden aria-label={t('browser.upload')} data-testid="file-input" onChange={(e) => { onPick(e.target.files); e.target.value = ''; }} />
        <input
          ref={folderInput}
          type="file"
          hidden
          aria-label={t('browser.uploadFolder')}
          data-testid="folder-input"
          {...{ webkitdirectory: '', directory: '' }}
          onChange={(e) => { onPick(e.target.files); e.target.value = ''; }}
        />
      </div>

      <ErrorMessage error={listing.error ?? actionError ?? folderSize.error} />

      <div className="flex min-h-0 flex-1 gap-3">
        <div className={`flex min-h-0 min-w-0 flex-1 flex-col rounded-lg border bg-panel ${dragging ? 'border-accent' : 'border-line'}`}>
          <div className="grid grid-cols-[2rem_1fr_7rem_11rem] items-center gap-2 border-b border-line px-2 py-1.5 text-sm">
            <input type="checkbox" aria-label={t('browser.selectAll')} checked={allSelected} onChange={() => setSelected(allSelected ? new Set() : new Set(rows.map((r) => r.key)))} />
            {header('name', t('common.name'), '')}
            {header('size', t('common.size'), '')}
            {header('modified', t('common.modified'), '')}
          </div>
          <div ref={scroller} className="min-h-0 flex-1 overflow-auto" data-testid="object-list" role="list" aria-label={bucket}>
            <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
              {virtual.getVirtualItems().map((v) => {
                const row = rows[v.index]!;
                return (
                  <div
                    key={row.key}
                    role="listitem"
                    data-key={row.key}
                    className={`absolute left-0 right-0 grid grid-cols-[2rem_1fr_7rem_11rem] items-center gap-2 border-b border-line px-2 text-sm ${selected.has(row.key) ? 'bg-hover' : ''}`}
                    style={{ top: v.start, height: ROW_HEIGHT }}
                  >
                    <input
                      type="checkbox"
                      aria-label={t('browser.select', { name: row.name })}
                      checked={selected.has(row.key)}
                      onClick={(e) => toggle(v.index, e.shiftKey)}
                      readOnly
                    />
                    <button
                      type="button"
                      className="truncate text-left hover:underline"
                      onClick={() => (row.folder ? go(row.key) : setOpen(row))}
                      title={row.key}
                    >
                      {row.folder ? (
                        <>
                          <FolderIcon className="mr-1.5 text-accent" />
                          {`${row.name}/`}
                        </>
                      ) : (
                        row.name
                      )}
                    </button>
                    <span className="text-muted">{row.folder ? '' : formatBytes(row.size)}</span>
                    <span className="text-muted">{row.folder ? '' : formatDate(row.modified)}</span>
                  </div>
                );
              })}
            </div>
            {complete && rows.length === 0 && <p className="p-4 text-sm text-muted">{t('browser.empty')}</p>}
          </div>
          <p className="border-t border-line px-2 py-1 text-xs text-muted" role="status" data-testid="list-status" data-count={all.length} data-complete={complete ? 'true' : 'false'} data-ms={elapsed} data-first-ms={firstRows} data-first-at={firstAt}>
            {complete
              ? `${t('browser.count', { count: rows.length })}${elapsed !== undefined ? ` · ${t('browser.rendered', { count: all.length, ms: elapsed })}` : ''}`
              : t('browser.loadingMore', { count: all.length })}
          </p>
        </div>
        {open && <ObjectPanel bid={bid} bucket={bucket} objectKey={open.key} contentType={open.contentType} onClose={() => setOpen(undefined)} writable={writable} onShare={() => { setSelected(new Set([open.key])); setDialog('share'); }} />}
      </div>

      {dragging && (
        <p className="pointer-events-none fixed inset-x-0 bottom-8 mx-auto w-fit rounded bg-accent px-4 py-2 text-accent-fg">{t('browser.dropHere')}</p>
      )}

      <FormDialog open={dialog === 'folder'} onClose={() => setDialog(undefined)} title={t('browser.newFolder')} onSubmit={() => void createFolder()} error={actionError}>
        <Field label={t('browser.folderName')} required value={folderName} onChange={(e) => setFolderName(e.target.value)} autoFocus />
      </FormDialog>
      <ConfirmDialog
        open={dialog === 'delete'}
        onClose={() => setDialog(undefined)}
        title={t('browser.delete')}
        description={t('browser.deleteConfirm', { count: selectedRows.length })}
        onConfirm={() => void deleteSelected()}
        error={actionError}
      />
      {dialog === 'copy' && <CopyDialog bid={bid} bucket={bucket} prefix={prefix} rows={selectedRows} onClose={() => { setDialog(undefined); refresh(); }} />}
      {dialog === 'share' && selectedRows[0] && <ShareDialog bid={bid} bucket={bucket} objectKey={selectedRows[0].key} onClose={() => setDialog(undefined)} />}
    </section>
  );
}

/** Files under a dropped entry, with their paths relative to the drop. */
async function walk(entry: FileSystemEntry, base: string, out: { file: File; key: string }[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ file, key: base + entry.name });
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    await Promise.all(batch.map((child) => walk(child, `${base}${entry.name}/`, out)));
  }
}
