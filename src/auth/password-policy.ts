import { PasswordPolicyConfig } from '@stowage/config';
import { StowageError } from '@stowage/errors';
import { MAX_PASSWORD_LENGTH } from './password-hasher.service';

/** Throws `weak_password` when a new password breaks the configured policy. */
export function assertPasswordPolicy(policy: PasswordPolicyConfig, password: string): void {
  const length = [...password].length;
  if (length < policy.min_length) {
    throw new StowageError('weak_password', `The password must be at least ${policy.min_length} characters.`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    throw new StowageError('weak_password', `The password must be at most ${MAX_PASSWORD_LENGTH} characters.`);
  }
  if (password.trim().length === 0) throw new StowageError('weak_password', 'The password must not be blank.');
}
