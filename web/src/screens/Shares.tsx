import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';
import { Button, CopyButton, DataTable, ErrorMessage, Loading, Page } from '../components/ui';
import { t } from '../i18n';
import { formatDate } from '../lib/format';

export default function Shares() {
  const queryClient = useQueryClient();
  const shares = useQuery({ queryKey: ['shares'], queryFn: () => unwrap(api.GET('/api/shares')) });
  const revoke = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/api/shares/{id}', { params: { path: { id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['shares'] }),
  });
  return (
    <Page title={t('shares.title')}>
      <ErrorMessage error={shares.error ?? revoke.error} />
      {shares.isPending && <Loading />}
      {shares.data?.shares.length === 0 && <p className="text-muted">{t('shares.empty')}</p>}
      {!!shares.data?.shares.length && (
        <DataTable
          rows={shares.data.shares}
          rowKey={(s) => s.id}
          rowProps={(s) => ({ 'data-share': s.code })}
          columns={[
            {
              header: t('shares.object'),
              className: 'break-all',
              cell: (s) => (
                <>
                  {s.backend_id}/{s.bucket}/{s.key}
                  {s.has_password && <span className="ml-2 text-xs text-muted">{t('shares.protected')}</span>}
                </>
              ),
            },
            { header: t('shares.downloads'), cell: (s) => `${s.download_count}${s.max_downloads ? ` / ${s.max_downloads}` : ''}` },
            { header: t('shares.expiresAt'), cell: (s) => (s.revoked ? t('shares.revoked') : formatDate(s.expires_at)) },
            {
              header: t('common.actions'),
              className: 'flex gap-2',
              cell: (s) => (
                <>
                  <CopyButton text={new URL(s.url, location.origin).href} />
                  {!s.revoked && (
                    <Button variant="danger" onClick={() => revoke.mutate(s.id)}>
                      {t('shares.revoke')}
                    </Button>
                  )}
                </>
              ),
            },
          ]}
        />
      )}
    </Page>
  );
}
