import { Injectable } from '@nestjs/common';

/**
 * Reads secrets from the environment variables the configuration names
 * (`access_key_env`, `password_hash_env`, ...). The only place outside the config
 * loader that touches the process environment.
 */
@Injectable()
export class EnvService {
  constructor(private readonly env: Record<string, string | undefined>) {}

  get(name: string): string | undefined {
    if (!name) return undefined;
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : value;
  }
}
