import passport from 'passport';

type Authenticator = passport.Authenticator;

/**
 * Each app instance registers its strategies on its own Passport instance instead of the
 * process-wide one, so two instances in one process (the tests' replicas) never use each
 * other's strategy, configuration or services.
 */
const instances = new WeakMap<object, Authenticator>();

export function passportFor(strategy: object): Authenticator {
  let instance = instances.get(strategy);
  if (!instance) {
    instance = new passport.Authenticator();
    instances.set(strategy, instance);
  }
  return instance;
}

/**
 * The Express-style response a Passport strategy writes to (`statusCode`, `setHeader`, `end`):
 * on Fastify the reply has none of these, so the strategy writes here instead and the route
 * renders what it asked for (a redirect) through the Fastify reply. `ended` resolves when the
 * strategy finished the response itself instead of calling back.
 */
export class PassportResponse {
  statusCode = 200;
  private readonly headers = new Map<string, string>();
  private finish!: () => void;
  readonly ended = new Promise<void>((resolve) => (this.finish = resolve));

  setHeader(name: string, value: string | number | readonly string[]): this {
    this.headers.set(name.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value));
    return this;
  }

  getHeader(name: string): string | undefined {
    return this.headers.get(name.toLowerCase());
  }

  end(): void {
    this.finish();
  }

  /** The redirect the strategy asked for, if it ended with one. */
  get redirect(): string | undefined {
    const location = this.headers.get('location');
    return this.statusCode >= 300 && this.statusCode < 400 && location ? location : undefined;
  }
}

export type PassportOutcome<T> = { user: T } | { redirect: string };

/**
 * Runs a strategy of `passport` on a request: resolves with the user on success, with the
 * redirect when the strategy redirects (the start of an OIDC sign-in), and hands failures and
 * errors to `decide`, whose result (or throw) is the outcome.
 */
export function runStrategy<T>(
  authenticator: Authenticator,
  name: string,
  request: object,
  options: Record<string, unknown>,
  decide: (err: unknown, user: T | false, info: unknown, status?: number) => T,
): Promise<PassportOutcome<T>> {
  const response = new PassportResponse();
  const authenticated = new Promise<PassportOutcome<T>>((resolve, reject) => {
    const middleware = authenticator.authenticate(
      name,
      { ...options, session: false },
      (err: unknown, user: T | false, info: unknown, status?: number) => {
        try {
          resolve({ user: decide(err, user, info, status) });
        } catch (thrown) {
          reject(thrown);
        }
      },
    ) as (req: object, res: object, next: (err?: unknown) => void) => void;
    middleware(request, response, (err) => reject(err ?? new Error('the strategy passed without a user')));
  });
  const ended = response.ended.then((): PassportOutcome<T> => {
    const redirect = response.redirect;
    if (!redirect) throw new Error(`the strategy ended the response with ${response.statusCode}`);
    return { redirect };
  });
  return Promise.race([authenticated, ended]);
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The user a sign-in strategy accepted, for the route to start a session for. */
    signedIn?: import('../../users/user-snapshot').UserSnapshot;
    /** Where the OIDC start route sends the browser (the provider's authorization URL). */
    oidcRedirect?: string;
  }
}
