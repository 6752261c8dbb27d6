import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../api/client';
import { Button, DataTable, ErrorMessage, Field, FormDialog, Loading, Page, Select } from '../components/ui';
import { t } from '../i18n';
import { formatDate } from '../lib/format';

/** Buckets open to anonymous reads through the S3 proxy: open one (or change its rate), close one. */
export default function AdminAnonymous() {
  const queryClient = useQueryClient();
  const bindings = useQuery({ queryKey: ['anonymous'], queryFn: () => unwrap(api.GET('/api/admin/s3-anonymous')) });
  const backends = useQuery({ queryKey: ['backends'], queryFn: () => unwrap(api.GET('/api/backends')) });
  const [editing, setEditing] = useState(false);
  const [form, setForm] = useState({ backend: '', bucket: '', rps: '' });
  const backendId = form.backend || backends.data?.backends[0]?.id || '';
  const invalidate = () => void queryClient.invalidateQueries({ queryKey: ['anonymous'] });

  const upsert = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/admin/s3-anonymous', {
          body: { backend_id: backendId, bucket: form.bucket.trim(), mode: 'ReadOnly', ...(form.rps !== '' ? { per_source_ip_rps: Number(form.rps) } : {}) },
        }),
      ),
    onSuccess: () => {
      setEditing(false);
      setForm({ backend: '', bucket: '', rps: '' });
      invalidate();
    },
  });
  const remove = useMutation({
    mutationFn: ({ bid, bucket }: { bid: string; bucket: string }) => unwrap(api.DELETE('/api/admin/s3-anonymous/{bid}/{bucket}', { params: { path: { bid, bucket } } })),
    onSuccess: invalidate,
  });

  return (
    <Page title={t('anon.title')} actions={<Button variant="primary" onClick={() => setEditing(true)}>{t('anon.create')}</Button>}>
      <p className="max-w-2xl text-sm text-muted">{t('anon.intro')}</p>
      <ErrorMessage error={bindings.error ?? remove.error} />
      {bindings.isPending && <Loading />}
      {bindings.data?.bindings.length === 0 && <p className="text-muted">{t('anon.empty')}</p>}
      {!!bindings.data?.bindings.length && (
        <DataTable
          testId="anonymous-bindings"
          rows={bindings.data.bindings}
          rowKey={(b) => `${b.backend_id}/${b.bucket}`}
          rowProps={(b) => ({ 'data-binding': `${b.backend_id}/${b.bucket}` })}
          columns={[
            { header: t('audit.bucket'), cell: (b) => `${b.backend_id}/${b.bucket}` },
            { header: t('anon.mode'), cell: (b) => b.mode },
            { header: t('anon.rps'), cell: (b) => (b.per_source_ip_rps === 0 ? t('anon.rpsDefault') : b.per_source_ip_rps) },
            { header: t('anon.since'), cell: (b) => formatDate(b.created_at) },
            {
              header: t('common.actions'),
              className: 'flex gap-2',
              cell: (b) => (
                <>
                  <Button
                    onClick={() => {
                      setForm({ backend: b.backend_id, bucket: b.bucket, rps: String(b.per_source_ip_rps) });
                      setEditing(true);
                    }}
                  >
                    {t('anon.edit')}
                  </Button>
                  <Button variant="danger" onClick={() => confirm(t('anon.confirmClose', { name: `${b.backend_id}/${b.bucket}` })) && remove.mutate({ bid: b.backend_id, bucket: b.bucket })}>
                    {t('anon.close')}
                  </Button>
                </>
              ),
            },
          ]}
        />
      )}
      <FormDialog open={editing} onClose={() => setEditing(false)} title={t('anon.create')} onSubmit={() => upsert.mutate()} submitLabel={t('common.save')} pending={upsert.isPending} error={upsert.error}>
        <Select label={t('creds.backend')} value={backendId} onChange={(backend) => setForm({ ...form, backend })} options={(backends.data?.backends ?? []).map((b) => ({ value: b.id, label: b.name }))} />
        <Field label={t('buckets.name')} required value={form.bucket} onChange={(e) => setForm({ ...form, bucket: e.target.value })} />
        <Field label={t('anon.rps')} hint={t('anon.rpsHint')} type="number" min={0} max={100000} value={form.rps} onChange={(e) => setForm({ ...form, rps: e.target.value })} />
      </FormDialog>
    </Page>
  );
}
