import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { MintedCredential, scopeText } from '../components/MintedCredential';
import { Button, DataTable, ErrorMessage, Field, FormDialog, Loading, Page, Select } from '../components/ui';
import { t } from '../i18n';
import { formatDate } from '../lib/format';
import { canWrite, useMe } from '../lib/session';

type Credential = Schemas['S3CredentialDto'];

export default function Credentials() {
  const me = useMe();
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [description, setDescription] = useState('');
  const [backend, setBackend] = useState('');
  const [buckets, setBuckets] = useState('');
  const [minted, setMinted] = useState<Credential>();
  const creds = useQuery({ queryKey: ['credentials'], queryFn: () => unwrap(api.GET('/api/me/s3-credentials')) });
  const backends = useQuery({ queryKey: ['backends'], queryFn: () => unwrap(api.GET('/api/backends')) });
  const backendId = backend || backends.data?.backends[0]?.id || '';

  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/me/s3-credentials', {
          body: { backend_id: backendId, buckets: buckets.split(',').map((b) => b.trim()).filter(Boolean), description },
        }),
      ),
    onSuccess: (cred) => {
      setMinted(cred);
      setCreating(false);
      void queryClient.invalidateQueries({ queryKey: ['credentials'] });
    },
  });
  const patch = useMutation({
    mutationFn: ({ akid, enabled }: { akid: string; enabled: boolean }) =>
      unwrap(api.PATCH('/api/me/s3-credentials/{akid}', { params: { path: { akid } }, body: { enabled } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['credentials'] }),
  });
  const revoke = useMutation({
    mutationFn: (akid: string) => unwrap(api.DELETE('/api/me/s3-credentials/{akid}', { params: { path: { akid } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['credentials'] }),
  });
  const writable = canWrite(me.data);


  return (
    <Page title={t('creds.title')} actions={writable && <Button variant="primary" onClick={() => setCreating(true)}>{t('creds.create')}</Button>}>
      {creds.data?.credentials[0] && (
        <p className="text-sm">
          {t('creds.endpoint')}: <code data-testid="s3-endpoint">{creds.data.credentials[0].endpoint_url}</code>{' '}
          <span className="text-muted">{t('creds.endpointHint')}</span>
        </p>
      )}
      <ErrorMessage error={creds.error ?? patch.error ?? revoke.error} />
      {creds.isPending && <Loading />}
      {creds.data?.credentials.length === 0 && <p className="text-muted">{t('creds.empty')}</p>}
      {!!creds.data?.credentials.length && (
        <DataTable
          rows={creds.data.credentials}
          rowKey={(c) => c.access_key}
          columns={[
            { header: t('creds.accessKey'), cell: (c) => c.access_key, className: 'font-mono text-xs' },
            { header: t('creds.description'), cell: (c) => c.description },
            { header: t('creds.buckets'), cell: scopeText },
            { header: t('creds.lastUsed'), cell: (c) => formatDate(c.last_used_at) },
            {
              header: t('common.actions'),
              className: 'flex gap-2',
              cell: (c) =>
                writable && (
                  <>
                    <Button onClick={() => patch.mutate({ akid: c.access_key, enabled: !c.enabled })}>{c.enabled ? t('creds.disable') : t('creds.enable')}</Button>
                    <Button variant="danger" onClick={() => revoke.mutate(c.access_key)}>
                      {t('creds.revoke')}
                    </Button>
                  </>
                ),
            },
          ]}
        />
      )}
      <FormDialog open={creating} onClose={() => setCreating(false)} title={t('creds.create')} onSubmit={() => create.mutate()} pending={create.isPending} error={create.error}>
        <Field label={t('creds.description')} value={description} onChange={(e) => setDescription(e.target.value)} />
        <Select label={t('creds.backend')} value={backendId} onChange={setBackend} options={(backends.data?.backends ?? []).map((b) => ({ value: b.id, label: b.name }))} />
        <Field label={t('creds.buckets')} required value={buckets} onChange={(e) => setBuckets(e.target.value)} />
      </FormDialog>
      {minted && <MintedCredential credential={minted} onClose={() => setMinted(undefined)} />}
    </Page>
  );
}
