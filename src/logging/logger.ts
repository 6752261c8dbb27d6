import { LoggerService } from '@nestjs/common';
import pino, { Logger } from 'pino';
import { LogConfig } from '@stowage/config';

/** Header and field names whose values never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.secret',
  '*.secret_key',
  '*.secretKey',
  '*.token',
];

/**
 * Errors as logged: type, message, stack and code, but never the bound parameters of a
 * failed query (they may hold hashes, tokens or sealed secrets).
 */
export function serializeError(err: unknown): Record<string, unknown> {
  const serialized = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  delete serialized.parameters;
  delete serialized.driverError;
  return serialized;
}

export function createLogger(config: LogConfig, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: config.level,
    base: { service: 'stowage' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError },
    formatters: { level: (label) => ({ level: label }) },
  };
  if (config.format === 'text') {
    // Plain single-line text without an extra dependency: level, time, message, then fields as JSON.
    const out = destination ?? process.stdout;
    return pino(options, {
      write(line: string) {
        const { level, time, msg, service: _service, ...rest } = JSON.parse(line) as Record<string, unknown>;
        const fields = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
        out.write(`${String(time)} ${String(level).toUpperCase()} ${String(msg ?? '')}${fields}\n`);
      },
    });
  }
  if (destination) return pino(options, destination);
  // Buffered, asynchronous writes: one syscall per 4 KiB instead of one per line. A timer
  // flushes quiet periods so lines never wait long; `serve` flushes before exiting.
  const logger = pino(options, pino.destination({ dest: 1, sync: false, minLength: 4096 }));
  setInterval(() => logger.flush(), 1000).unref();
  return logger;
}

const STARTUP_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory']);

/** Adapts pino to Nest's LoggerService so framework messages are structured too. */
export class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string) {
    // Nest's start-up chatter (one line per module and route) is only interesting when debugging.
    if (context && STARTUP_CONTEXTS.has(context)) this.logger.debug({ context }, String(message));
    else this.logger.info({ context }, String(message));
  }
  error(message: unknown, traceOrContext?: string, context?: string) {
    const ctx = context ?? traceOrContext;
    if (message instanceof Error) this.logger.error({ context: ctx, err: message }, message.message);
    else this.logger.error({ context: ctx }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}
