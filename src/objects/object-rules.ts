import { StowageError } from '@stowage/errors';
import { objectKeyProblem } from '@stowage/s3-naming';

/** The largest object a single upload request may carry (S3's own single-PUT limit). */
export const MAX_SINGLE_UPLOAD_BYTES = 5 * 1024 ** 3;

/** A key named by a request must follow the naming rules (`invalid_key`). */
export function assertKey(key: string): void {
  const problem = objectKeyProblem(key);
  if (problem) throw new StowageError('invalid_key', undefined, `key: ${problem}`);
}

/** The longest Content-Type accepted for an object. */
export const MAX_MEDIA_TYPE_LENGTH = 255;

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
// A quoted-string of visible ASCII and spaces (no HTAB, no control characters), with quoted-pairs.
const QUOTED = '"(?:[ !#-\\[\\]-~]|\\\\[ -~])*"';
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(?: *; *${TOKEN}=(?:${TOKEN}|${QUOTED}))* *$`);

/** Why a Content-Type is not a usable media type (RFC 9110 §8.3.1), or undefined when it is. */
export function mediaTypeProblem(value: string): string | undefined {
  if (value.length > MAX_MEDIA_TYPE_LENGTH) return `must be at most ${MAX_MEDIA_TYPE_LENGTH} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'must not contain control characters';
  if (!MEDIA_TYPE.test(value)) return 'must be a media type such as "text/plain; charset=utf-8"';
  return undefined;
}

/** A Content-Type the client sent must be a media type (`bad_request`). */
export function assertMediaType(value: string | undefined, field = 'Content-Type'): void {
  if (value === undefined || value === '') return;
  const problem = mediaTypeProblem(value);
  if (problem) throw new StowageError('bad_request', undefined, `${field}: ${problem}`);
}
