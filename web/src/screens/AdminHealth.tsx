import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';
import { ProbeStrip, Sparkline } from '../components/charts';
import { ErrorMessage, Loading, Page } from '../components/ui';
import { t } from '../i18n';
import { formatDate } from '../lib/format';

/** Every backend with its last probes (the API keeps 20), oldest to newest, and their latency. */
export default function AdminHealth() {
  const health = useQuery({ queryKey: ['backend-health'], queryFn: () => unwrap(api.GET('/api/admin/backends/health')), refetchInterval: 15_000 });
  return (
    <Page title={t('health.title')}>
      <ErrorMessage error={health.error} />
      {health.isPending && <Loading />}
      <ul className="flex flex-col gap-3">
        {health.data?.backends.map((b) => {
          const probes = [...b.history].reverse();
          const up = probes.filter((p) => p.healthy).length;
          const latencies = probes.filter((p) => p.healthy).map((p) => p.latency_ms);
          const avg = latencies.length ? Math.round(latencies.reduce((n, v) => n + v, 0) / latencies.length) : undefined;
          return (
            <li key={b.id} className="flex flex-col gap-2 rounded-lg border border-line bg-panel p-4" data-backend={b.id}>
              <div className="flex flex-wrap items-center justify-between gap-2">
                <h2 className="font-semibold">
                  {b.name} <span className="text-xs font-normal text-muted">{b.id}</span>
                </h2>
                <span className="flex items-center gap-2 text-sm">
                  <span aria-hidden className={`inline-block h-2.5 w-2.5 rounded-full ${b.healthy ? 'bg-ok' : 'bg-danger'}`} />
                  {b.healthy ? t('backends.healthy') : t('backends.unhealthy')}
                  {b.last_probe_at && <span className="text-muted">· {t('backends.lastProbe', { when: formatDate(b.last_probe_at) })}</span>}
                </span>
              </div>
              {probes.length === 0 ? (
                <p className="text-sm text-muted">{t('health.noProbes')}</p>
              ) : (
                <>
                  <div className="flex flex-wrap items-center gap-4">
                    <ProbeStrip probes={probes} label={t('health.strip', { up, total: probes.length })} />
                    {latencies.length > 0 && (
                      <Sparkline values={probes.map((p) => (p.healthy ? p.latency_ms : undefined))} label={t('health.latencyLine', { min: Math.min(...latencies), max: Math.max(...latencies) })} />
                    )}
                  </div>
                  <p className="text-sm text-muted">
                    {t('health.summary', { up, count: probes.length })}
                    {avg !== undefined && ` · ${t('health.avgLatency', { ms: avg })}`}
                  </p>
                </>
              )}
              {b.last_error && <p className="text-xs text-danger">{b.last_error}</p>}
            </li>
          );
        })}
      </ul>
    </Page>
  );
}
