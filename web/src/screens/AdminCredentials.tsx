import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { MintedCredential, scopeText } from '../components/MintedCredential';
import { Button, DataTable, ErrorMessage, Field, FormDialog, Loading, Page, Select } from '../components/ui';
import { t } from '../i18n';
import { formatDate } from '../lib/format';

type Credential = Schemas['S3CredentialDto'];

const defaultEndpoint = () => `${location.protocol}//${location.hostname}:8090`;

/** `local/photos, second/archive` → scopes; a name without a backend is kept whole, for the API to refuse readably. */
const parseScopes = (text: string) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const slash = s.indexOf('/');
      return slash > 0 ? { backend_id: s.slice(0, slash), bucket: s.slice(slash + 1) } : { backend_id: '', bucket: s };
    });

/** An instant as a `datetime-local` value in the browser's time zone. */
const toLocalInput = (iso: string) => {
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};

/** Every user's S3 credentials (never their secrets): mint for anyone, disable, enable, revoke. */
export default function AdminCredentials() {
  const queryClient = useQueryClient();
  const creds = useQuery({ queryKey: ['admin-credentials'], queryFn: () => unwrap(api.GET('/api/admin/s3-credentials')) });
  const users = useQuery({ queryKey: ['users'], queryFn: () => unwrap(api.GET('/api/admin/users', { params: { query: {} } })) });
  const backends = useQuery({ queryKey: ['backends'], queryFn: () => unwrap(api.GET('/api/backends')) });
  const [filter, setFilter] = useState('');
  const [creating, setCreating] = useState(false);
  const [form, setForm] = useState({ user: '', backend: '', buckets: '', description: '' });
  const [endpoint, setEndpoint] = useState(defaultEndpoint);
  const [minted, setMinted] = useState<Credential>();
  const [editing, setEditing] = useState<{ akid: string; description: string; scopes: string; expires: string }>();
  const invalidate = () => void queryClient.invalidateQueries({ queryKey: ['admin-credentials'] });
  const userName = (id?: string) => (id ? (users.data?.users.find((u) => u.id === id)?.username ?? id) : t('adminCreds.nobody'));
  const backendId = form.backend || backends.data?.backends[0]?.id || '';

  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/admin/s3-credentials', {
          body: {
            backend_id: backendId,
            buckets: form.buckets.split(',').map((b) => b.trim()).filter(Boolean),
            description: form.description,
            ...(form.user ? { user_id: form.user } : {}),
          },
        }),
      ),
    onSuccess: (cred) => {
      setMinted(cred);
      setCreating(false);
      setForm({ user: '', backend: '', buckets: '', description: '' });
      invalidate();
    },
  });
  const patch = useMutation({
    mutationFn: ({ akid, enabled }: { akid: string; enabled: boolean }) =>
      unwrap(api.PATCH('/api/admin/s3-credentials/{akid}', { params: { path: { akid } }, body: { enabled } })),
    onSuccess: invalidate,
  });
  const edit = useMutation({
    mutationFn: () => {
      const e = editing!;
      const expires = e.expires ? new Date(e.expires) : undefined;
      return unwrap(
        api.PATCH('/api/admin/s3-credentials/{akid}', {
          params: { path: { akid: e.akid } },
          body: {
            description: e.description,
            scopes: parseScopes(e.scopes),
            expires_at: expires && !Number.isNaN(expires.getTime()) ? expires.toISOString() : null,
          },
        }),
      );
    },
    onSuccess: () => {
      setEditing(undefined);
      invalidate();
    },
  });
  const revoke = useMutation({
    mutationFn: (akid: string) => unwrap(api.DELETE('/api/admin/s3-credentials/{akid}', { params: { path: { akid } } })),
    onSuccess: invalidate,
  });
  const needle = filter.trim().toLowerCase();
  const rows = (creds.data?.credentials ?? []).filter(
    (c) =>
      !needle ||
      c.access_key.toLowerCase().includes(needle) ||
      c.description.toLowerCase().includes(needle) ||
      userName(c.user_id).toLowerCase().includes(needle) ||
      scopeText(c).includes(needle),
  );


  return (
    <Page title={t('adminCreds.title')} actions={<Button variant="primary" onClick={() => setCreating(true)}>{t('creds.create')}</Button>}>
      <div className="grid max-w-2xl gap-3 sm:grid-cols-2">
        <Field label={t('adminCreds.filter')} type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
        <Field label={t('creds.endpoint')} hint={t('creds.endpointHint')} value={endpoint} onChange={(e) => setEndpoint(e.target.value)} />
      </div>
      <ErrorMessage error={creds.error ?? patch.error ?? revoke.error} />
      {creds.isPending && <Loading />}
      {creds.data && rows.length === 0 && <p className="text-muted">{t('creds.empty')}</p>}
      {rows.length > 0 && (
        <DataTable
          testId="admin-credentials"
          rows={rows}
          rowKey={(c) => c.access_key}
          rowProps={(c) => ({ 'data-akid': c.access_key })}
          columns={[
            { header: t('creds.accessKey'), cell: (c) => c.access_key, className: 'font-mono text-xs' },
            { header: t('adminCreds.owner'), cell: (c) => userName(c.user_id) },
            { header: t('creds.description'), cell: (c) => c.description },
            { header: t('adminCreds.scopes'), cell: scopeText },
            {
              header: t('creds.enabled'),
              cell: (c) => (c.enabled ? t('common.yes') : c.disabled_by === 'admin' ? t('adminCreds.disabledByAdmin') : t('adminCreds.disabledByOwner')),
            },
            { header: t('adminCreds.expires'), cell: (c) => formatDate(c.expires_at) },
            { header: t('creds.lastUsed'), cell: (c) => formatDate(c.last_used_at) },
            {
              header: t('common.actions'),
              className: 'flex gap-2',
              cell: (c) => (
                <>
                  <Button
                    onClick={() =>
                      setEditing({
                        akid: c.access_key,
                        description: c.description,
                        scopes: scopeText(c),
                        expires: c.expires_at ? toLocalInput(c.expires_at) : '',
                      })
                    }
                  >
                    {t('adminCreds.edit')}
                  </Button>
                  <Button onClick={() => patch.mutate({ akid: c.access_key, enabled: !c.enabled })}>{c.enabled ? t('creds.disable') : t('creds.enable')}</Button>
                  <Button variant="danger" onClick={() => confirm(t('adminCreds.confirmRevoke', { akid: c.access_key })) && revoke.mutate(c.access_key)}>
                    {t('creds.revoke')}
                  </Button>
                </>
              ),
            },
          ]}
        />
      )}
      <FormDialog open={creating} onClose={() => setCreating(false)} title={t('creds.create')} onSubmit={() => create.mutate()} pending={create.isPending} error={create.error}>
        <Select
          label={t('adminCreds.owner')}
          value={form.user}
          onChange={(user) => setForm({ ...form, user })}
          options={[{ value: '', label: t('adminCreds.nobody') }, ...(users.data?.users ?? []).map((u) => ({ value: u.id, label: u.username }))]}
        />
        <Field label={t('creds.description')} value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} />
        <Select label={t('creds.backend')} value={backendId} onChange={(backend) => setForm({ ...form, backend })} options={(backends.data?.backends ?? []).map((b) => ({ value: b.id, label: b.name }))} />
        <Field label={t('creds.buckets')} required value={form.buckets} onChange={(e) => setForm({ ...form, buckets: e.target.value })} />
      </FormDialog>
      <FormDialog
        open={editing !== undefined}
        onClose={() => setEditing(undefined)}
        title={t('adminCreds.editTitle', { akid: editing?.akid ?? '' })}
        onSubmit={() => edit.mutate()}
        submitLabel={t('common.save')}
        pending={edit.isPending}
        error={edit.error}
      >
        {editing && (
          <>
            <Field label={t('creds.description')} value={editing.description} onChange={(e) => setEditing({ ...editing, description: e.target.value })} />
            <Field label={t('adminCreds.scopesInput')} hint={t('adminCreds.scopesHint')} required value={editing.scopes} onChange={(e) => setEditing({ ...editing, scopes: e.target.value })} />
            <Field label={t('adminCreds.expires')} hint={t('adminCreds.expiresHint')} type="datetime-local" value={editing.expires} onChange={(e) => setEditing({ ...editing, expires: e.target.value })} />
          </>
        )}
      </FormDialog>
      {minted && <MintedCredential credential={minted} endpoint={endpoint} onClose={() => setMinted(undefined)} />}
    </Page>
  );
}
