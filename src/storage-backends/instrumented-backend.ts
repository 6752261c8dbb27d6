import { Counter, Histogram } from 'prom-client';
import { isStowageError } from '@stowage/errors';
import { Backend } from './backend';

export interface BackendMetrics {
  duration: Histogram<'backend' | 'operation' | 'outcome'>;
  errors: Counter<'backend' | 'operation' | 'code'>;
}

const UNTIMED = new Set(['close', 'id', 'displayName', 'capabilities']);

/**
 * Wraps a driver so every upstream call is timed and every failure counted, by backend and
 * operation. Streams returned by a call are not included in its duration (only the time to
 * the first byte), which is what the latency of an upstream means to a dashboard.
 */
export function instrumentBackend(backend: Backend, metrics: BackendMetrics): Backend {
  return new Proxy(backend, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || typeof property !== 'string' || UNTIMED.has(property)) return value;
      return async (...args: unknown[]) => {
        const end = metrics.duration.startTimer({ backend: target.id, operation: property });
        try {
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          end({ outcome: 'ok' });
          return result;
        } catch (err) {
          const code = isStowageError(err) ? err.code : 'internal';
          end({ outcome: code === 'backend_error' || code === 'internal' ? 'error' : 'refused' });
          metrics.errors.inc({ backend: target.id, operation: property, code });
          throw err;
        }
      };
    },
  });
}
