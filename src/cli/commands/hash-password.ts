import * as argon2 from 'argon2';
import { ARGON2_OPTIONS } from '../../auth/password-hasher.service';

/** The encoded argon2id hash of a password, as `auth.static.password_hash_env` expects it. */
export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, ARGON2_OPTIONS);
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
