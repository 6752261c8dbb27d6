import { useQueryClient } from '@tanstack/react-query';
import { Link, Outlet, useNavigate, useRouterState } from '@tanstack/react-router';
import { useEffect } from 'react';
import { api } from '../api/client';
import { t, type MessageKey } from '../i18n';
import { canWrite, isAdmin, useMe } from '../lib/session';
import { useTheme } from '../lib/theme';
import { UploadPanel } from '../screens/UploadPanel';
import { CommandPalette } from './CommandPalette';
import { Button, Loading } from './ui';

const PUBLIC_PATHS = ['/sign-in'];

const NAV: { to: string; label: MessageKey; admin?: boolean }[] = [
  { to: '/backends', label: 'nav.backends' },
  { to: '/shares', label: 'nav.shares' },
  { to: '/credentials', label: 'nav.credentials' },
  { to: '/admin/users', label: 'nav.users', admin: true },
  { to: '/admin/backends', label: 'nav.adminBackends', admin: true },
  { to: '/admin/quotas', label: 'nav.quotas', admin: true },
  { to: '/admin/audit', label: 'nav.audit', admin: true },
  { to: '/admin/dashboard', label: 'nav.dashboard', admin: true },
  { to: '/admin/s3-credentials', label: 'nav.adminCredentials', admin: true },
  { to: '/admin/anonymous', label: 'nav.anonymous', admin: true },
  { to: '/admin/health', label: 'nav.health', admin: true },
];

/** One group of the navigation: a list of links, the current screen marked. */
function NavList({ entries, labelledBy }: { entries: typeof NAV; labelledBy?: string }) {
  return (
    <ul className="flex flex-col gap-1" aria-labelledby={labelledBy}>
      {entries.map((n) => (
        <li key={n.to}>
          <Link
            to={n.to}
            className="block rounded px-2 py-1.5 text-sm hover:bg-hover"
            activeProps={{ className: 'bg-hover font-semibold', 'aria-current': 'page' }}
          >
            {t(n.label)}
          </Link>
        </li>
      ))}
    </ul>
  );
}

/** The frame of every screen; sends a visitor without a session to sign in, and a pending password change to its form. */
export function Layout() {
  const path = useRouterState({ select: (s) => s.location.pathname });
  const me = useMe();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [theme, nextTheme] = useTheme();
  const isPublic = PUBLIC_PATHS.includes(path);

  useEffect(() => {
    if (isPublic) return;
    if (me.error?.status === 401) void navigate({ to: '/sign-in', search: {} });
    else if (me.data?.must_change_pw && path !== '/change-password') void navigate({ to: '/change-password' });
  }, [me.error, me.data, path, isPublic, navigate]);

  if (isPublic) return <Outlet />;
  if (!me.data) return <Loading />;

  const signOut = async () => {
    const { data } = await api.POST('/auth/logout');
    queryClient.clear();
    // An OIDC session also ends at the provider (RP-initiated logout) when the answer says where.
    if (data?.redirect && /^https?:\/\//.test(data.redirect)) location.assign(data.redirect);
    else await navigate({ to: '/sign-in' });
  };
  const screens = NAV.filter((n) => !n.admin || isAdmin(me.data));

  return (
    <div className="flex h-full flex-col">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:left-2 focus:top-2 focus:bg-panel focus:p-2">
        {t('app.skip')}
      </a>
      <header className="flex items-center justify-between gap-4 border-b border-line bg-panel px-4 py-2">
        <Link to="/backends" className="text-lg font-semibold">
          {t('app.name')}
        </Link>
        <div className="flex items-center gap-2 text-sm">
          <span className="text-muted">{t('session.signedInAs', { name: me.data.username, role: t(`role.${me.data.role}`) })}</span>
          {!me.data.must_change_pw && <CommandPalette screens={screens} isAdmin={isAdmin(me.data)} canWrite={canWrite(me.data)} onToggleTheme={nextTheme} onSignOut={() => void signOut()} />}
          <Button variant="ghost" onClick={nextTheme} aria-label={t('theme.toggle', { mode: t(`theme.${theme}`) })}>
            {theme === 'dark' ? '☾' : theme === 'light' ? '☀' : '◐'}
          </Button>
          <Button onClick={() => void signOut()}>{t('session.signOut')}</Button>
        </div>
      </header>
      <div className="flex min-h-0 flex-1">
        {!me.data.must_change_pw && (
          <nav aria-label={t('nav.main')} className="w-48 shrink-0 overflow-auto border-r border-line bg-panel p-2">
            <NavList entries={screens.filter((n) => !n.admin)} />
            {screens.some((n) => n.admin) && (
              <>
                <h2 id="nav-admin" className="mt-4 px-2 pb-1 text-xs font-semibold uppercase tracking-wide text-muted">
                  {t('nav.admin')}
                </h2>
                <NavList entries={screens.filter((n) => n.admin)} labelledBy="nav-admin" />
              </>
            )}
          </nav>
        )}
        <main id="main" className="flex min-h-0 min-w-0 flex-1 flex-col overflow-auto">
          {/* An admin screen typed into the address bar by someone else shows no admin controls, only why. */}
          {path.startsWith('/admin/') && !isAdmin(me.data) ? (
            <p role="alert" className="m-6 rounded-md border border-danger px-3 py-2 text-sm text-danger" data-code="forbidden">
              {t('nav.adminsOnly')}
            </p>
          ) : (
            <Outlet />
          )}
        </main>
      </div>
      <UploadPanel />
    </div>
  );
}
