import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, unwrap } from '../api/client';
import { QrCode } from '../components/QrCode';
import { Button, Check, CopyButton, ErrorMessage, Field, Modal, Select } from '../components/ui';
import { t } from '../i18n';
import { baseName } from '../lib/format';

const EXPIRIES = ['1h', '1d', '7d', '30d', 'never'] as const;

export function ShareDialog({ bid, bucket, objectKey, onClose }: { bid: string; bucket: string; objectKey: string; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [expires, setExpires] = useState<(typeof EXPIRIES)[number]>('7d');
  const [password, setPassword] = useState('');
  const [max, setMax] = useState('0');
  const [inline, setInline] = useState(true);
  const create = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/api/shares', {
          body: {
            backend_id: bid,
            bucket,
            key: objectKey,
            expires_in: expires,
            disposition: inline ? 'inline' : 'attachment',
            ...(password ? { password } : {}),
            ...(Number(max) > 0 ? { max_downloads: Number(max) } : {}),
          },
        }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['shares'] }),
  });
  const revoke = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/api/shares/{id}', { params: { path: { id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['shares'] }),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  // The API answers a path when server.public_url is unset: the link people copy and scan is absolute.
  const url = create.data?.url ? new URL(create.data.url, location.origin).href : undefined;
  return (
    <Modal open onOpenChange={onClose} title={t('share.title', { name: baseName(objectKey) })}>
      {url ? (
        <div className="flex flex-col gap-3">
          <Field label={t('share.link')} readOnly value={url} onFocus={(e) => e.target.select()} data-testid="share-url" />
          <div className="flex justify-center">
            <QrCode text={url} label={t('share.qr')} />
          </div>
          {revoke.isSuccess && (
            <p role="status" className="text-sm text-muted">
              {t('share.revokedNow')}
            </p>
          )}
          <ErrorMessage error={revoke.error} />
          <div className="flex justify-end gap-2">
            <CopyButton text={url} />
            {!revoke.isSuccess && (
              <Button variant="danger" disabled={revoke.isPending} onClick={() => revoke.mutate(create.data!.id)}>
                {t('shares.revoke')}
              </Button>
            )}
            <Button variant="primary" onClick={onClose}>
              {t('common.close')}
            </Button>
          </div>
        </div>
      ) : (
        <form onSubmit={submit} className="flex flex-col gap-3">
          <Select label={t('share.expires')} value={expires} onChange={(v) => setExpires(v as typeof expires)} options={EXPIRIES.map((e) => ({ value: e, label: t(`share.expires.${e}`) }))} />
          <Field label={t('share.password')} type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
          <Field label={t('share.maxDownloads')} type="number" min={0} value={max} onChange={(e) => setMax(e.target.value)} />
          <Check label={t('share.inline')} checked={inline} onChange={(e) => setInline(e.target.checked)} />
          <ErrorMessage error={create.error} />
          <div className="flex justify-end gap-2">
            <Button onClick={onClose}>{t('common.cancel')}</Button>
            <Button type="submit" variant="primary" disabled={create.isPending}>
              {t('share.create')}
            </Button>
          </div>
        </form>
      )}
    </Modal>
  );
}
