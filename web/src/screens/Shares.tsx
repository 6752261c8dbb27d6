import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';
import { Button, CopyButton, ErrorMessage, Loading, Page, tableClass } from '../components/ui';
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
        <table className={tableClass}>
          <thead>
            <tr>
              <th scope="col">{t('shares.object')}</th>
              <th scope="col">{t('shares.downloads')}</th>
              <th scope="col">{t('shares.expiresAt')}</th>
              <th scope="col">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {shares.data.shares.map((s) => (
              <tr key={s.id} data-share={s.code}>
                <td className="break-all">
                  {s.backend_id}/{s.bucket}/{s.key}
                  {s.has_password && <span className="ml-2 text-xs text-muted">{t('shares.protected')}</span>}
                </td>
                <td>
                  {s.download_count}
                  {s.max_downloads ? ` / ${s.max_downloads}` : ''}
                </td>
                <td>{s.revoked ? t('shares.revoked') : formatDate(s.expires_at)}</td>
                <td className="flex gap-2">
                  <CopyButton text={new URL(s.url, location.origin).href} />
                  {!s.revoked && (
                    <Button variant="danger" onClick={() => revoke.mutate(s.id)}>
                      {t('shares.revoke')}
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Page>
  );
}
