// The API's view of the process metrics (engine/metrics.ts, prom-client): request latency and the API's counters,
// with the call sites' simple shape `observeRequest(route, method, status, seconds)` and `count(name, labels, by)`.
import type { Counter } from 'prom-client';
import { processMetrics, type ProcessMetrics } from '../engine/metrics.js';

type CounterName = 'http_fast_path_requests_total' | 'reservation_decisions_total' | 'batch_items_total' | 'batch_poll_replies_read_total';

/** `a="x",b="y"` as label values; anything else is a bug in the call site. */
function labelsOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)="([^"\\]*)"(?:,|$)/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text))) out[m[1]] = m[2];
  if (re.lastIndex !== text.length) throw new Error(`assertion: malformed metric labels ${text}`);
  return out;
}

export class Metrics {
  private readonly counters: Record<CounterName, Counter>;
  private readonly labels = new Map<string, Record<string, string>>();

  constructor(readonly process: ProcessMetrics = processMetrics) {
    this.counters = {
      http_fast_path_requests_total: process.httpFastPathRequests,
      reservation_decisions_total: process.reservationDecisions,
      batch_items_total: process.batchItems,
      batch_poll_replies_read_total: process.batchPollRepliesRead,
    };
  }

  observeRequest(route: string, method: string, status: number, seconds: number): void {
    this.process.httpRequestDuration.observe({ route, method, status: String(status) }, seconds);
  }

  count(name: CounterName, labels = '', by = 1): void {
    const c = this.counters[name];
    if (!labels) return void c.inc(by);
    let l = this.labels.get(labels);
    if (!l) this.labels.set(labels, (l = labelsOf(labels)));
    c.inc(l, by);
  }

  /** The Prometheus text of every family of this process. */
  render(): Promise<string> {
    return this.process.render();
  }
}
