import { createHash } from 'node:crypto';
import { encodeQr, qrPath, type QrCode } from '../../web/src/lib/qr';

/** The dashboard's QR encoder (share links): structure checked here, output pinned to codes a decoder read. */

const bits = (code: QrCode) => code.modules.map((row) => row.map((m) => (m ? 1 : 0)).join('')).join('\n');
const digest = (code: QrCode) => createHash('sha256').update(bits(code)).digest('hex').slice(0, 16);

/** The 15 format bits of the first copy (around the top-left finder), most significant first. */
function formatBits(code: QrCode): number {
  const m = code.modules;
  const get = (x: number, y: number) => (m[y][x] ? 1 : 0);
  const seq = [0, 1, 2, 3, 4, 5].map((i) => get(8, i)).concat([get(8, 7), get(8, 8), get(7, 8)], [9, 10, 11, 12, 13, 14].map((i) => get(14 - i, 8)));
  // seq[i] is bit i (least significant first).
  return seq.reduce<number>((acc, bit, i) => acc | (bit << i), 0);
}

/** The same bits read from the second copy (bottom-left column and top-right row). */
function formatBitsSecond(code: QrCode): number {
  const m = code.modules;
  const n = code.size;
  let v = 0;
  for (let i = 0; i < 8; i++) v |= (m[8][n - 1 - i] ? 1 : 0) << i;
  for (let i = 8; i < 15; i++) v |= (m[n - 15 + i][8] ? 1 : 0) << i;
  return v;
}

describe('QR encoder', () => {
  it('picks the smallest version that holds the text', () => {
    // Byte-mode capacities at level M: version 1 holds 14 bytes, version 2 holds 26.
    expect(encodeQr('a'.repeat(14), 'M').version).toBe(1);
    expect(encodeQr('a'.repeat(15), 'M').version).toBe(2);
    expect(encodeQr('a'.repeat(26), 'M').version).toBe(2);
    expect(encodeQr('a'.repeat(27), 'M').version).toBe(3);
    // Level L, version 40: 2953 bytes.
    expect(encodeQr('a'.repeat(2953), 'L').version).toBe(40);
    expect(() => encodeQr('a'.repeat(2954), 'L')).toThrow(RangeError);
    // UTF-8: "é" is two bytes.
    expect(encodeQr('é'.repeat(7), 'M').version).toBe(1);
    expect(encodeQr('é'.repeat(8), 'M').version).toBe(2);
  });

  it('draws finders, timing patterns and the dark module', () => {
    // Level M byte capacities: version 6 holds 106, 7 holds 122, 18 holds 563, 19 holds 614.
    for (const [length, version] of [[10, 1], [120, 7], [600, 19]]) {
      const code = encodeQr('x'.repeat(length), 'M');
      expect(code.version).toBe(version);
      expect(code.size).toBe(version * 4 + 17);
      const n = code.size;
      for (const [ox, oy] of [[0, 0], [n - 7, 0], [0, n - 7]]) {
        for (let d = 0; d < 7; d++) {
          // The outer ring of each finder is dark, the ring inside it light, the centre dark.
          expect([code.modules[oy][ox + d], code.modules[oy + 6][ox + d], code.modules[oy + d][ox], code.modules[oy + d][ox + 6]]).toEqual([true, true, true, true]);
        }
        expect(code.modules[oy + 1][ox + 1]).toBe(false);
        expect(code.modules[oy + 3][ox + 3]).toBe(true);
      }
      for (let i = 8; i < n - 8; i++) {
        expect(code.modules[6][i]).toBe(i % 2 === 0);
        expect(code.modules[i][6]).toBe(i % 2 === 0);
      }
      expect(code.modules[n - 8][8]).toBe(true);
    }
  });

  it('writes the level and mask in both format copies with a valid BCH code', () => {
    const levels = { L: 1, M: 0, Q: 3, H: 2 } as const;
    for (const level of ['L', 'M', 'Q', 'H'] as const) {
      const code = encodeQr('https://stowage.example.com/s/AbCdEfGhIjKlMn', level);
      const raw = formatBits(code);
      expect(formatBitsSecond(code)).toBe(raw);
      const value = raw ^ 0x5412;
      const data = value >>> 10;
      expect(data >>> 3).toBe(levels[level]);
      expect(data & 7).toBe(code.mask);
      let rem = data;
      for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
      expect(value & 0x3ff).toBe(rem & 0x3ff);
    }
  });

  it('matches codes that a QR decoder (OpenCV) read back as their text', () => {
    // Pinned: each of these was rendered and decoded to exactly its input.
    expect(digest(encodeQr('http://127.0.0.1:8080/s/3cPNlHkbRaW8eQ', 'M'))).toBe('8f6cb6de4f2ba876');
    expect(digest(encodeQr('https://stowage.example.com/s/AbCdEfGhIjKlMn', 'M'))).toBe('f7379abb64dcca23');
  });

  it('draws one path segment per run of dark modules, inside the quiet zone', () => {
    const code = encodeQr('hello', 'M');
    const path = qrPath(code);
    const runs = code.modules.reduce((n, row) => n + row.filter((m, x) => m && !row[x - 1]).length, 0);
    expect(path.match(/M/g)).toHaveLength(runs);
    expect(path.startsWith('M4 4h7')).toBe(true);
  });
});
