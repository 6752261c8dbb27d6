import { ROLE_RANK } from '../../src/users/user-snapshot';
import { ROLES } from '../../src/users/user.entity';
import { TestApp, TestStack } from '../harness/app';
import { http } from '../harness/http';
import { registeredRoutes, Route } from '../harness/routes';
import { login, seedUser, Session } from '../harness/session';

/** The routes anyone may call without a session. Every other route must refuse with 401. */
const PUBLIC_ROUTES = [
  'GET /healthz',
  'GET /readyz',
  'GET /metrics',
  'POST /auth/login/local',
  'GET /auth/login/oidc',
  'GET /auth/callback',
  'POST /auth/logout',
  'GET /api/auth/config',
  'GET /s/:code',
  'GET /s/assets/share.js',
  'GET /s/assets/share.css',
  'GET /s/:code/info',
  'POST /s/:code/unlock',
  'GET /s/:code/raw',
  // The dashboard's page for any other GET (it holds no data; the API routes it calls are guarded).
  'GET /*',
];

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const concrete = (path: string) =>
  path.replace(/:id\b/g, '00000000-0000-4000-8000-000000000000').replace(/:(\w+)/g, 'x$1');

describe('every registered route', () => {
  let stack: TestStack;
  let app: TestApp;
  let routes: Route[];
  const sessions: Record<string, Session> = {};

  beforeAll(async () => {
    stack = await TestStack.start({ s3: false });
    app = await stack.boot({ config: { ratelimit: { login_per_ip: 0, api_per_minute: 0 } } });
    routes = registeredRoutes(app);
    for (const role of ROLES)
      sessions[role] = await login(app, (await seedUser(app, { role, username: `matrix-${role}` })).username);
  });
  afterAll(() => stack.stop());

  it('finds the routes (sanity check of the enumeration)', () => {
    expect(routes.length).toBeGreaterThanOrEqual(12);
    expect(routes.map((r) => `${r.method} ${r.path}`)).toEqual(expect.arrayContaining(PUBLIC_ROUTES));
  });

  it('declares access on every route: public ones are exactly the allow-list', () => {
    expect(
      routes
        .filter((r) => r.isPublic)
        .map((r) => `${r.method} ${r.path}`)
        .sort(),
    ).toEqual([...PUBLIC_ROUTES].sort());
    expect(routes.filter((r) => !r.isPublic && !r.rule)).toEqual([]);
    for (const route of routes.filter((r) => r.path.startsWith('/api/admin/'))) expect(route.rule?.role).toBe('admin');
  });

  it('refuses every non-public route without a session (401 unauthorized)', async () => {
    for (const route of routes) {
      const res = await http(app.url, concrete(route.path), { method: route.method });
      // HEAD answers carry no body, so only their status can be checked.
      const code = route.method === 'HEAD' ? 'unauthorized' : res.body?.error?.code;
      if (route.isPublic) expect([route.path, res.status]).not.toEqual([route.path, 401]);
      else
        expect([route.method, route.path, res.status, code]).toEqual([route.method, route.path, 401, 'unauthorized']);
    }
  });

  it('refuses every mutation without the CSRF header (403 csrf_invalid)', async () => {
    for (const route of routes.filter((r) => !r.isPublic && MUTATING.has(r.method))) {
      const res = await sessions.admin.request(concrete(route.path), { method: route.method, csrf: false, body: {} });
      expect([route.method, route.path, res.status, res.body?.error?.code]).toEqual([
        route.method,
        route.path,
        403,
        'csrf_invalid',
      ]);
    }
  });

  it('holds the role matrix for readonly, user and admin', async () => {
    for (const route of routes.filter((r) => !r.isPublic)) {
      for (const role of ROLES) {
        const res = await sessions[role].request(concrete(route.path), {
          method: route.method,
          body: MUTATING.has(route.method) ? {} : undefined,
        });
        const allowed = ROLE_RANK[role] >= ROLE_RANK[route.rule!.role];
        const verdict = `${route.method} ${route.path} as ${role}`;
        if (allowed) expect([verdict, res.status]).not.toEqual([verdict, 403]);
        else
          expect([verdict, res.status, route.method === 'HEAD' ? 'forbidden' : res.body?.error?.code]).toEqual([
            verdict,
            403,
            'forbidden',
          ]);
        expect([verdict, res.status]).not.toEqual([verdict, 401]);
      }
    }
  });
});
