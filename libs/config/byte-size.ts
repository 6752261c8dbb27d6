/**
 * Byte sizes as people write them: a plain count (`1048576`), or a number with a decimal
 * (`k`, `M`, `G`, `T`, `P`, `E`, also with `B`) or binary (`Ki`, `Mi`, `Gi`, `Ti`, `Pi`, `Ei`,
 * also with `B`) unit, as Kubernetes quantities are written (`8Gi`, `500Mi`, `1.5G`).
 */

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  m: 1e6,
  g: 1e9,
  t: 1e12,
  p: 1e15,
  e: 1e18,
  ki: 2 ** 10,
  mi: 2 ** 20,
  gi: 2 ** 30,
  ti: 2 ** 40,
  pi: 2 ** 50,
  ei: 2 ** 60,
};

const SIZE = /^(\d{1,20})(?:\.(\d{1,9}))?\s?([kmgtpe]i?)?b?$/i;

/** The largest size accepted: what a JavaScript number and a PostgreSQL bigint both hold exactly. */
export const MAX_BYTE_SIZE = Number.MAX_SAFE_INTEGER;

/**
 * The number of bytes `value` stands for, or a description of what is wrong with it. Fractions
 * must come out as whole bytes (`1.5Ki` is 1536; `1.1` is refused).
 */
export function parseByteSize(value: unknown): { bytes: number } | { problem: string } {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || !Number.isInteger(value)) return { problem: 'must be a whole number of bytes' };
    if (value < 0) return { problem: 'must not be negative' };
    if (value > MAX_BYTE_SIZE) return { problem: `must be at most ${MAX_BYTE_SIZE} bytes` };
    return { bytes: value };
  }
  if (typeof value !== 'string') return { problem: 'must be a number of bytes or a size such as 8Gi' };
  const text = value.trim();
  if (text.startsWith('-')) return { problem: 'must not be negative' };
  const match = SIZE.exec(text);
  if (!match) return { problem: 'must be a number of bytes or a size such as 500Mi, 8Gi or 1.5G' };
  const [, whole, fraction = '', unitText = ''] = match;
  const unit = UNITS[unitText.toLowerCase()];
  // Whole part and fraction as exact integers: bigint arithmetic, so no rounding sneaks in.
  const scale = 10n ** BigInt(fraction.length);
  const numerator = (BigInt(whole) * scale + BigInt(fraction || '0')) * BigInt(unit);
  if (numerator % scale !== 0n) return { problem: 'must come to a whole number of bytes' };
  const bytes = numerator / scale;
  if (bytes > BigInt(MAX_BYTE_SIZE)) return { problem: `must be at most ${MAX_BYTE_SIZE} bytes` };
  return { bytes: Number(bytes) };
}
