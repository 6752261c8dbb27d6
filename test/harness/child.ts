import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export interface Child {
  process: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the first JSON log line whose `msg` matches. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<Record<string, unknown>>;
  exit: Promise<number | null>;
}

/** Runs a TypeScript entry point of the project in a child process (ts-node, transpile only). */
export function runTs(entry: string, args: string[], env: Record<string, string>, nodeArgs: string[] = []): Child {
  const child = spawn(
    process.execPath,
    [...nodeArgs, '-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join(ROOT, entry), ...args],
    {
      cwd: ROOT,
      env: { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: Array<() => void> = [];
  const collect = (sink: string[]) => (chunk: Buffer) => {
    sink.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    waiters.forEach((w) => w());
  };
  child.stdout.on('data', collect(stdout));
  child.stderr.on('data', collect(stderr));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitForLog = (pattern: RegExp, timeoutMs = 30_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        for (const line of stdout) {
          try {
            const parsed = JSON.parse(line) as Record<string, unknown>;
            if (typeof parsed.msg === 'string' && pattern.test(parsed.msg)) return resolve(parsed);
          } catch {
            // not a log line
          }
        }
      };
      waiters.push(check);
      check();
      setTimeout(
        () => reject(new Error(`no log line matching ${pattern} within ${timeoutMs}ms; stderr: ${stderr.join(' | ')}`)),
        timeoutMs,
      ).unref();
      void exit.then(() => setTimeout(() => reject(new Error(`process exited; stderr: ${stderr.join(' | ')}`)), 100));
    });
  return { process: child, stdout, stderr, waitForLog, exit };
}
