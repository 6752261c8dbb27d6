import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { Button, CopyButton, ErrorMessage, Field, Loading, Modal, Page, Select, tableClass } from '../components/ui';
import { t } from '../i18n';
import { formatDate } from '../lib/format';
import { snippets } from './Credentials';

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

/** The proxy's address as the API names it for the credential (`endpoint_url`), else the one typed here. */
const mintedEndpoint = (cred: Credential, typed: string) => (cred as Credential & { endpoint_url?: string }).endpoint_url || typed;

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
      c.scopes.some((s) => `${s.backend_id}/${s.bucket}`.includes(needle)),
  );

  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };

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
        <table className={tableClass} data-testid="admin-credentials">
          <thead>
            <tr>
              <th scope="col">{t('creds.accessKey')}</th>
              <th scope="col">{t('adminCreds.owner')}</th>
              <th scope="col">{t('creds.description')}</th>
              <th scope="col">{t('adminCreds.scopes')}</th>
              <th scope="col">{t('creds.enabled')}</th>
              <th scope="col">{t('adminCreds.expires')}</th>
              <th scope="col">{t('creds.lastUsed')}</th>
              <th scope="col">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => (
              <tr key={c.access_key} data-akid={c.access_key}>
                <td className="font-mono text-xs">{c.access_key}</td>
                <td>{userName(c.user_id)}</td>
                <td>{c.description}</td>
                <td>{c.scopes.map((s) => `${s.backend_id}/${s.bucket}`).join(', ')}</td>
                <td>{c.enabled ? t('common.yes') : c.disabled_by === 'admin' ? t('adminCreds.disabledByAdmin') : t('adminCreds.disabledByOwner')}</td>
                <td>{formatDate(c.expires_at)}</td>
                <td>{formatDate(c.last_used_at)}</td>
                <td className="flex gap-2">
                  <Button
                    onClick={() =>
                      setEditing({
                        akid: c.access_key,
                        description: c.description,
                        scopes: c.scopes.map((sc) => `${sc.backend_id}/${sc.bucket}`).join(', '),
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
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Modal open={creating} onOpenChange={setCreating} title={t('creds.create')}>
        <form onSubmit={submit} className="flex flex-col gap-3">
          <Select
            label={t('adminCreds.owner')}
            value={form.user}
            onChange={(user) => setForm({ ...form, user })}
            options={[{ value: '', label: t('adminCreds.nobody') }, ...(users.data?.users ?? []).map((u) => ({ value: u.id, label: u.username }))]}
          />
          <Field label={t('creds.description')} value={form.description} onChange={(e) => setForm({ ...form, description: e.target.value })} />
          <Select label={t('creds.backend')} value={backendId} onChange={(backend) => setForm({ ...form, backend })} options={(backends.data?.backends ?? []).map((b) => ({ value: b.id, label: b.name }))} />
          <Field label={t('creds.buckets')} required value={form.buckets} onChange={(e) => setForm({ ...form, buckets: e.target.value })} />
          <ErrorMessage error={create.error} />
          <div className="flex justify-end gap-2">
            <Button onClick={() => setCreating(false)}>{t('common.cancel')}</Button>
            <Button type="submit" variant="primary" disabled={create.isPending}>
              {t('common.create')}
            </Button>
          </div>
        </form>
      </Modal>
      <Modal open={editing !== undefined} onOpenChange={() => setEditing(undefined)} title={t('adminCreds.editTitle', { akid: editing?.akid ?? '' })}>
        {editing && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              edit.mutate();
            }}
            className="flex flex-col gap-3"
          >
            <Field label={t('creds.description')} value={editing.description} onChange={(e) => setEditing({ ...editing, description: e.target.value })} />
            <Field label={t('adminCreds.scopesInput')} hint={t('adminCreds.scopesHint')} required value={editing.scopes} onChange={(e) => setEditing({ ...editing, scopes: e.target.value })} />
            <Field label={t('adminCreds.expires')} hint={t('adminCreds.expiresHint')} type="datetime-local" value={editing.expires} onChange={(e) => setEditing({ ...editing, expires: e.target.value })} />
            <ErrorMessage error={edit.error} />
            <div className="flex justify-end gap-2">
              <Button onClick={() => setEditing(undefined)}>{t('common.cancel')}</Button>
              <Button type="submit" variant="primary" disabled={edit.isPending}>
                {t('common.save')}
              </Button>
            </div>
          </form>
        )}
      </Modal>
      <Modal open={minted !== undefined} onOpenChange={() => setMinted(undefined)} title={t('creds.create')} description={t('creds.secretOnce')} wide>
        {minted && (
          <div className="flex flex-col gap-3">
            <Field label={t('creds.accessKey')} readOnly value={minted.access_key} data-testid="minted-akid" />
            <Field label={t('creds.secretKey')} readOnly value={minted.secret_key ?? ''} data-testid="minted-secret" />
            {snippets(mintedEndpoint(minted, endpoint), minted.access_key, minted.secret_key ?? '', minted.buckets[0] ?? 'BUCKET').slice(0, 1).map((s) => (
              <section key={s.name} aria-label={s.name} className="flex flex-col gap-1">
                <div className="flex items-center justify-between">
                  <h3 className="text-sm font-medium">{s.name}</h3>
                  <CopyButton text={s.text} />
                </div>
                <pre className="overflow-auto rounded bg-bg p-2 text-xs" data-snippet={s.name}>
                  {s.text}
                </pre>
              </section>
            ))}
            <div className="flex justify-end">
              <Button variant="primary" onClick={() => setMinted(undefined)}>
                {t('common.close')}
              </Button>
            </div>
          </div>
        )}
      </Modal>
    </Page>
  );
}
