import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const OIDC_CLIENT_ID = 'stowage';
export const OIDC_CLIENT_SECRET = 'oidc-client-secret-for-tests-only';
export const OIDC_SECRET_ENV = 'STOWAGE_TEST_OIDC_SECRET';

export interface OidcAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
  preferred_username?: string;
  groups?: string[] | string;
  [claim: string]: unknown;
}

export type ForgeMode = 'issuer' | 'audience' | 'expired' | 'foreign-key' | null;

/**
 * A real OpenID provider (`oidc-provider`) on 127.0.0.1 in a child process of the test, steered
 * over IPC: its accounts and their claims, the redirect URIs Stowage's instances use, signing-key
 * rotation, forged ID tokens (signed by the provider's own key, with a wrong claim), and outages.
 */
export class TestOidcProvider {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly stderr: string[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly issuer: string,
  ) {
    child.on('message', (message: { id?: number; ok?: boolean; result?: unknown; error?: string }) => {
      const waiter = message.id === undefined ? undefined : this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id!);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(`oidc provider: ${message.error}`));
    });
  }

  static async start(): Promise<TestOidcProvider> {
    const child = spawn(process.execPath, [join(__dirname, 'oidc', 'provider.mjs')], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, NODE_OPTIONS: '', NODE_ENV: 'test' },
    });
    const stderr: string[] = [];
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
    const issuer = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`oidc provider did not start: ${stderr.join('')}`)), 20_000);
      child.once('message', (message: { ready?: boolean; issuer?: string }) => {
        clearTimeout(timer);
        if (message.ready && message.issuer) resolve(message.issuer);
        else reject(new Error('unexpected first message'));
      });
      child.once('exit', (code) => reject(new Error(`oidc provider exited (${code}): ${stderr.join('')}`)));
    });
    const provider = new TestOidcProvider(child, issuer);
    provider.stderr.push(...stderr);
    return provider;
  }

  private send<T>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, cmd, args });
    });
  }

  /** Registers Stowage's client with the callback URLs of the given instances, and the accounts. */
  configure(appUrls: string[], accounts: Record<string, OidcAccount> = {}): Promise<void> {
    return this.send('configure', {
      clients: [
        {
          client_id: OIDC_CLIENT_ID,
          client_secret: OIDC_CLIENT_SECRET,
          redirect_uris: appUrls.map((url) => `${url}/auth/callback`),
          post_logout_redirect_uris: appUrls.map((url) => `${url}/`),
          grant_types: ['authorization_code'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
      accounts,
    });
  }

  setAccounts(accounts: Record<string, OidcAccount>): Promise<void> {
    return this.send('accounts', accounts);
  }

  /** A new signing key in front; the old one stays published. Returns the new key id. */
  async rotateKeys(): Promise<string> {
    return (await this.send<{ kid: string }>('rotate')).kid;
  }

  forge(mode: ForgeMode): Promise<void> {
    return this.send('forge', { mode });
  }

  /** Closes the listener (connections refused) until `resume()`. */
  stop(): Promise<void> {
    return this.send('stop');
  }

  resume(): Promise<void> {
    return this.send('start');
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}
