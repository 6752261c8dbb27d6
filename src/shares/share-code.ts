import { randomBytes } from 'node:crypto';

/** A share code: 10 random bytes (80 bits) in base64url, always 14 characters. */
export const SHARE_CODE_PATTERN = /^[A-Za-z0-9_-]{14}$/;

export function newShareCode(): string {
  return randomBytes(10).toString('base64url');
}

export function isShareCode(value: string): boolean {
  return SHARE_CODE_PATTERN.test(value);
}

/** The expiry presets of the share dialog; `never` means no expiry. */
export const EXPIRY_PRESETS = {
  '1h': 3_600_000,
  '1d': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
  never: null,
};
export type ExpiryPreset = keyof typeof EXPIRY_PRESETS;
