import { UsersService } from '../../src/accounts/users.service';
import { Role } from '../../src/users/user.entity';
import type { TestApp } from './app';
import { http, HttpOptions, HttpResult } from './http';

export const PASSWORD = 'correct horse battery staple';

/** A signed-in client: sends the session cookie, and the CSRF header unless told not to. */
export class Session {
  constructor(
    readonly baseUrl: string,
    readonly token: string,
    readonly csrf: string,
  ) {}

  get cookie(): string {
    return `stowage_session=${this.token}; stowage_csrf=${this.csrf}`;
  }

  /** The same session, talking to another instance. */
  on(app: TestApp): Session {
    return new Session(app.url, this.token, this.csrf);
  }

  request(path: string, options: HttpOptions & { csrf?: boolean } = {}): Promise<HttpResult> {
    const headers: Record<string, string> = { cookie: this.cookie, ...(options.headers ?? {}) };
    if (options.csrf !== false) headers['x-csrf-token'] = this.csrf;
    return http(this.baseUrl, path, { ...options, headers });
  }
}

export function cookiesOf(result: HttpResult): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of result.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const index = pair.indexOf('=');
    out[pair.slice(0, index)] = pair.slice(index + 1);
  }
  return out;
}

export function loginRequest(
  app: TestApp,
  username: string,
  password = PASSWORD,
  headers: Record<string, string> = {},
) {
  return http(app.url, '/auth/login/local', { method: 'POST', body: { username, password }, headers });
}

export async function login(app: TestApp, username: string, password = PASSWORD): Promise<Session> {
  const res = await loginRequest(app, username, password);
  if (res.status !== 200) throw new Error(`login of ${username} failed: ${res.status} ${res.text}`);
  const cookies = cookiesOf(res);
  return new Session(app.url, cookies.stowage_session, cookies.stowage_csrf);
}

let counter = 0;

/** Creates a local user directly through the service (fast, no HTTP). */
export async function seedUser(
  app: TestApp,
  options: { username?: string; role?: Role; password?: string; mustChangePassword?: boolean; email?: string } = {},
) {
  const username = options.username ?? `user${process.pid}x${++counter}`;
  return app.app.get(UsersService).createLocal({
    username,
    email: options.email,
    password: options.password ?? PASSWORD,
    role: options.role ?? 'user',
    mustChangePassword: options.mustChangePassword ?? false,
  });
}
