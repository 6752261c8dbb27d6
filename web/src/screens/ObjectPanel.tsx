import * as Tabs from '@radix-ui/react-tabs';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, ApiError, errorFrom, objectUrl, unwrap } from '../api/client';
import { Button, ErrorMessage, Loading } from '../components/ui';
import { t } from '../i18n';
import { baseName, formatBytes, formatDate, previewKind } from '../lib/format';

const TEXT_PREVIEW_BYTES = 256 * 1024;

interface Props {
  bid: string;
  bucket: string;
  objectKey: string;
  contentType?: string;
  writable: boolean;
  onClose: () => void;
  onShare: () => void;
}

export function ObjectPanel({ bid, bucket, objectKey, contentType, writable, onClose, onShare }: Props) {
  const path = { bid, bucket };
  const info = useQuery({
    queryKey: ['object-info', bid, bucket, objectKey],
    queryFn: () => unwrap(api.GET('/api/backends/{bid}/buckets/{bucket}/object/info', { params: { path, query: { key: objectKey } } })),
  });
  const type = info.data?.content_type ?? contentType ?? '';
  return (
    <aside aria-label={baseName(objectKey)} className="flex w-[28rem] shrink-0 flex-col gap-2 overflow-auto rounded-lg border border-line bg-panel p-3">
      <div className="flex items-start justify-between gap-2">
        <h2 className="break-all text-base font-semibold">{baseName(objectKey)}</h2>
        <Button variant="ghost" onClick={onClose} aria-label={t('common.close')}>
          ✕
        </Button>
      </div>
      <div className="flex flex-wrap gap-2">
        <a className="rounded-md border border-line px-3 py-1.5 text-sm hover:bg-hover" href={objectUrl(bid, bucket, objectKey)} download>
          {t('browser.download')}
        </a>
        {writable && <Button onClick={onShare}>{t('browser.share')}</Button>}
      </div>
      <Tabs.Root defaultValue="preview" className="flex flex-col gap-2">
        <Tabs.List className="flex gap-1 border-b border-line" aria-label={t('browser.info')}>
          {(['preview', 'info', 'tags', 'metadata', 'versions'] as const).map((tab) => (
            <Tabs.Trigger key={tab} value={tab} className="px-2 py-1 text-sm data-[state=active]:border-b-2 data-[state=active]:border-accent data-[state=active]:font-semibold">
              {t(`object.${tab}`)}
            </Tabs.Trigger>
          ))}
        </Tabs.List>
        <Tabs.Content value="preview">
          <Preview bid={bid} bucket={bucket} objectKey={objectKey} type={type} />
        </Tabs.Content>
        <Tabs.Content value="info">
          <ErrorMessage error={info.error} />
          {info.data && (
            <dl className="grid grid-cols-[8rem_1fr] gap-1 text-sm">
              <dt className="text-muted">{t('object.key')}</dt>
              <dd className="break-all">{info.data.key}</dd>
              <dt className="text-muted">{t('common.size')}</dt>
              <dd>{formatBytes(info.data.size)}</dd>
              <dt className="text-muted">{t('common.modified')}</dt>
              <dd>{formatDate(info.data.last_modified)}</dd>
              <dt className="text-muted">{t('object.contentType')}</dt>
              <dd>{info.data.content_type ?? '—'}</dd>
              <dt className="text-muted">{t('object.etag')}</dt>
              <dd className="break-all">{info.data.etag ?? '—'}</dd>
              <dt className="text-muted">{t('object.storageClass')}</dt>
              <dd>{info.data.storage_class ?? '—'}</dd>
              {info.data.version_id && (
                <>
                  <dt className="text-muted">{t('object.versionId')}</dt>
                  <dd className="break-all">{info.data.version_id}</dd>
                </>
              )}
            </dl>
          )}
        </Tabs.Content>
        <Tabs.Content value="tags">
          <Pairs
            load={async () => (await unwrap(api.GET('/api/backends/{bid}/buckets/{bucket}/object/tags', { params: { path, query: { key: objectKey } } }))).tags}
            save={(tags) => unwrap(api.PUT('/api/backends/{bid}/buckets/{bucket}/object/tags', { params: { path, query: { key: objectKey } }, body: { tags } }))}
            queryKey={['tags', bid, bucket, objectKey]}
            writable={writable}
          />
        </Tabs.Content>
        <Tabs.Content value="metadata">
          {info.data && (
            <Pairs
              load={async () => info.data?.metadata ?? {}}
              save={(metadata) => unwrap(api.PUT('/api/backends/{bid}/buckets/{bucket}/object/metadata', { params: { path, query: { key: objectKey } }, body: { metadata } }))}
              queryKey={['metadata', bid, bucket, objectKey, info.data.etag]}
              writable={writable}
            />
          )}
        </Tabs.Content>
        <Tabs.Content value="versions">
          <Versions bid={bid} bucket={bucket} objectKey={objectKey} />
        </Tabs.Content>
      </Tabs.Root>
    </aside>
  );
}

function Preview({ bid, bucket, objectKey, type }: { bid: string; bucket: string; objectKey: string; type: string }) {
  const kind = previewKind(objectKey, type);
  const inline = objectUrl(bid, bucket, objectKey, { inline: true });
  const [text, setText] = useState<{ body: string; truncated: boolean }>();
  const [pdf, setPdf] = useState<string>();
  const [error, setError] = useState<ApiError>();

  useEffect(() => {
    setText(undefined);
    setError(undefined);
    if (kind !== 'text' && kind !== 'pdf') return;
    const controller = new AbortController();
    let url: string | undefined;
    const headers: Record<string, string> = kind === 'text' ? { range: `bytes=0-${TEXT_PREVIEW_BYTES - 1}` } : {};
    fetch(objectUrl(bid, bucket, objectKey), { headers, signal: controller.signal })
      .then(async (res) => {
        if (!res.ok) throw await errorFrom(res);
        if (kind === 'text') {
          const body = await res.text();
          setText({ body, truncated: res.status === 206 && body.length >= TEXT_PREVIEW_BYTES - 4 });
        } else {
          // Always as a PDF, whatever the object claims to be: the frame shows the PDF viewer, never a page.
          url = URL.createObjectURL(new Blob([await res.arrayBuffer()], { type: 'application/pdf' }));
          setPdf(url);
        }
      })
      .catch((err: unknown) => err instanceof ApiError && setError(err));
    return () => {
      controller.abort();
      if (url) URL.revokeObjectURL(url);
    };
  }, [bid, bucket, objectKey, kind]);

  if (error) return <ErrorMessage error={error} />;
  switch (kind) {
    case 'image':
      return <img src={inline} alt={baseName(objectKey)} className="max-h-96 max-w-full" data-testid="preview-image" />;
    case 'audio':
      return <audio src={inline} controls preload="metadata" className="w-full" aria-label={baseName(objectKey)} data-testid="preview-audio" />;
    case 'video':
      return <video src={inline} controls preload="metadata" className="max-h-96 w-full" aria-label={baseName(objectKey)} data-testid="preview-video" />;
    case 'pdf':
      return pdf ? <iframe src={pdf} title={baseName(objectKey)} className="h-96 w-full" data-testid="preview-pdf" /> : <Loading />;
    case 'text':
      return text ? (
        <>
          <pre className="max-h-96 overflow-auto whitespace-pre-wrap break-all rounded bg-bg p-2 text-xs" data-testid="preview-text">
            {text.body}
          </pre>
          {text.truncated && <p className="text-xs text-muted">{t('object.previewTruncated', { size: formatBytes(TEXT_PREVIEW_BYTES) })}</p>}
        </>
      ) : (
        <Loading />
      );
    default:
      return <p className="text-sm text-muted">{t('object.noPreview')}</p>;
  }
}

function Pairs({
  load,
  save,
  queryKey,
  writable,
}: {
  load: () => Promise<Record<string, string>>;
  save: (pairs: Record<string, string>) => Promise<unknown>;
  queryKey: unknown[];
  writable: boolean;
}) {
  const data = useQuery({ queryKey, queryFn: load });
  const [rows, setRows] = useState<[string, string][]>([]);
  useEffect(() => setRows(Object.entries(data.data ?? {})), [data.data]);
  const mutation = useMutation({ mutationFn: () => save(Object.fromEntries(rows.filter(([k]) => k.trim()))) });
  if (data.isPending) return <Loading />;
  return (
    <div className="flex flex-col gap-2 text-sm">
      <ErrorMessage error={data.error ?? mutation.error} />
      {rows.length === 0 && !writable && <p className="text-muted">{t('common.none')}</p>}
      {rows.map(([k, v], i) => (
        <div key={i} className="flex gap-1">
          <input aria-label={t('object.key')} className="w-1/2 rounded border border-line bg-panel px-1" value={k} readOnly={!writable} onChange={(e) => setRows(rows.map((r, j) => (j === i ? [e.target.value, r[1]] : r)))} />
          <input aria-label={t('object.value')} className="w-1/2 rounded border border-line bg-panel px-1" value={v} readOnly={!writable} onChange={(e) => setRows(rows.map((r, j) => (j === i ? [r[0], e.target.value] : r)))} />
          {writable && (
            <Button variant="ghost" aria-label={t('object.removeRow', { name: k })} onClick={() => setRows(rows.filter((_, j) => j !== i))}>
              ✕
            </Button>
          )}
        </div>
      ))}
      {writable && (
        <div className="flex gap-2">
          <Button onClick={() => setRows([...rows, ['', '']])}>{t('object.addRow')}</Button>
          <Button variant="primary" onClick={() => mutation.mutate()} disabled={mutation.isPending}>
            {t('common.save')}
          </Button>
          {mutation.isSuccess && <span role="status">{t('object.saved')}</span>}
        </div>
      )}
    </div>
  );
}

function Versions({ bid, bucket, objectKey }: { bid: string; bucket: string; objectKey: string }) {
  const versions = useQuery({
    queryKey: ['versions', bid, bucket, objectKey],
    queryFn: () => unwrap(api.GET('/api/backends/{bid}/buckets/{bucket}/object/versions', { params: { path: { bid, bucket }, query: { key: objectKey } } })),
  });
  if (versions.isPending) return <Loading />;
  if (versions.error) return <ErrorMessage error={versions.error} />;
  const list = versions.data.versions.filter((v) => v.version_id && v.version_id !== 'null');
  if (list.length === 0) return <p className="text-sm text-muted">{t('object.noVersions')}</p>;
  return (
    <ul className="flex flex-col gap-1 text-sm">
      {list.map((v) => (
        <li key={v.version_id} className="flex items-center justify-between gap-2 border-b border-line py-1">
          <span>
            {formatDate(v.last_modified)} · {formatBytes(v.size)} {v.is_latest && <em>({t('object.latest')})</em>} {v.is_delete_marker && <em>({t('object.deleteMarker')})</em>}
          </span>
          {!v.is_delete_marker && (
            <a className="text-accent underline" href={objectUrl(bid, bucket, objectKey, { versionId: v.version_id })} download>
              {t('object.downloadVersion')}
            </a>
          )}
        </li>
      ))}
    </ul>
  );
}
