import { ConfigError, loadConfig } from './load';

describe('s3_proxy.credential_grace', () => {
  const load = (text: string) => loadConfig({ text, env: {} });

  it('defaults to five minutes and takes a duration, 0 turning it off', () => {
    expect(load('').s3_proxy.credential_grace).toBe(300_000);
    expect(load('s3_proxy: { credential_grace: 90s }').s3_proxy.credential_grace).toBe(90_000);
    expect(load('s3_proxy: { credential_grace: 0s }').s3_proxy.credential_grace).toBe(0);
  });

  it.each(['-5s', 'forever', '2h', '[1]'])('refuses %p naming the key', (value) => {
    expect(() => load(`s3_proxy: { credential_grace: ${value} }`)).toThrow(ConfigError);
    expect(() => load(`s3_proxy: { credential_grace: ${value} }`)).toThrow(/s3_proxy\.credential_grace/);
  });
});
