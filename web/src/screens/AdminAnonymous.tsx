import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, unwrap } from '../api/client';
import { Button, ErrorMessage, Field, Loading, Modal, Page, Select, tableClass } from '../components/ui';
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
  const submit = (e: FormEvent) => {
    e.preventDefault();
    upsert.mutate();
  };

  return (
    <Page title={t('anon.title')} actions={<Button variant="primary" onClick={() => setEditing(true)}>{t('anon.create')}</Button>}>
      <p className="max-w-2xl text-sm text-muted">{t('anon.intro')}</p>
      <ErrorMessage error={bindings.error ?? remove.error} />
      {bindings.isPending && <Loading />}
      {bindings.data?.bindings.length === 0 && <p className="text-muted">{t('anon.empty')}</p>}
      {!!bindings.data?.bindings.length && (
        <table className={tableClass} data-testid="anonymous-bindings">
          <thead>
            <tr>
              <th scope="col">{t('audit.bucket')}</th>
              <th scope="col">{t('anon.mode')}</th>
              <th scope="col">{t('anon.rps')}</th>
              <th scope="col">{t('anon.since')}</th>
              <th scope="col">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {bindings.data.bindings.map((b) => (
              <tr key={`${b.backend_id}/${b.bucket}`} data-binding={`${b.backend_id}/${b.bucket}`}>
                <td>
                  {b.backend_id}/{b.bucket}
                </td>
                <td>{b.mode}</td>
                <td>{b.per_source_ip_rps === 0 ? t('anon.rpsDefault') : b.per_source_ip_rps}</td>
                <td>{formatDate(b.created_at)}</td>
                <td className="flex gap-2">
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
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Modal open={editing} onOpenChange={setEditing} title={t('anon.create')}>
        <form onSubmit={submit} className="flex flex-col gap-3">
          <Select label={t('creds.backend')} value={backendId} onChange={(backend) => setForm({ ...form, backend })} options={(backends.data?.backends ?? []).map((b) => ({ value: b.id, label: b.name }))} />
          <Field label={t('buckets.name')} required value={form.bucket} onChange={(e) => setForm({ ...form, bucket: e.target.value })} />
          <Field label={t('anon.rps')} hint={t('anon.rpsHint')} type="number" min={0} max={100000} value={form.rps} onChange={(e) => setForm({ ...form, rps: e.target.value })} />
          <ErrorMessage error={upsert.error} />
          <div className="flex justify-end gap-2">
            <Button onClick={() => setEditing(false)}>{t('common.cancel')}</Button>
            <Button type="submit" variant="primary" disabled={upsert.isPending}>
              {t('common.save')}
            </Button>
          </div>
        </form>
      </Modal>
    </Page>
  );
}
