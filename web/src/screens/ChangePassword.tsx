import { useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { api, unwrap } from '../api/client';
import { Button, ErrorMessage, Field, Page } from '../components/ui';
import { t } from '../i18n';
import { useMe } from '../lib/session';

export default function ChangePassword() {
  const me = useMe();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<unknown>();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (next !== repeat) return setError(new Error(t('password.mismatch')));
    setError(undefined);
    try {
      await unwrap(api.POST('/api/me/password', { body: { current_password: current, new_password: next } }));
      await queryClient.invalidateQueries({ queryKey: ['me'] });
      await navigate({ to: '/backends' });
    } catch (err) {
      setError(err);
    }
  };

  return (
    <Page title={t('password.title')}>
      <form onSubmit={submit} className="flex max-w-sm flex-col gap-3">
        {me.data?.must_change_pw && <p className="text-sm">{t('password.required')}</p>}
        <Field label={t('password.current')} type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
        <Field label={t('password.new')} type="password" autoComplete="new-password" required value={next} onChange={(e) => setNext(e.target.value)} />
        <Field label={t('password.confirm')} type="password" autoComplete="new-password" required value={repeat} onChange={(e) => setRepeat(e.target.value)} />
        <ErrorMessage error={error} />
        <Button type="submit" variant="primary">
          {t('password.submit')}
        </Button>
      </form>
    </Page>
  );
}
