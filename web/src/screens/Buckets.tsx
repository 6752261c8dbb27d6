import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from '@tanstack/react-router';
import { useMemo, useState } from 'react';
import { api, unwrap } from '../api/client';
import { BucketSize, QuotaMeter, SettingsLink } from '../components/BucketCells';
import { Button, ConfirmDialog, DataTable, ErrorMessage, Field, FormDialog, Loading, Page } from '../components/ui';
import { t } from '../i18n';
import { formatDate } from '../lib/format';
import { isAdmin, useMe } from '../lib/session';

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
        <DataTable
          rows={rows}
          rowKey={(b) => b.name}
          columns={[
            {
              header: t('common.name'),
              cell: (b) => (
                <>
                  <Link to="/b/$bid/$bucket" params={{ bid, bucket: b.name }} className="text-accent underline">
                    {b.name}
                  </Link>
                  {pinned.has(b.name) && <span className="ml-2 text-xs text-muted">{t('buckets.pinned')}</span>}
                </>
              ),
            },
            { header: t('common.size'), cell: (b) => <BucketSize bucket={b} /> },
            { header: t('buckets.quota'), cell: (b) => <div data-testid={`quota-${b.name}`}><QuotaMeter bucket={b} /></div> },
            { header: t('common.modified'), cell: (b) => formatDate(b.created_at) },
            {
              header: t('common.actions'),
              className: 'flex gap-2',
              cell: (b) => (
                <>
                  <Button
                    variant="ghost"
                    aria-pressed={pinned.has(b.name)}
                    aria-label={t(pinned.has(b.name) ? 'buckets.unpin' : 'buckets.pin', { name: b.name })}
                    onClick={() => pin.mutate({ bucket: b.name, on: !pinned.has(b.name) })}
                  >
                    {pinned.has(b.name) ? '★' : '☆'}
                  </Button>
                  {isAdmin(me.data) && <SettingsLink bid={bid} bucket={b.name} />}
                  {isAdmin(me.data) && (
                    <Button variant="danger" onClick={() => setDeleting(b.name)} aria-label={`${t('common.delete')} ${b.name}`}>
                      {t('common.delete')}
                    </Button>
                  )}
                </>
              ),
            },
          ]}
        />
      )}
      <FormDialog open={creating} onClose={() => setCreating(false)} title={t('buckets.create')} onSubmit={() => create.mutate(name)} pending={create.isPending} error={create.error}>
        <Field label={t('buckets.name')} required value={name} onChange={(e) => setName(e.target.value)} autoFocus pattern="[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]" />
      </FormDialog>
      <ConfirmDialog
        open={deleting !== undefined}
        onClose={() => setDeleting(undefined)}
        title={t('common.delete')}
        description={t('common.confirmDelete', { name: deleting ?? '' })}
        onConfirm={() => deleting && remove.mutate(deleting)}
        error={remove.error}
      />
    </Page>
  );
}
