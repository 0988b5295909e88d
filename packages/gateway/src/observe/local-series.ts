// Series that every request touches, kept in plain numbers and handed to prom-client only when
// /metrics is scraped. A prom-client observation looks its labels up on every call (a closure, a
// label check, a hash of the label set): about 2 µs a request over the gateway's three
// per-request series, measured in the proxy's own CPU profile. Here a request costs a map
// lookup per label value and a few increments. The registry renders these as it renders its own metrics: it asks
// any registered metric for `get()` (name, help, type, values), which is what these answer.
import type { Counter, Metric, Registry } from "prom-client";

/** What prom-client's registry reads from a metric when it renders /metrics. */
type Rendered = Awaited<ReturnType<Counter["get"]>>;
type Sample = Rendered["values"][number] & { metricName?: string };

/** One label set's counts. */
interface Cell {
  readonly labels: Readonly<Record<string, string>>;
  /** Per bucket (the last one +Inf) for a histogram, one value for a counter. */
  readonly counts: Float64Array;
  sum: number;
}

/** The part shared by both kinds: cells by label key, and the registry's contract. */
abstract class LocalSeries {
  readonly name: string;
  readonly help: string;
  abstract readonly type: "counter" | "histogram";
  readonly aggregator = "sum";
  protected readonly cells = new Map<string, Cell>();
  readonly #labelNames: readonly string[];
  readonly #width: number;

  constructor(name: string, help: string, labelNames: readonly string[], width: number) {
    this.name = name;
    this.help = help;
    this.#labelNames = labelNames;
    this.#width = width;
  }

  /** Registers this series on `registry`, which renders it with the rest. */
  register(registry: Registry): this {
    // prom-client's types name its own classes only; its registry needs `name` and `get()`.
    registry.registerMetric(this as unknown as Metric);
    return this;
  }

  /** A new cell for the label values `values` (in label-name order), under `key`. */
  protected add(key: string, values: readonly string[]): Cell {
    const labels: Record<string, string> = {};
    this.#labelNames.forEach((n, i) => (labels[n] = values[i]!));
    const cell: Cell = { labels, counts: new Float64Array(this.#width), sum: 0 };
    this.cells.set(key, cell);
    return cell;
  }

  protected abstract samples(cell: Cell, out: Sample[]): void;

  /** What the registry renders (prom-client's metric contract). */
  get(): Promise<Rendered> {
    const values: Sample[] = [];
    for (const cell of this.cells.values()) this.samples(cell, values);
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    } as unknown as Rendered);
  }

  /** Forgets every count (prom-client's `registry.resetMetrics()`). */
  reset(): void {
    this.cells.clear();
  }
}

/**
 * A counter over a fixed list of labels, rendered as prom-client renders its Counter.
 *
 * @example
 * ```ts
 * const requests = new LocalCounter("requests_total", "Requests", ["route", "status"]);
 * requests.register(registry).inc(["/pay", "200"]);
 * ```
 */
export class LocalCounter extends LocalSeries {
  readonly type = "counter";

  constructor(name: string, help: string, labelNames: readonly string[]) {
    super(name, help, labelNames, 1);
  }

  /**
   * Cells by label value, one map level per label but the last, whose map holds the cells: a
   * call looks its values up as they are, with no key joined from them (a new string to hash).
   */
  #index = new Map<string, unknown>();

  /** Adds one to the label values `values`, given in label-name order. */
  inc(values: readonly string[]): void {
    const last = values.length - 1;
    let level = this.#index;
    for (let i = 0; i < last; i++) {
      const value = values[i]!;
      let next = level.get(value) as Map<string, unknown> | undefined;
      if (next === undefined) level.set(value, (next = new Map<string, unknown>()));
      level = next;
    }
    const leaf = last < 0 ? "" : values[last]!;
    let cell = level.get(leaf) as Cell | undefined;
    if (cell === undefined) level.set(leaf, (cell = this.add(values.join("\u0000"), values)));
    cell.counts[0]! += 1;
  }

  override reset(): void {
    super.reset();
    this.#index.clear();
  }

  protected samples(cell: Cell, out: Sample[]): void {
    out.push({ labels: cell.labels, value: cell.counts[0]! });
  }
}

/**
 * A histogram over one label, rendered as prom-client renders its Histogram (cumulative
 * `_bucket` lines with `le`, then `_sum` and `_count`).
 *
 * @example
 * ```ts
 * const latency = new LocalHistogram("duration_seconds", "Latency", "route", [0.01, 0.1, 1]);
 * latency.register(registry).observe("/pay", 0.042);
 * ```
 */
export class LocalHistogram extends LocalSeries {
  readonly type = "histogram";
  readonly #upper: readonly number[];

  constructor(name: string, help: string, label: string, buckets: readonly number[]) {
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i]! > buckets[i - 1]!))
        throw new RangeError(`${name}: buckets must rise, got ${buckets.join(", ")}`);
    }
    super(name, help, [label], buckets.length + 1);
    this.#upper = buckets;
  }

  /** Counts `value` under the label value `labelValue`. */
  observe(labelValue: string, value: number): void {
    const cell = this.cells.get(labelValue) ?? this.add(labelValue, [labelValue]);
    const upper = this.#upper;
    let i = 0;
    while (i < upper.length && value > upper[i]!) i++;
    cell.counts[i]! += 1;
    cell.sum += value;
  }

  protected samples(cell: Cell, out: Sample[]): void {
    const upper = this.#upper;
    const bucket = `${this.name}_bucket`;
    let running = 0;
    for (let i = 0; i <= upper.length; i++) {
      running += cell.counts[i]!;
      const le = i < upper.length ? upper[i]! : "+Inf";
      out.push({ metricName: bucket, labels: { le, ...cell.labels }, value: running });
    }
    out.push({ metricName: `${this.name}_sum`, labels: cell.labels, value: cell.sum });
    out.push({ metricName: `${this.name}_count`, labels: cell.labels, value: running });
  }
}
