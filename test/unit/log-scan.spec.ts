import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { scanLogDir } = require('../harness/log-scan/scan') as {
  scanLogDir(dir: string): { file: string; reqId: string; status: number }[];
};

const line = (fields: Record<string, unknown>) => JSON.stringify({ service: 'stowage', ...fields });
const request = (reqId: string, status: number) => line({ level: 'info', reqId, msg: 'request', status });

describe('e2e log scan', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'log-scan-spec-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, lines: string[]) => writeFileSync(join(dir, name), `${lines.join('\n')}\n`);

  it('flags an error-level line for a request answered 4xx', () => {
    write('a.log', [line({ level: 'error', reqId: 'r1', msg: 'unhandled error' }), request('r1', 400)]);
    expect(scanLogDir(dir)).toEqual([expect.objectContaining({ file: 'a.log', reqId: 'r1', status: 400 })]);
  });

  it('flags a warn line with a stack for a request answered 2xx, and numeric levels', () => {
    write('a.log', [
      line({ level: 'warn', reqId: 'r2', msg: 'odd', err: { type: 'Error', stack: 'Error: x\n at y' } }),
      request('r2', 200),
      line({ level: 60, reqId: 'r3', msg: 'fatal' }),
      request('r3', 404),
    ]);
    expect(scanLogDir(dir).map((v) => v.reqId)).toEqual(['r2', 'r3']);
  });

  it('accepts errors for 5xx answers, lines without a request, and requests with no status line', () => {
    write('a.log', [
      line({ level: 'error', reqId: 'r4', msg: 'unhandled error', err: { stack: 's' } }),
      request('r4', 500),
      line({ level: 'error', msg: 'boot problem', err: { stack: 's' } }),
      line({ level: 'error', reqId: 'proxy-1', msg: 'S3 proxy request failed' }),
      line({ level: 'warn', reqId: 'r5', msg: 'database refused a value', sqlState: '22P02' }),
      request('r5', 400),
      'not json',
    ]);
    expect(scanLogDir(dir)).toEqual([]);
  });

  it('keeps request ids of different files apart', () => {
    write('a.log', [line({ level: 'error', reqId: 'same', msg: 'x' }), request('same', 502)]);
    write('b.log', [request('same', 200)]);
    expect(scanLogDir(dir)).toEqual([]);
  });
});
