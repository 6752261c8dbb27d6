import { Counter, Metric, MetricObjectWithValues, MetricType, MetricValueWithName, Registry } from 'prom-client';

/**
 * Counters and histograms for hot paths (the S3 proxy counts every request several times).
 * prom-client's own metrics hash and validate their label values on every call; a tally finds
 * its series by a key the caller already has, adds to plain numbers, and hands the totals to
 * prom-client only when Prometheus scrapes.
 */

/** Most label combinations kept per metric; beyond them events still count, under `other`. */
const MAX_SERIES = 10_000;

type Labels<L extends string> = Record<L, string>;

/**
 * A labelled counter. `add(key, labels, n)`: `key` names the label combination (any string
 * unique to it), `labels` builds the label values the first time the key is seen.
 */
export class CounterTally<L extends string> {
  private readonly pending = new Map<string, { labels: Labels<L>; value: number }>();
  private readonly counter: Counter<L>;

  constructor(options: { name: string; help: string; labelNames: readonly L[]; registry: Registry }) {
    const flush = () => this.flush();
    this.counter = new Counter({
      name: options.name,
      help: options.help,
      labelNames: options.labelNames,
      registers: [options.registry],
      collect() {
        flush();
      },
    });
  }

  add(key: string, labels: () => Labels<L>, n = 1): void {
    let series = this.pending.get(key);
    if (series === undefined) {
      series = seriesFor(this.pending, key, () => ({ labels: labels(), value: 0 }));
    }
    series.value += n;
  }

  private flush(): void {
    for (const series of this.pending.values()) {
      if (series.value === 0) continue;
      this.counter.inc(series.labels, series.value);
      series.value = 0;
    }
  }
}

interface HistogramSeries<L extends string> {
  labels: Labels<L>;
  /** Per bucket, not cumulative; the last one counts what is above every bound. */
  buckets: Float64Array;
  sum: number;
  count: number;
}

/** A labelled histogram, exposed as a Prometheus histogram (`_bucket`, `_sum`, `_count`). */
export class HistogramTally<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, HistogramSeries<L>>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    // A metric to the registry is anything that reports its values through get().
    registry.registerMetric(this as unknown as Metric);
  }

  observe(key: string, labels: () => Labels<L>, value: number): void {
    let series = this.series.get(key);
    if (series === undefined) {
      series = seriesFor(this.series, key, () => ({
        labels: labels(),
        buckets: new Float64Array(this.bounds.length + 1),
        sum: 0,
        count: 0,
      }));
    }
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    series.buckets[i]++;
    series.sum += value;
    series.count++;
  }

  get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const values: MetricValueWithName<string>[] = [];
    for (const series of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += series.buckets[i];
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le: this.bounds[i], ...series.labels },
          value: cumulative,
        });
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', ...series.labels }, value: series.count });
      values.push({ metricName: `${this.name}_sum`, labels: series.labels, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels: series.labels, value: series.count });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      // prom-client declares the type as a numeric enum, but writes and reads the name.
      type: 'histogram' as unknown as MetricType,
      values,
      aggregator: 'sum',
      collect: () => undefined,
    });
  }

  reset(): void {
    this.series.clear();
  }
}

const OVERFLOW_KEY = '\u0000other';

/**
 * A new series for `key`; past the limit, the one series whose label values all read `other`,
 * so a runaway label cannot grow memory or the scrape without bound.
 */
function seriesFor<L extends string, S extends { labels: Labels<L> }>(
  all: Map<string, S>,
  key: string,
  create: () => S,
): S {
  if (all.size < MAX_SERIES) {
    const series = create();
    all.set(key, series);
    return series;
  }
  let other = all.get(OVERFLOW_KEY);
  if (other === undefined) {
    other = create();
    for (const name of Object.keys(other.labels) as L[]) other.labels[name] = 'other';
    all.set(OVERFLOW_KEY, other);
  }
  return other;
}
