// passport-openidconnect 0.1.2 ships no types: the part of its API Stowage uses.
declare module 'passport-openidconnect' {
  import { Strategy as PassportStrategyBase } from 'passport-strategy';

  export interface StrategyOptions {
    issuer: string;
    authorizationURL: string;
    tokenURL: string;
    clientID: string;
    clientSecret?: string;
    callbackURL?: string;
    scope?: string | string[];
    nonce?: boolean;
    store?: unknown;
    passReqToCallback?: boolean;
    skipUserProfile?: boolean;
  }

  export class Strategy extends PassportStrategyBase {
    constructor(options: StrategyOptions, verify: (...args: never[]) => void);
    name: string;
    authenticate(req: unknown, options?: Record<string, unknown>): void;
    authorizationParams(options: Record<string, unknown>): Record<string, string>;
  }
}
