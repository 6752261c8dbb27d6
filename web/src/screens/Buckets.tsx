import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from '@tanstack/react-router';
import { type FormEvent, useMemo, useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { Button, ErrorMessage, Field, Loading, Meter, Modal, Page, tableClass } from '../components/ui';
import { t } from '../i18n';
import { formatBytes, formatDate } from '../lib/format';
import { canWrite, isAdmin, useMe } from '../lib/session';

/** The bucket's usage against its hard cap (or its soft cap alone), when it has a quota. */
function QuotaMeter({ bucket }: { bucket: Schemas['BucketDto'] }) {
  const quota = bucket.quota;
  if (!quota) return <span className="text-muted">—</span>;
  const used = bucket.size_bytes ?? 0;
  const cap = quota.hard_bytes ?? quota.soft_bytes;
  return (
    <div className="flex min-w-32 flex-col gap-1">
      <span className={`text-xs ${quota.hard_exceeded || quota.soft_exceeded ? 'font-medium text-danger' : 'text-muted'}`}>
        {quota.hard_bytes !== undefined
          ? t('buckets.quotaOf', { used: formatBytes(used), hard: formatBytes(quota.hard_bytes) })
          : t('buckets.softOnly', { soft: formatBytes(quota.soft_bytes) })}
      </span>
      {cap !== undefined && <Meter value={used} max={cap} label={t('buckets.quota')} />}
    </div>
  );
}

export default function Buckets() {
  const { bid } = useParams({ from: '/b/$bid' });
  const me = useMe();
  const queryClient = useQueryClient();
  const [filter, setFilter] = useState('');
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  const [deleting, setDeleting] = useState<string>();

  const buckets = useQuery({
    queryKey: ['buckets', bid],
    queryFn: () => unwrap(api.GET('/api/backends/{bid}/buckets', { params: { path: { bid } } })),
  });
  const pins = useQuery({ queryKey: ['pins'], queryFn: () => unwrap(api.GET('/api/me/pins')) });
  const pinned = useMemo(() => new Set(pins.data?.pins.filter((p) => p.backend_id === bid).map((p) => p.bucket)), [pins.data, bid]);

  const create = useMutation({
    mutationFn: (bucket: string) => unwrap(api.POST('/api/backends/{bid}/buckets', { params: { path: { bid } }, body: { name: bucket } })),
    onSuccess: () => {
      setCreating(false);
      setName('');
      void queryClient.invalidateQueries({ queryKey: ['buckets', bid] });
    },
  });
  const remove = useMutation({
    mutationFn: (bucket: string) => unwrap(api.DELETE('/api/backends/{bid}/buckets/{bucket}', { params: { path: { bid, bucket } } })),
    onSuccess: () => {
      setDeleting(undefined);
      void queryClient.invalidateQueries({ queryKey: ['buckets', bid] });
    },
  });
  const pin = useMutation({
    mutationFn: async ({ bucket, on }: { bucket: string; on: boolean }) =>
      on
        ? unwrap(api.POST('/api/me/pins', { body: { backend_id: bid, bucket } }))
        : unwrap(api.DELETE('/api/me/pins/{bid}/{bucket}', { params: { path: { bid, bucket } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['pins'] }),
  });

  const rows = (buckets.data?.buckets ?? [])
    .filter((b) => b.name.includes(filter))
    .sort((a, b) => Number(pinned.has(b.name)) - Number(pinned.has(a.name)) || a.name.localeCompare(b.name));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate(name);
  };

  return (
    <Page
      title={t('buckets.title', { backend: bid })}
      actions={isAdmin(me.data) && <Button variant="primary" onClick={() => setCreating(true)}>{t('buckets.create')}</Button>}
    >
      <div className="max-w-xs">
        <Field label={t('buckets.filter')} type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
      </div>
      <ErrorMessage error={buckets.error ?? pin.error ?? remove.error} />
      {buckets.isPending && <Loading />}
      {buckets.data && rows.length === 0 && <p className="text-muted">{t('buckets.empty')}</p>}
      {rows.length > 0 && (
        <table className={tableClass}>
          <thead>
            <tr>
              <th scope="col">{t('common.name')}</th>
              <th scope="col">{t('common.size')}</th>
              <th scope="col">{t('buckets.quota')}</th>
              <th scope="col">{t('common.modified')}</th>
              <th scope="col">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((b) => (
              <tr key={b.name}>
                <td>
                  <Link to="/b/$bid/$bucket" params={{ bid, bucket: b.name }} className="text-accent underline">
                    {b.name}
                  </Link>
                  {pinned.has(b.name) && <span className="ml-2 text-xs text-muted">{t('buckets.pinned')}</span>}
                </td>
                <td>
                  {b.size_tracked ? formatBytes(b.size_bytes) : '—'}
                  {b.object_count !== undefined && <span className="ml-1 text-xs text-muted">{t('buckets.objects', { count: b.object_count })}</span>}
                </td>
                <td data-testid={`quota-${b.name}`}>
                  <QuotaMeter bucket={b} />
                </td>
                <td>{formatDate(b.created_at)}</td>
                <td className="flex gap-2">
                  {canWrite(me.data) || me.data ? (
                    <Button
                      variant="ghost"
                      aria-pressed={pinned.has(b.name)}
                      aria-label={t(pinned.has(b.name) ? 'buckets.unpin' : 'buckets.pin', { name: b.name })}
                      onClick={() => pin.mutate({ bucket: b.name, on: !pinned.has(b.name) })}
                    >
                      {pinned.has(b.name) ? '★' : '☆'}
                    </Button>
                  ) : null}
                  {isAdmin(me.data) && (
                    <Link to="/b/$bid/$bucket/settings" params={{ bid, bucket: b.name }} className="rounded-md border border-line px-3 py-1.5 text-sm hover:bg-hover">
                      {t('settings.open')}
                    </Link>
                  )}
                  {isAdmin(me.data) && (
                    <Button variant="danger" onClick={() => setDeleting(b.name)} aria-label={`${t('common.delete')} ${b.name}`}>
                      {t('common.delete')}
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Modal open={creating} onOpenChange={setCreating} title={t('buckets.create')}>
        <form onSubmit={submit} className="flex flex-col gap-3">
          <Field label={t('buckets.name')} required value={name} onChange={(e) => setName(e.target.value)} autoFocus pattern="[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]" />
          <ErrorMessage error={create.error} />
          <div className="flex justify-end gap-2">
            <Button onClick={() => setCreating(false)}>{t('common.cancel')}</Button>
            <Button type="submit" variant="primary" disabled={create.isPending}>
              {t('common.create')}
            </Button>
          </div>
        </form>
      </Modal>
      <Modal open={deleting !== undefined} onOpenChange={() => setDeleting(undefined)} title={t('common.delete')} description={t('common.confirmDelete', { name: deleting ?? '' })}>
        <ErrorMessage error={remove.error} />
        <div className="flex justify-end gap-2">
          <Button onClick={() => setDeleting(undefined)}>{t('common.cancel')}</Button>
          <Button variant="danger" onClick={() => deleting && remove.mutate(deleting)}>
            {t('common.delete')}
          </Button>
        </div>
      </Modal>
    </Page>
  );
}
