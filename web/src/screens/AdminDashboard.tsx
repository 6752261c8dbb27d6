import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import type { ReactNode } from 'react';
import { api, unwrap } from '../api/client';
import { BarList, ColumnChart } from '../components/charts';
import { DataTable, ErrorMessage, Loading, Page } from '../components/ui';
import { t } from '../i18n';
import { formatBytes, formatDate } from '../lib/format';

const hourLabel = (unixHour: number) => new Date(unixHour * 3_600_000).toLocaleTimeString(undefined, { hour: 'numeric' });

function Card({ title, children, wide }: { title: string; children: ReactNode; wide?: boolean }) {
  return (
    <section aria-label={title} className={`flex flex-col gap-3 rounded-lg border border-line bg-panel p-4 ${wide ? 'lg:col-span-2' : ''}`}>
      <h2 className="font-semibold">{title}</h2>
      {children}
    </section>
  );
}

function Stat({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div className="rounded-lg border border-line bg-panel p-4">
      <p className="text-sm text-muted">{label}</p>
      <p className="text-2xl font-semibold tabular-nums" data-testid={testId}>
        {value}
      </p>
    </div>
  );
}

/** Requests of the last 24 hours (every replica), recent server errors, storage by backend, the largest buckets. */
export default function AdminDashboard() {
  const dash = useQuery({ queryKey: ['dashboard'], queryFn: () => unwrap(api.GET('/api/admin/dashboard')), refetchInterval: 15_000 });
  const d = dash.data;
  const backendBytes = d?.storage.by_backend.reduce((n, b) => n + b.bytes, 0) ?? 0;
  return (
    <Page title={t('dash.title')}>
      <ErrorMessage error={dash.error} />
      {dash.isPending && <Loading />}
      {d && (
        <>
          <div className="grid gap-3 sm:grid-cols-3">
            <Stat label={t('dash.requests24h')} value={d.requests.total_24h.toLocaleString()} testId="dash-requests" />
            <Stat label={t('dash.errors24h')} value={d.requests.errors_24h.toLocaleString()} testId="dash-errors" />
            <Stat label={t('dash.stored')} value={formatBytes(backendBytes)} testId="dash-stored" />
          </div>
          <div className="grid gap-4 lg:grid-cols-2">
            <Card title={t('dash.perHour')} wide>
              <ColumnChart
                label={t('dash.perHourAlt', { requests: t('dash.requestCount', { count: d.requests.total_24h }), errors: t('dash.serverErrorCount', { count: d.requests.errors_24h }) })}
                data={d.requests.hourly.map((p) => ({ label: hourLabel(p.unix_hour), value: p.requests, overlay: p.errors }))}
              />
              <p className="flex gap-4 text-xs text-muted">
                <span className="flex items-center gap-1">
                  <span aria-hidden className="inline-block h-2.5 w-2.5 rounded-sm bg-accent" />
                  {t('dash.legendRequests')}
                </span>
                <span className="flex items-center gap-1">
                  <span aria-hidden className="inline-block h-2.5 w-2.5 rounded-sm bg-danger" />
                  {t('dash.legendErrors')}
                </span>
              </p>
            </Card>
            <Card title={t('dash.byBackend')}>
              {Object.keys(d.requests.by_backend).length === 0 ? (
                <p className="text-sm text-muted">{t('dash.noBackendTraffic')}</p>
              ) : (
                <BarList label={t('dash.byBackend')} data={Object.entries(d.requests.by_backend).sort((a, b) => b[1] - a[1]).map(([label, value]) => ({ label, value }))} />
              )}
            </Card>
            <Card title={t('dash.storageByBackend')}>
              {d.storage.by_backend.length === 0 ? (
                <p className="text-sm text-muted">{t('dash.noSizes')}</p>
              ) : (
                <BarList
                  label={t('dash.storageByBackend')}
                  format={formatBytes}
                  data={d.storage.by_backend.map((b) => ({ label: b.backend_id, note: t('dash.bucketsObjects', { buckets: t('dash.buckets', { count: b.buckets }), objects: t('buckets.objects', { count: b.objects }) }), value: b.bytes }))}
                />
              )}
            </Card>
            <Card title={t('dash.topBuckets')}>
              {d.storage.top_buckets.length === 0 ? (
                <p className="text-sm text-muted">{t('dash.noSizes')}</p>
              ) : (
                <DataTable
                  testId="top-buckets"
                  rows={d.storage.top_buckets}
                  rowKey={(b) => `${b.backend_id}/${b.bucket}`}
                  columns={[
                    {
                      header: t('audit.bucket'),
                      cell: (b) => (
                        <Link to="/b/$bid/$bucket" params={{ bid: b.backend_id, bucket: b.bucket }} className="text-accent underline">
                          {b.backend_id}/{b.bucket}
                        </Link>
                      ),
                    },
                    { header: t('common.size'), cell: (b) => formatBytes(b.bytes), className: 'tabular-nums' },
                    { header: t('dash.objects'), cell: (b) => b.objects.toLocaleString(), className: 'tabular-nums' },
                  ]}
                />
              )}
            </Card>
            <Card title={t('dash.recentErrors')}>
              {d.requests.recent_errors.length === 0 ? (
                <p className="text-sm text-muted">{t('dash.noErrors')}</p>
              ) : (
                <DataTable
                  testId="recent-errors"
                  rows={d.requests.recent_errors.slice(0, 15).map((e, i) => ({ ...e, i }))}
                  rowKey={(e) => String(e.i)}
                  columns={[
                    { header: t('audit.when'), cell: (e) => formatDate(e.when), className: 'whitespace-nowrap' },
                    { header: t('dash.request'), cell: (e) => `${e.method} ${e.path}`, className: 'break-all font-mono text-xs' },
                    { header: t('audit.status'), cell: (e) => e.status, className: 'text-danger' },
                  ]}
                />
              )}
            </Card>
          </div>
        </>
      )}
    </Page>
  );
}
