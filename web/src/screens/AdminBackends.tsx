import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../api/client';
import { Button, Check, DataTable, ErrorMessage, Field, FormDialog, Loading, Page } from '../components/ui';
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
  const set = (k: keyof typeof EMPTY) => (e: React.ChangeEvent<HTMLInputElement>) => setForm({ ...form, [k]: e.target.type === 'checkbox' ? e.target.checked : e.target.value });

  return (
    <Page title={t('adminBackends.title')} actions={<Button variant="primary" onClick={() => setCreating(true)}>{t('adminBackends.create')}</Button>}>
      <ErrorMessage error={list.error ?? remove.error ?? toggle.error} />
      {list.isPending && <Loading />}
      {list.data && (
        <DataTable
          rows={list.data.backends}
          rowKey={(b) => b.id}
          columns={[
            { header: t('adminBackends.id'), cell: (b) => <>{b.name} <span className="text-xs text-muted">{b.id}</span></> },
            { header: t('adminBackends.endpoint'), cell: (b) => b.endpoint, className: 'break-all' },
            { header: t('adminBackends.source'), cell: (b) => b.source },
            {
              header: t('backends.healthy'),
              cell: (b) => <>{b.healthy ? t('backends.healthy') : t('backends.unhealthy')} <span className="text-xs text-muted">{formatDate(b.last_probe_at)}</span></>,
            },
            {
              header: t('common.actions'),
              className: 'flex gap-1',
              cell: (b) =>
                b.source === 'db' && (
                  <>
                    <Button onClick={() => toggle.mutate({ bid: b.id, enabled: !b.enabled })}>{b.enabled ? t('users.disable') : t('users.enable')}</Button>
                    <Button variant="danger" onClick={() => confirm(t('common.confirmDelete', { name: b.id })) && remove.mutate(b.id)}>
                      {t('common.delete')}
                    </Button>
                  </>
                ),
            },
          ]}
        />
      )}
      <FormDialog
        open={creating}
        onClose={() => setCreating(false)}
        title={t('adminBackends.create')}
        onSubmit={() => create.mutate()}
        pending={create.isPending}
        error={test.error ?? create.error}
        extra={
          <Button onClick={() => test.mutate()} disabled={test.isPending}>
            {t('adminBackends.test')}
          </Button>
        }
      >
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
      </FormDialog>
    </Page>
  );
}
