// Prometheus text metrics: request latency, decisions and conflicts, event-loop lag, queue depth per shard.
import { monitorEventLoopDelay } from 'node:perf_hooks';

const buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

class Histogram {
  counts = new Array<number>(buckets.length + 1).fill(0);
  sum = 0;
  n = 0;
  observe(v: number) {
    let i = 0;
    while (i < buckets.length && v > buckets[i]) i++;
    this.counts[i]++;
    this.sum += v;
    this.n++;
  }
}

export class Metrics {
  private readonly latency = new Map<string, Histogram>();
  private readonly counters = new Map<string, number>();
  private readonly loop = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.loop.enable();
  }

  observeRequest(route: string, method: string, status: number, seconds: number): void {
    const key = `route="${route}",method="${method}",status="${status}"`;
    let h = this.latency.get(key);
    if (!h) this.latency.set(key, (h = new Histogram()));
    h.observe(seconds);
  }

  count(name: string, labels = '', by = 1): void {
    const key = labels ? `${name}{${labels}}` : name;
    this.counters.set(key, (this.counters.get(key) ?? 0) + by);
  }

  render(extra: string[] = []): string {
    const out: string[] = ['# TYPE http_request_duration_seconds histogram'];
    for (const [labels, h] of this.latency) {
      let acc = 0;
      buckets.forEach((b, i) => {
        acc += h.counts[i];
        out.push(`http_request_duration_seconds_bucket{${labels},le="${b}"} ${acc}`);
      });
      out.push(`http_request_duration_seconds_bucket{${labels},le="+Inf"} ${h.n}`);
      out.push(`http_request_duration_seconds_sum{${labels}} ${h.sum}`);
      out.push(`http_request_duration_seconds_count{${labels}} ${h.n}`);
    }
    for (const [k, v] of this.counters) out.push(`${k} ${v}`);
    out.push('# TYPE nodejs_eventloop_lag_p99_seconds gauge');
    out.push(`nodejs_eventloop_lag_p99_seconds ${this.loop.percentile(99) / 1e9}`);
    out.push(`nodejs_eventloop_lag_max_seconds ${this.loop.max / 1e9}`);
    return [...out, ...extra].join('\n') + '\n';
  }
}
