import { useQueries, useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { api, unwrap, type Schemas } from '../api/client';
import { BucketSize, QuotaMeter, SettingsLink } from '../components/BucketCells';
import { DataTable, ErrorMessage, Loading, Page } from '../components/ui';
import { t } from '../i18n';

interface Row {
  bid: string;
  bucket: Schemas['BucketDto'];
}

/** How full a bucket is against its hard cap (or its soft cap alone), for ordering the fullest first. */
const fill = ({ bucket: b }: Row) => (b.size_bytes ?? 0) / Math.max(1, b.quota?.hard_bytes ?? b.quota?.soft_bytes ?? 1);

const state = ({ bucket: { quota } }: Row) =>
  quota?.hard_exceeded ? t('quotas.hardExceeded') : quota?.soft_exceeded ? t('quotas.softExceeded') : t('quotas.within');

/**
 * Every bucket with a quota, on every backend, fullest first: the bucket lists carry each
 * bucket's quota state and size, so this screen needs no route of its own. Caps are set in the
 * bucket's settings.
 */
export default function AdminQuotas() {
  const backends = useQuery({ queryKey: ['backends'], queryFn: () => unwrap(api.GET('/api/backends')) });
  const lists = useQueries({
    queries: (backends.data?.backends ?? []).map((b) => ({
      queryKey: ['buckets', b.id],
      queryFn: () => unwrap(api.GET('/api/backends/{bid}/buckets', { params: { path: { bid: b.id } } })),
    })),
  });
  const rows: Row[] = (backends.data?.backends ?? [])
    .flatMap((b, i) => (lists[i]?.data?.buckets ?? []).map((bucket) => ({ bid: b.id, bucket })))
    .filter((r) => r.bucket.quota)
    .sort((a, b) => fill(b) - fill(a) || a.bucket.name.localeCompare(b.bucket.name));
  const pending = backends.isPending || lists.some((l) => l.isPending);

  return (
    <Page title={t('quotas.title')}>
      <p className="text-sm text-muted">{t('quotas.hint')}</p>
      <ErrorMessage error={backends.error ?? lists.find((l) => l.error)?.error} />
      {pending && <Loading />}
      {!pending && rows.length === 0 && <p className="text-muted">{t('quotas.empty')}</p>}
      {rows.length > 0 && (
        <DataTable
          testId="quotas"
          rows={rows}
          rowKey={(r) => `${r.bid}/${r.bucket.name}`}
          rowProps={(r) => ({ 'data-bucket': `${r.bid}/${r.bucket.name}` })}
          columns={[
            {
              header: t('quotas.bucket'),
              cell: (r) => (
                <Link to="/b/$bid/$bucket" params={{ bid: r.bid, bucket: r.bucket.name }} className="text-accent underline">
                  {r.bucket.name}
                </Link>
              ),
            },
            { header: t('quotas.backend'), cell: (r) => r.bid },
            { header: t('common.size'), cell: (r) => <BucketSize bucket={r.bucket} /> },
            { header: t('buckets.quota'), cell: (r) => <QuotaMeter bucket={r.bucket} /> },
            { header: t('quotas.state'), cell: state },
            { header: t('common.actions'), cell: (r) => <SettingsLink bid={r.bid} bucket={r.bucket.name} /> },
          ]}
        />
      )}
    </Page>
  );
}
