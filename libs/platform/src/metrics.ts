// Prometheus metrics: one registry per process with default Node metrics, and helpers
// that create a metric once by name so libraries and services can share it.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  private readonly made = new Map<string, Counter | Gauge | Histogram>();

  constructor(readonly service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry });
  }

  counter(name: string, help: string, labelNames: string[] = []): Counter {
    return this.once(name, () => new Counter({ name, help, labelNames, registers: [this.registry] })) as Counter;
  }

  /** `collect`, when given, runs at every scrape to set the value (e.g. an age that grows by itself). */
  gauge(name: string, help: string, labelNames: string[] = [], collect?: (this: Gauge) => void): Gauge {
    return this.once(
      name,
      () => new Gauge({ name, help, labelNames, registers: [this.registry], ...(collect ? { collect } : {}) }),
    ) as Gauge;
  }

  histogram(name: string, help: string, labelNames: string[] = [], buckets?: number[]): Histogram {
    return this.once(
      name,
      () => new Histogram({ name, help, labelNames, registers: [this.registry], ...(buckets ? { buckets } : {}) }),
    ) as Histogram;
  }

  private once(name: string, make: () => Counter | Gauge | Histogram) {
    let m = this.made.get(name);
    if (!m) {
      m = make();
      this.made.set(name, m);
    }
    return m;
  }
}
