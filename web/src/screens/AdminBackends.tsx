import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, unwrap } from '../api/client';
import { Button, Check, ErrorMessage, Field, Loading, Modal, Page, tableClass } from '../components/ui';
import { t } from '../i18n';
import { formatDate } from '../lib/format';

const EMPTY = { id: '', name: '', endpoint: '', region: 'us-east-1', access_key: '', secret_key: '', path_style: true };

export default function AdminBackends() {
  const queryClient = useQueryClient();
  const list = useQuery({ queryKey: ['admin-backends'], queryFn: () => unwrap(api.GET('/api/admin/backends')) });
  const [creating, setCreating] = useState(false);
  const [form, setForm] = useState(EMPTY);
  const invalidate = () => {
    void queryClient.invalidateQueries({ queryKey: ['admin-backends'] });
    void queryClient.invalidateQueries({ queryKey: ['backends'] });
  };
  const test = useMutation({
    mutationFn: () => unwrap(api.POST('/api/admin/backends/test', { body: { endpoint: form.endpoint, region: form.region, access_key: form.access_key, secret_key: form.secret_key, path_style: form.path_style } })),
  });
  const create = useMutation({
    mutationFn: () => unwrap(api.POST('/api/admin/backends', { body: { ...form, name: form.name || undefined, enabled: true } })),
    onSuccess: () => {
      setCreating(false);
      setForm(EMPTY);
      test.reset();
      invalidate();
    },
  });
  const remove = useMutation({
    mutationFn: (bid: string) => unwrap(api.DELETE('/api/admin/backends/{bid}', { params: { path: { bid } } })),
    onSuccess: invalidate,
  });
  const toggle = useMutation({
    mutationFn: ({ bid, enabled }: { bid: string; enabled: boolean }) => unwrap(api.PATCH('/api/admin/backends/{bid}', { params: { path: { bid } }, body: { enabled } })),
    onSuccess: invalidate,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const set = (k: keyof typeof EMPTY) => (e: React.ChangeEvent<HTMLInputElement>) => setForm({ ...form, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });

  return (
    <Page title={t('adminBackends.title')} actions={<Button variant="primary" onClick={() => setCreating(true)}>{t('adminBackends.create')}</Button>}>
      <ErrorMessage error={list.error ?? remove.error ?? toggle.error} />
      {list.isPending && <Loading />}
      {list.data && (
        <table className={tableClass}>
          <thead>
            <tr>
              <th scope="col">{t('adminBackends.id')}</th>
              <th scope="col">{t('adminBackends.endpoint')}</th>
              <th scope="col">{t('adminBackends.source')}</th>
              <th scope="col">{t('backends.healthy')}</th>
              <th scope="col">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {list.data.backends.map((b) => (
              <tr key={b.id}>
                <td>
                  {b.name} <span className="text-xs text-muted">{b.id}</span>
                </td>
                <td className="break-all">{b.endpoint}</td>
                <td>{b.source}</td>
                <td>
                  {b.healthy ? t('backends.healthy') : t('backends.unhealthy')} <span className="text-xs text-muted">{formatDate(b.last_probe_at)}</span>
                </td>
                <td className="flex gap-1">
                  {b.source === 'db' && (
                    <>
                      <Button onClick={() => toggle.mutate({ bid: b.id, enabled: !b.enabled })}>{b.enabled ? t('users.disable') : t('users.enable')}</Button>
                      <Button variant="danger" onClick={() => confirm(t('common.confirmDelete', { name: b.id })) && remove.mutate(b.id)}>
                        {t('common.delete')}
                      </Button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Modal open={creating} onOpenChange={setCreating} title={t('adminBackends.create')}>
        <form onSubmit={submit} className="flex flex-col gap-3">
          <Field label={t('adminBackends.id')} required value={form.id} onChange={set('id')} />
          <Field label={t('common.name')} value={form.name} onChange={set('name')} />
          <Field label={t('adminBackends.endpoint')} type="url" required value={form.endpoint} onChange={set('endpoint')} />
          <Field label={t('adminBackends.region')} value={form.region} onChange={set('region')} />
          <Field label={t('adminBackends.accessKey')} required value={form.access_key} onChange={set('access_key')} />
          <Field label={t('adminBackends.secretKey')} type="password" autoComplete="off" required value={form.secret_key} onChange={set('secret_key')} />
          <Check label={t('adminBackends.pathStyle')} checked={form.path_style} onChange={set('path_style')} />
          {test.data && (
            <p role="status" className={`text-sm ${test.data.healthy ? 'text-ok' : 'text-danger'}`}>
              {test.data.healthy ? t('adminBackends.testOk', { ms: test.data.latency_ms }) : t('adminBackends.testFailed', { error: test.data.error ?? '' })}
            </p>
          )}
          <ErrorMessage error={test.error ?? create.error} />
          <div className="flex justify-end gap-2">
            <Button onClick={() => test.mutate()} disabled={test.isPending}>
              {t('adminBackends.test')}
            </Button>
            <Button type="submit" variant="primary">{t('common.create')}</Button>
          </div>
        </form>
      </Modal>
    </Page>
  );
}
