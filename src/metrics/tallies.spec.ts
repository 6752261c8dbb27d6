import { Counter, Histogram, Registry } from 'prom-client';
import { CounterTally, HistogramTally } from './tallies';

const BOUNDS = [0.001, 0.01, 0.1, 1];

/** The exposition text of a registry, minus the metric's own name (so two names compare). */
async function exposition(registry: Registry, name: string): Promise<string> {
  return (await registry.metrics()).split(name).join('M');
}

describe('HistogramTally', () => {
  it('exposes exactly what a prom-client histogram exposes for the same observations', async () => {
    const tallied = new Registry();
    const reference = new Registry();
    const tally = new HistogramTally<'operation'>('t_seconds', 'help', BOUNDS, tallied);
    const histogram = new Histogram({
      name: 'h_seconds',
      help: 'help',
      labelNames: ['operation'],
      buckets: BOUNDS,
      registers: [reference],
    });
    const observations: [string, number][] = [
      ['GetObject', 0.0005],
      ['GetObject', 0.001],
      ['GetObject', 0.05],
      ['PutObject', 0.5],
      ['PutObject', 7],
      ['GetObject', 2],
    ];
    for (const [operation, value] of observations) {
      tally.observe(operation, () => ({ operation }), value);
      histogram.observe({ operation }, value);
    }
    expect(await exposition(tallied, 't_seconds')).toBe(await exposition(reference, 'h_seconds'));
  });

  it('folds label combinations past its limit into one series', async () => {
    const registry = new Registry();
    const tally = new HistogramTally<'key'>('t_seconds', 'help', BOUNDS, registry);
    for (let i = 0; i < 10_050; i++) tally.observe(`k${i}`, () => ({ key: `k${i}` }), 0.5);
    const text = await registry.metrics();
    expect(text).toContain('t_seconds_count{key="other"} 50');
    expect(text.match(/t_seconds_count/g)).toHaveLength(10_001);
  });
});

describe('CounterTally', () => {
  it('hands its counts to prom-client when scraped', async () => {
    const tallied = new Registry();
    const reference = new Registry();
    const tally = new CounterTally({ name: 't_total', help: 'help', labelNames: ['a', 'b'], registry: tallied });
    const counter = new Counter({ name: 'c_total', help: 'help', labelNames: ['a', 'b'], registers: [reference] });
    const events: [string, string, number][] = [
      ['x', '1', 1],
      ['x', '1', 2],
      ['y', '2', 5],
    ];
    for (const [a, b, n] of events) {
      tally.add(`${a}|${b}`, () => ({ a, b }), n);
      counter.inc({ a, b }, n);
    }
    expect(await exposition(tallied, 't_total')).toBe(await exposition(reference, 'c_total'));
    // Counts accumulate across scrapes.
    tally.add('x|1', () => ({ a: 'x', b: '1' }));
    counter.inc({ a: 'x', b: '1' });
    expect(await exposition(tallied, 't_total')).toBe(await exposition(reference, 'c_total'));
  });
});
