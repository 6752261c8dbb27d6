import { randomBytes } from 'node:crypto';
import { mintSession, SESSION_TTL_MS, verifySession } from './share-session';

describe('recipient session cookies', () => {
  const key = randomBytes(32);
  const now = new Date('2030-01-01T00:00:00Z');

  it('round-trips for the same code and key, until it expires', () => {
    const { value, session } = mintSession(key, 'AbCdEfGhIjKlMn', now, null);
    expect(value).toMatch(/^\d+\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}$/);
    expect(session.expiresAt).toBe((now.getTime() + SESSION_TTL_MS) / 1000);
    expect(verifySession(key, 'AbCdEfGhIjKlMn', value, now)).toEqual(session);
    expect(verifySession(key, 'AbCdEfGhIjKlMn', value, new Date(now.getTime() + SESSION_TTL_MS))).toBeUndefined();
  });

  it('gives every session its own id', () => {
    const one = mintSession(key, 'AbCdEfGhIjKlMn', now, null).session.id;
    expect(mintSession(key, 'AbCdEfGhIjKlMn', now, null).session.id).not.toBe(one);
  });

  it('never outlives the share', () => {
    const shareEnds = new Date(now.getTime() + 60_000);
    const { value, session } = mintSession(key, 'AbCdEfGhIjKlMn', now, shareEnds);
    expect(session.expiresAt).toBe(shareEnds.getTime() / 1000);
    expect(verifySession(key, 'AbCdEfGhIjKlMn', value, new Date(shareEnds.getTime() + 1000))).toBeUndefined();
  });

  it('refuses another code, another key and every tampered field', () => {
    const { value } = mintSession(key, 'AbCdEfGhIjKlMn', now, null);
    const [exp, id, mac] = value.split('.');
    const flip = (text: string) => (text[0] === 'A' ? 'B' : 'A') + text.slice(1);
    expect(verifySession(key, 'ZZCdEfGhIjKlMn', value, now)).toBeUndefined();
    expect(verifySession(randomBytes(32), 'AbCdEfGhIjKlMn', value, now)).toBeUndefined();
    for (const forged of [
      `${Number(exp) + 60}.${id}.${mac}`,
      `${exp}.${flip(id)}.${mac}`,
      `${exp}.${id}.${flip(mac)}`,
      `${exp}.${id}`,
      '',
      undefined,
      'x'.repeat(500),
    ])
      expect(verifySession(key, 'AbCdEfGhIjKlMn', forged, now)).toBeUndefined();
  });
});
