import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useNavigate } from '@tanstack/react-router';
import { type FormEvent, useState } from 'react';
import { api, unwrap } from '../api/client';
import { Button, ErrorMessage, Field } from '../components/ui';
import { t } from '../i18n';

/** The OIDC start route the API names (same-origin paths only), asked to return to the dashboard. */
function oidcStart(loginUrl: string | undefined): string {
  const path = loginUrl && loginUrl.startsWith('/') && !loginUrl.startsWith('//') ? loginUrl : '/auth/login/oidc';
  return `${path}${path.includes('?') ? '&' : '?'}next=${encodeURIComponent('/backends')}`;
}

export function SignIn() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const config = useQuery({ queryKey: ['auth-config'], queryFn: () => unwrap(api.GET('/api/auth/config')) });
  const modes: string[] = config.data?.modes ?? ['local'];

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const result = await unwrap(api.POST('/auth/login/local', { body: { username, password } }));
      queryClient.clear();
      await navigate({ to: result.must_change_pw ? '/change-password' : '/backends' });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="flex min-h-full items-center justify-center p-4">
      <form onSubmit={submit} className="flex w-full max-w-sm flex-col gap-3 rounded-lg border border-line bg-panel p-6" aria-labelledby="sign-in-title">
        <h1 id="sign-in-title" className="text-xl font-semibold">
          {t('signIn.title')}
        </h1>
        {(modes.includes('local') || modes.includes('static')) && (
          <>
            <Field label={t('signIn.username')} autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} autoFocus />
            <Field label={t('signIn.password')} type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
            <ErrorMessage error={error} />
            <Button type="submit" variant="primary" disabled={busy}>
              {t('signIn.submit')}
            </Button>
          </>
        )}
        {modes.includes('oidc') && (
          <>
            {(modes.includes('local') || modes.includes('static')) && (
              <p className="text-center text-xs text-muted" aria-hidden>
                {t('signIn.or')}
              </p>
            )}
            {/* A full-page navigation: the provider's sign-in page, then /auth/callback, then back here. */}
            <a
              href={oidcStart(config.data?.oidc?.login_url)}
              className="rounded-md border border-line bg-panel px-3 py-1.5 text-center text-sm font-medium hover:bg-hover"
              data-testid="oidc-sign-in"
            >
              {config.data?.oidc?.label || t('signIn.oidc')}
            </a>
          </>
        )}
      </form>
    </main>
  );
}
