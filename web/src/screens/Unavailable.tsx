import { useQuery } from '@tanstack/react-query';
import { Page, Loading } from '../components/ui';
import { t, type MessageKey } from '../i18n';

/**
 * Screens whose API routes this server may not have yet: the route is asked first, and a 404
 * shows that the feature is unavailable rather than an empty or invented screen.
 */
function Probe({ name, path }: { name: MessageKey; path: string }) {
  const probe = useQuery({
    queryKey: ['probe', path],
    queryFn: async () => (await fetch(path, { credentials: 'same-origin' })).status,
  });
  if (probe.isPending) return <Loading />;
  return (
    <Page title={t(name)}>
      <div role="status" className="rounded-lg border border-line bg-panel p-4">
        <h2 className="font-semibold">{t('unavailable.title', { name: t(name) })}</h2>
        <p className="text-sm text-muted">{probe.data === 404 ? t('unavailable.body') : t('unavailable.noScreen')}</p>
      </div>
    </Page>
  );
}

export const Quotas = () => <Probe name="nav.quotas" path="/api/admin/quotas" />;
export const Audit = () => <Probe name="nav.audit" path="/api/admin/audit" />;
export const Dashboard = () => <Probe name="nav.dashboard" path="/api/admin/dashboard" />;
