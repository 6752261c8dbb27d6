import { validateSync } from 'class-validator';
import { IsBackendId } from './backend-id';

class Probe {
  @IsBackendId() bid!: unknown;
}

const problems = (bid: unknown) => validateSync(Object.assign(new Probe(), { bid })).length;

describe('IsBackendId', () => {
  it.each(['local', 'minio-eu', 'a', '0_b', 'x'.repeat(63)])('accepts %p', (bid) => {
    expect(problems(bid)).toBe(0);
  });

  it.each(['', 'Local', '-lead', '_lead', 'a/b', '..', 'a\u0000b', 'a b', 'é', 'x'.repeat(64), 7, null, ['local'], {}])(
    'refuses %p',
    (bid) => {
      expect(problems(bid)).toBe(1);
    },
  );
});
