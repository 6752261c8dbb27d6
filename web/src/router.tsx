import type { QueryClient } from '@tanstack/react-query';
import { createRootRouteWithContext, createRoute, createRouter, lazyRouteComponent, redirect } from '@tanstack/react-router';
import { Layout } from './components/Layout';
import { listingQuery } from './lib/listing';
import { NotFound } from './screens/NotFound';
import { SignIn } from './screens/SignIn';

const root = createRootRouteWithContext<{ queryClient: QueryClient }>()({ component: Layout, notFoundComponent: NotFound });

const parent = () => root;

const index = createRoute({
  getParentRoute: () => root,
  path: '/',
  beforeLoad: () => {
    throw redirect({ to: '/backends' });
  },
});
const signIn = createRoute({ getParentRoute: () => root, path: '/sign-in', component: SignIn });
const changePassword = createRoute({ getParentRoute: parent, path: '/change-password', component: lazyRouteComponent(() => import('./screens/ChangePassword')) });
const backends = createRoute({ getParentRoute: parent, path: '/backends', component: lazyRouteComponent(() => import('./screens/Backends')) });
const buckets = createRoute({ getParentRoute: parent, path: '/b/$bid', component: lazyRouteComponent(() => import('./screens/Buckets')) });
export const browser = createRoute({
  getParentRoute: () => root,
  path: '/b/$bid/$bucket',
  validateSearch: (search: Record<string, unknown>): { prefix?: string } =>
    typeof search.prefix === 'string' && search.prefix ? { prefix: search.prefix } : {},
  loaderDeps: ({ search }) => ({ prefix: search.prefix ?? '' }),
  // The folder's first page is asked for at once, beside the session and the screen's code; not
  // awaited, so the frame renders meanwhile and the screen shows the rows as soon as they arrive.
  loader: ({ context, params, deps }) => {
    void context.queryClient.prefetchInfiniteQuery(listingQuery(params.bid, params.bucket, deps.prefix)).catch(() => undefined);
  },
  component: lazyRouteComponent(() => import('./screens/Browser')),
});
const bucketSettings = createRoute({ getParentRoute: parent, path: '/b/$bid/$bucket/settings', component: lazyRouteComponent(() => import('./screens/BucketSettings')) });
const shares = createRoute({ getParentRoute: parent, path: '/shares', component: lazyRouteComponent(() => import('./screens/Shares')) });
const credentials = createRoute({ getParentRoute: parent, path: '/credentials', component: lazyRouteComponent(() => import('./screens/Credentials')) });
const users = createRoute({ getParentRoute: parent, path: '/admin/users', component: lazyRouteComponent(() => import('./screens/AdminUsers')) });
const adminBackends = createRoute({ getParentRoute: parent, path: '/admin/backends', component: lazyRouteComponent(() => import('./screens/AdminBackends')) });
const quotas = createRoute({ getParentRoute: parent, path: '/admin/quotas', component: lazyRouteComponent(() => import('./screens/AdminQuotas')) });
// Admin: audit log, dashboard, S3 credentials, anonymous bindings, backend health history.
const audit = createRoute({ getParentRoute: parent, path: '/admin/audit', component: lazyRouteComponent(() => import('./screens/AdminAudit')) });
const dashboard = createRoute({ getParentRoute: parent, path: '/admin/dashboard', component: lazyRouteComponent(() => import('./screens/AdminDashboard')) });
const adminCredentials = createRoute({ getParentRoute: parent, path: '/admin/s3-credentials', component: lazyRouteComponent(() => import('./screens/AdminCredentials')) });
const anonymous = createRoute({ getParentRoute: parent, path: '/admin/anonymous', component: lazyRouteComponent(() => import('./screens/AdminAnonymous')) });
const health = createRoute({ getParentRoute: parent, path: '/admin/health', component: lazyRouteComponent(() => import('./screens/AdminHealth')) });

const routeTree = root.addChildren([
  index,
  signIn,
  changePassword,
  backends,
  buckets,
  browser,
  bucketSettings,
  shares,
  credentials,
  users,
  adminBackends,
  quotas,
  audit,
  dashboard,
  adminCredentials,
  anonymous,
  health,
]);

export const router = createRouter({ routeTree, context: { queryClient: undefined! }, defaultPreload: 'intent' });

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}
