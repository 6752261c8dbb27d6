import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { Button, CopyButton, ErrorMessage, Field, Loading, Modal, Page, Select, tableClass } from '../components/ui';
import { t } from '../i18n';
import { formatDate } from '../lib/format';
import { canWrite, useMe } from '../lib/session';

type Credential = Schemas['S3CredentialDto'];

/** The S3 listener as browsers reach this host, on Stowage's default S3 port; editable, since a proxy may front it. */
const defaultEndpoint = () => `${location.protocol}//${location.hostname}:8090`;

export function snippets(endpoint: string, akid: string, secret: string, bucket: string): { name: string; text: string }[] {
  const region = 'us-east-1';
  return [
    {
      name: 'aws CLI',
      text: `export AWS_ACCESS_KEY_ID=${akid}\nexport AWS_SECRET_ACCESS_KEY=${secret}\nexport AWS_DEFAULT_REGION=${region}\naws --endpoint-url ${endpoint} s3 ls s3://${bucket}/`,
    },
    {
      name: 'rclone',
      text: `[stowage]\ntype = s3\nprovider = Other\naccess_key_id = ${akid}\nsecret_access_key = ${secret}\nendpoint = ${endpoint}\nregion = ${region}\nforce_path_style = true\n\n# rclone ls stowage:${bucket}`,
    },
    {
      name: 's3cmd',
      text: `[default]\naccess_key = ${akid}\nsecret_key = ${secret}\nhost_base = ${endpoint.replace(/^https?:\/\//, '')}\nhost_bucket = ${endpoint.replace(/^https?:\/\//, '')}\nuse_https = ${endpoint.startsWith('https') ? 'True' : 'False'}\nsignature_v2 = False\n\n# s3cmd -c this-file ls s3://${bucket}`,
    },
    {
      name: 'boto3',
      text: `import boto3\n\ns3 = boto3.client(\n    "s3",\n    endpoint_url="${endpoint}",\n    aws_access_key_id="${akid}",\n    aws_secret_access_key="${secret}",\n    region_name="${region}",\n)\nprint(s3.list_objects_v2(Bucket="${bucket}").get("Contents", []))`,
    },
    {
      name: 'AWS SDK for JavaScript',
      text: `import { S3Client, ListObjectsV2Command } from '@aws-sdk/client-s3';\n\nconst s3 = new S3Client({\n  endpoint: '${endpoint}',\n  region: '${region}',\n  forcePathStyle: true,\n  credentials: { accessKeyId: '${akid}', secretAccessKey: '${secret}' },\n});\nconsole.log(await s3.send(new ListObjectsV2Command({ Bucket: '${bucket}' })));`,
    },
  ];
}

export default function Credentials() {
  const me = useMe();
  const queryClient = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [description, setDescription] = useState('');
  const [backend, setBackend] = useState('');
  const [buckets, setBuckets] = useState('');
  const [endpoint, setEndpoint] = useState(defaultEndpoint);
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

  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };

  return (
    <Page title={t('creds.title')} actions={writable && <Button variant="primary" onClick={() => setCreating(true)}>{t('creds.create')}</Button>}>
      <div className="max-w-md">
        <Field label={t('creds.endpoint')} hint={t('creds.endpointHint')} value={endpoint} onChange={(e) => setEndpoint(e.target.value)} />
      </div>
      <ErrorMessage error={creds.error ?? patch.error ?? revoke.error} />
      {creds.isPending && <Loading />}
      {creds.data?.credentials.length === 0 && <p className="text-muted">{t('creds.empty')}</p>}
      {!!creds.data?.credentials.length && (
        <table className={tableClass}>
          <thead>
            <tr>
              <th scope="col">{t('creds.accessKey')}</th>
              <th scope="col">{t('creds.description')}</th>
              <th scope="col">{t('creds.buckets')}</th>
              <th scope="col">{t('creds.lastUsed')}</th>
              <th scope="col">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {creds.data.credentials.map((c) => (
              <tr key={c.access_key}>
                <td className="font-mono text-xs">{c.access_key}</td>
                <td>{c.description}</td>
                <td>{c.scopes.map((s) => `${s.backend_id}/${s.bucket}`).join(', ')}</td>
                <td>{formatDate(c.last_used_at)}</td>
                <td className="flex gap-2">
                  {writable && (
                    <>
                      <Button onClick={() => patch.mutate({ akid: c.access_key, enabled: !c.enabled })}>{c.enabled ? t('creds.disable') : t('creds.enable')}</Button>
                      <Button variant="danger" onClick={() => revoke.mutate(c.access_key)}>
                        {t('creds.revoke')}
                      </Button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Modal open={creating} onOpenChange={setCreating} title={t('creds.create')}>
        <form onSubmit={submit} className="flex flex-col gap-3">
          <Field label={t('creds.description')} value={description} onChange={(e) => setDescription(e.target.value)} />
          <Select label={t('creds.backend')} value={backendId} onChange={setBackend} options={(backends.data?.backends ?? []).map((b) => ({ value: b.id, label: b.name }))} />
          <Field label={t('creds.buckets')} required value={buckets} onChange={(e) => setBuckets(e.target.value)} />
          <ErrorMessage error={create.error} />
          <div className="flex justify-end gap-2">
            <Button onClick={() => setCreating(false)}>{t('common.cancel')}</Button>
            <Button type="submit" variant="primary" disabled={create.isPending}>
              {t('common.create')}
            </Button>
          </div>
        </form>
      </Modal>
      <Modal open={minted !== undefined} onOpenChange={() => setMinted(undefined)} title={t('creds.create')} description={t('creds.secretOnce')} wide>
        {minted && (
          <div className="flex flex-col gap-3">
            <Field label={t('creds.accessKey')} readOnly value={minted.access_key} data-testid="minted-akid" />
            <Field label={t('creds.secretKey')} readOnly value={minted.secret_key ?? ''} data-testid="minted-secret" />
            <h3 className="font-semibold">{t('creds.snippets')}</h3>
            {snippets(endpoint, minted.access_key, minted.secret_key ?? '', minted.buckets[0] ?? minted.scopes[0]?.bucket ?? 'BUCKET').map((s) => (
              <section key={s.name} aria-label={s.name} className="flex flex-col gap-1">
                <div className="flex items-center justify-between">
                  <h4 className="text-sm font-medium">{s.name}</h4>
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
