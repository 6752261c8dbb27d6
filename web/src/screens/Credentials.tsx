import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, unwrap, type Schemas } from '../api/client';
import { Button, CopyButton, ErrorMessage, Field, Loading, Modal, Page, Select, tableClass } from '../components/ui';
import { t } from '../i18n';
import { formatDate } from '../lib/format';
import { canWrite, useMe } from '../lib/session';

type Credential = Schemas['S3CredentialDto'];

/**
 * Ready-to-paste client configuration for a credential: `endpoint` and the bucket's URLs come from
 * the API (`endpoint_url`, `bucket_urls`), so they follow `s3_proxy.public_url` and host suffixes.
 * With a virtual-hosted URL, s3cmd addresses buckets by host name; the others stay path-style,
 * which every S3 client supports against any endpoint.
 */
export function snippets(endpoint: string, akid: string, secret: string, bucket: string, virtualHosted?: string): { name: string; text: string }[] {
  const region = 'us-east-1';
  const host = endpoint.replace(/^https?:\/\//, '');
  const hostBucket = virtualHosted ? virtualHosted.replace(/^https?:\/\//, '').replace(bucket, '%(bucket)s') : host;
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
      text: `[default]\naccess_key = ${akid}\nsecret_key = ${secret}\nhost_base = ${host}\nhost_bucket = ${hostBucket}\nuse_https = ${endpoint.startsWith('https') ? 'True' : 'False'}\nsignature_v2 = False\n\n# s3cmd -c this-file ls s3://${bucket}`,
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
            <Field label={t('creds.endpoint')} readOnly value={minted.endpoint_url} data-testid="minted-endpoint" />
            <h3 className="font-semibold">{t('creds.bucketUrls')}</h3>
            <ul className="text-sm" data-testid="minted-bucket-urls">
              {minted.bucket_urls.map((u) => (
                <li key={`${u.backend_id}/${u.bucket}`} className="font-mono text-xs">
                  {u.path_style}
                  {u.virtual_hosted && ` · ${u.virtual_hosted}`}
                </li>
              ))}
            </ul>
            <h3 className="font-semibold">{t('creds.snippets')}</h3>
            {snippets(minted.endpoint_url, minted.access_key, minted.secret_key ?? '', minted.bucket_urls[0]?.bucket ?? 'BUCKET', minted.bucket_urls[0]?.virtual_hosted).map((s) => (
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
