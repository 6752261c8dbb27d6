import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { api, unwrap } from '../api/client';
import { ErrorMessage, Loading, Page } from '../components/ui';
import { t } from '../i18n';
import { formatDate } from '../lib/format';

export default function Backends() {
  const backends = useQuery({ queryKey: ['backends'], queryFn: () => unwrap(api.GET('/api/backends')), refetchInterval: 30_000 });
  return (
    <Page title={t('backends.title')}>
      <ErrorMessage error={backends.error} />
      {backends.isPending && <Loading />}
      {backends.data?.backends.length === 0 && <p className="text-muted">{t('backends.empty')}</p>}
      <ul className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
        {backends.data?.backends.map((b) => (
          <li key={b.id} className="rounded-lg border border-line bg-panel p-4">
            <Link to="/b/$bid" params={{ bid: b.id }} className="text-base font-semibold text-accent underline" aria-label={t('backends.open', { name: b.name })}>
              {b.name}
            </Link>
            <p className="text-xs text-muted">{b.id}</p>
            <p className="mt-2 flex items-center gap-2 text-sm">
              <span aria-hidden className={`inline-block h-2.5 w-2.5 rounded-full ${b.healthy ? 'bg-ok' : 'bg-danger'}`} />
              {b.healthy ? t('backends.healthy') : t('backends.unhealthy')}
              {b.last_probe_at && <span className="text-muted">· {t('backends.lastProbe', { when: formatDate(b.last_probe_at) })}</span>}
            </p>
            {b.last_error && <p className="mt-1 text-xs text-danger">{b.last_error}</p>}
          </li>
        ))}
      </ul>
    </Page>
  );
}
