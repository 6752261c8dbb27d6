import type { Logger } from 'pino';

export interface StopOnSignalOptions {
  /** Past this many milliseconds the process exits 1 with work still in flight. */
  timeoutMs: number;
  /** What stopping waits for, logged when it starts ("draining in-flight requests"). */
  draining: string;
  /** What the timeout leaves unfinished, logged when it fires ("requests still in flight"). */
  unfinished: string;
}

/**
 * On the first SIGTERM or SIGINT, closes `app` and exits 0 once it has closed, or 1 if closing
 * fails or outlasts `timeoutMs`. A second signal while stopping is ignored.
 */
export function stopOnSignal(app: { close(): Promise<void> }, logger: Logger, options: StopOnSignalOptions): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, timeoutMs: options.timeoutMs }, `shutting down: ${options.draining}`);
    const deadline = setTimeout(() => {
      logger.error(`shutdown timeout reached; exiting with ${options.unfinished}`);
      logger.flush(() => process.exit(1));
    }, options.timeoutMs);
    deadline.unref();
    app.close().then(
      () => {
        logger.info('shutdown complete');
        logger.flush(() => process.exit(0));
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        logger.flush(() => process.exit(1));
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
