import type { Schemas } from '../api/client';
import { t } from '../i18n';
import { Button, CopyButton, Field, Modal } from './ui';

/**
 * Ready-to-paste client configuration for a credential: `endpoint` and the bucket's URLs come from
 * the API (`endpoint_url`, `bucket_urls`), so they follow `s3_proxy.public_url` and host suffixes.
 * With a virtual-hosted URL, s3cmd addresses buckets by host name; the others stay path-style,
 * which every S3 client supports against any endpoint.
 */
function snippets(endpoint: string, akid: string, secret: string, bucket: string, virtualHosted?: string): { name: string; text: string }[] {
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

/** A credential's scopes as `backend/bucket, …` (how the lists show them and the edit form takes them). */
export const scopeText = (c: { scopes: { backend_id: string; bucket?: string }[] }) => c.scopes.map((s) => `${s.backend_id}/${s.bucket}`).join(', ');

/**
 * A credential just minted, in a dialog: its secret is shown this once, beside the proxy's endpoint,
 * the bucket URLs and a ready-to-paste configuration for each client. `endpoint` stands in only
 * when the API names none.
 */
export function MintedCredential({ credential: c, endpoint, onClose }: { credential: Schemas['S3CredentialDto']; endpoint?: string; onClose: () => void }) {
  const url = c.endpoint_url || endpoint || '';
  const first = c.bucket_urls[0];
  return (
    <Modal open onOpenChange={(open) => !open && onClose()} title={t('creds.create')} description={t('creds.secretOnce')} wide>
      <div className="flex flex-col gap-3">
        <Field label={t('creds.accessKey')} readOnly value={c.access_key} data-testid="minted-akid" />
        <Field label={t('creds.secretKey')} readOnly value={c.secret_key ?? ''} data-testid="minted-secret" />
        <Field label={t('creds.endpoint')} readOnly value={url} data-testid="minted-endpoint" />
        <h3 className="font-semibold">{t('creds.bucketUrls')}</h3>
        <ul className="text-sm" data-testid="minted-bucket-urls">
          {c.bucket_urls.map((u) => (
            <li key={`${u.backend_id}/${u.bucket}`} className="font-mono text-xs">
              {u.path_style}
              {u.virtual_hosted && ` · ${u.virtual_hosted}`}
            </li>
          ))}
        </ul>
        <h3 className="font-semibold">{t('creds.snippets')}</h3>
        {snippets(url, c.access_key, c.secret_key ?? '', first?.bucket ?? c.buckets[0] ?? 'BUCKET', first?.virtual_hosted).map((s) => (
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
          <Button variant="primary" onClick={onClose}>
            {t('common.close')}
          </Button>
        </div>
      </div>
    </Modal>
  );
}
