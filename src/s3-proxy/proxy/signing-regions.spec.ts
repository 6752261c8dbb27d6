import { SigningRegions } from './signing-regions';

describe('SigningRegions', () => {
  it('accepts us-east-1 and the backends’ regions, looking again for a region not seen before', () => {
    let backends = ['eu-west-1', ''];
    const regions = new SigningRegions([], () => backends);
    expect(regions.check('us-east-1')).toBeUndefined();
    expect(regions.check('eu-west-1')).toBeUndefined();
    expect(regions.check('ap-nowhere-9')).toBe('us-east-1');
    expect(regions.check('')).toBe('us-east-1');
    backends = ['eu-west-1', 'garage'];
    expect(regions.check('garage')).toBeUndefined();
  });

  it('accepts exactly the configured regions when there are any', () => {
    const regions = new SigningRegions(['eu-west-1', 'eu-central-1'], () => ['us-west-2']);
    expect(regions.check('eu-central-1')).toBeUndefined();
    expect(regions.check('us-east-1')).toBe('eu-west-1');
    expect(regions.check('us-west-2')).toBe('eu-west-1');
  });
});
