import { ValueTransformer } from 'typeorm';

/** PostgreSQL returns bigint as a string; sizes and counts fit a JS number (< 2^53). */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};
