// The resilience suite: per-call overhead on the success path (a no-op async function), our
// policies against cockatiel's and opossum's equivalents, in the same process and rounds; plus
// CPU time and bytes allocated per call. The goal: the seed's composition (fallback, breaker,
// retry, per-attempt timeout) at least 10x cockatiel's `wrap` in throughput, under 1 µs a call,
// with fewer bytes per call.
import { getHeapSpaceStatistics } from "node:v8";
import * as cockatiel from "cockatiel";
import Opossum from "opossum";
import { background, withCancel, type Context } from "../../src/index.js";
import {
  type Policy,
  bulkhead,
  circuitBreaker,
  fallback,
  hedge,
  pipeline,
  retry,
  retryBudget,
  timeout,
} from "../../src/resilience/index.js";
import {
  type Row,
  compare,
  formatRow,
  gc,
  header,
  machine,
  median,
  verdict,
  writeJson,
} from "../harness.js";

/** Calls one timed function makes, one after the other (each awaited): amortises the timing. */
const BATCH = 200;

// eslint-disable-next-line @typescript-eslint/require-await -- the no-op async function measured
const noop = async (): Promise<number> => 1;

type Call = () => Promise<unknown>;

function batch(call: Call): () => Promise<void> {
  return async () => {
    for (let i = 0; i < BATCH; i++) await call();
  };
}

/**
 * Our policies as the seed configures them; cockatiel's and opossum's closest equivalents. Each
 * pipeline gets policies of its own (a breaker's or bulkhead's state is not shared).
 */
function contenders(ctx: Context) {
  const seedBreaker = () =>
    circuitBreaker({ failureRateThreshold: 50, slowCallDurationMs: 600, halfOpenPermits: 10 });
  const seedRetry = () => retry({ maxAttempts: 3 });
  const seedTimeout = () => timeout(800);
  const ourBulkhead = () => bulkhead({ maxConcurrent: 100, maxQueue: 100 });
  const ours = { timeout: seedTimeout(), retry: seedRetry(), breaker: seedBreaker() };
  const seed = pipeline(fallback(0), seedBreaker(), seedRetry(), seedTimeout());
  const recommended = pipeline(fallback(0), seedRetry(), seedBreaker(), seedTimeout());
  const breakerTimeout = pipeline(seedBreaker(), seedTimeout());
  // Five strategies, as Polly's published figure has five: fallback, bulkhead, retry, breaker, timeout.
  const five = pipeline(fallback(0), ourBulkhead(), seedRetry(), seedBreaker(), seedTimeout());
  // Every policy: the pipeline of the end-to-end test (retry with a budget, a hedge after 50 ms).
  const budget = retryBudget();
  const full = pipeline(
    fallback(0),
    ourBulkhead(),
    retry({ maxAttempts: 3, budget }),
    hedge({ delayMs: 50, budget }),
    seedBreaker(),
    seedTimeout(),
  );
  const c = cockatiel;
  const cBreaker = (): cockatiel.CircuitBreakerPolicy =>
    c.circuitBreaker(c.handleAll, {
      halfOpenAfter: 60_000,
      breaker: new c.SamplingBreaker({ threshold: 0.5, duration: 10_000 }),
    });
  const cTimeout = () => c.timeout(800, c.TimeoutStrategy.Cooperative);
  const cRetry = () => c.retry(c.handleAll, { maxAttempts: 2 });
  const cFallback = () => c.fallback(c.handleAll, () => 0);
  const theirs = {
    timeout: cTimeout(),
    retry: cRetry(),
    breaker: cBreaker(),
    wrap: c.wrap(cFallback(), cBreaker(), cRetry(), cTimeout()),
    bulkhead: c.bulkhead(100, 100),
    wrapFive: c.wrap(cFallback(), c.bulkhead(100, 100), cRetry(), cBreaker(), cTimeout()),
  };
  const opossum = new Opossum(noop, {
    timeout: 800,
    errorThresholdPercentage: 50,
    resetTimeout: 60_000,
  });
  const run =
    (p: Policy): Call =>
    () =>
      p.execute(ctx, noop);
  return {
    bare: noop as Call,
    timeout: run(ours.timeout),
    retry: run(ours.retry),
    breaker: run(ours.breaker),
    seed: run(seed),
    recommended: run(recommended),
    breakerTimeout: run(breakerTimeout),
    bulkhead: run(ourBulkhead()),
    five: run(five),
    full: run(full),
    cockatielTimeout: (() => theirs.timeout.execute(noop)) as Call,
    cockatielRetry: (() => theirs.retry.execute(noop)) as Call,
    cockatielBreaker: (() => theirs.breaker.execute(noop)) as Call,
    cockatielWrap: (() => theirs.wrap.execute(noop)) as Call,
    cockatielBulkhead: (() => theirs.bulkhead.execute(noop)) as Call,
    cockatielWrapFive: (() => theirs.wrapFive.execute(noop)) as Call,
    opossumFire: (() => opossum.fire()) as Call,
    shutdown: () => opossum.shutdown(),
  };
}

type Contenders = ReturnType<typeof contenders>;
/** One side of a comparison: its name in the table, and which contender it calls. */
type Side = readonly [name: string, call: Exclude<keyof Contenders, "shutdown">];

/** The timed comparisons, ours against theirs; the first one's goal is the suite's. */
const COMPARISONS: readonly {
  readonly name: string;
  readonly ours: Side;
  readonly theirs: Side;
  readonly goal?: number;
}[] = [
  {
    name: "seed pipeline vs cockatiel wrap",
    ours: ["pipeline(fallback, breaker, retry, timeout)", "seed"],
    theirs: ["cockatiel wrap(fallback, breaker, retry, timeout)", "cockatielWrap"],
    goal: 10,
  },
  {
    name: "pipeline (retry outside breaker) vs wrap",
    ours: ["pipeline(fallback, retry, breaker, timeout)", "recommended"],
    theirs: ["cockatiel wrap (same 4 policies)", "cockatielWrap"],
  },
  {
    name: "timeout(800) vs cockatiel cooperative",
    ours: ["timeout(800)", "timeout"],
    theirs: ["cockatiel timeout(800, Cooperative)", "cockatielTimeout"],
  },
  {
    name: "retry() vs cockatiel retry",
    ours: ["retry({ maxAttempts: 3 })", "retry"],
    theirs: ["cockatiel retry(handleAll)", "cockatielRetry"],
  },
  {
    name: "circuitBreaker() vs cockatiel breaker",
    ours: ["circuitBreaker(seed config)", "breaker"],
    theirs: ["cockatiel circuitBreaker(SamplingBreaker)", "cockatielBreaker"],
  },
  {
    name: "bulkhead() vs cockatiel bulkhead",
    ours: ["bulkhead({ maxConcurrent: 100, maxQueue: 100 })", "bulkhead"],
    theirs: ["cockatiel bulkhead(100, 100)", "cockatielBulkhead"],
  },
  {
    name: "five policies vs cockatiel wrap of five",
    ours: ["pipeline(fallback, bulkhead, retry, breaker, timeout)", "five"],
    theirs: ["cockatiel wrap(fallback, bulkhead, retry, breaker, timeout)", "cockatielWrapFive"],
  },
  {
    name: "all policies vs cockatiel wrap of five",
    ours: ["pipeline(fallback, bulkhead, retry+budget, hedge, breaker, timeout)", "full"],
    theirs: ["cockatiel wrap(fallback, bulkhead, retry, breaker, timeout)", "cockatielWrapFive"],
  },
  {
    name: "pipeline(breaker, timeout) vs opossum fire",
    ours: ["pipeline(breaker, timeout(800))", "breakerTimeout"],
    theirs: ["opossum fire (timeout 800 + breaker)", "opossumFire"],
  },
];

/** CPU time (user + system) per call, µs: less sensitive than wall time to other tenants. */
async function cpuMicros(call: Call, calls: number): Promise<number> {
  for (let i = 0; i < 2_000; i++) await call(); // warm
  const samples: number[] = [];
  for (let r = 0; r < 5; r++) {
    const before = process.cpuUsage();
    for (let i = 0; i < calls; i++) await call();
    const used = process.cpuUsage(before);
    samples.push((used.user + used.system) / calls);
  }
  return median(samples);
}

/**
 * Bytes allocated per call: young-generation growth over a short run that no scavenge
 * interrupted (a run where the space shrank is discarded), median of several runs.
 */
async function bytesPerCall(call: Call): Promise<number> {
  const CALLS = 200;
  const newSpace = (): number =>
    getHeapSpaceStatistics().find((s) => s.space_name === "new_space")!.space_used_size;
  for (let i = 0; i < 1_000; i++) await call();
  const samples: number[] = [];
  for (let tries = 0; samples.length < 9 && tries < 100; tries++) {
    gc();
    const before = newSpace();
    for (let i = 0; i < CALLS; i++) await call();
    const after = newSpace();
    if (after >= before) samples.push((after - before) / CALLS);
  }
  return Math.round(median(samples));
}

export async function run(): Promise<void> {
  const started = performance.now();
  const m = machine();
  console.log(`resilience benchmarks: node ${m.node}, ${m.cpu} x${m.cores}, ${m.date}\n`);
  const parent = withCancel(background(), { name: "bench-parent" });
  const k = contenders(parent);
  try {
    console.log("running timed comparisons (tinybench, 5 interleaved rounds each)...");
    const side = ([name, call]: Side) => ({ name, fn: batch(k[call]) });
    const rows: Row[] = [];
    for (const { name, ours, theirs, goal } of COMPARISONS) {
      const options = goal === undefined ? { batch: BATCH } : { batch: BATCH, goal };
      rows.push(await compare(name, side(ours), side(theirs), options));
    }

    console.log("measuring CPU time and bytes allocated per call...");
    const perCall: { name: string; cpuMicros: number; bytes: number }[] = [];
    const measured: [string, Call, number][] = [
      ["bare await noop()", k.bare, 100_000],
      ["timebound timeout(800)", k.timeout, 50_000],
      ["timebound retry()", k.retry, 50_000],
      ["timebound circuitBreaker()", k.breaker, 50_000],
      ["timebound seed pipeline (4 policies)", k.seed, 50_000],
      ["timebound pipeline(fallback, retry, breaker, timeout)", k.recommended, 50_000],
      ["timebound pipeline(breaker, timeout)", k.breakerTimeout, 50_000],
      ["timebound bulkhead()", k.bulkhead, 50_000],
      ["timebound five policies (fallback, bulkhead, retry, breaker, timeout)", k.five, 50_000],
      ["timebound all policies (+ retry budget, hedge 50 ms)", k.full, 20_000],
      ["cockatiel bulkhead(100, 100)", k.cockatielBulkhead, 20_000],
      [
        "cockatiel wrap of five (fallback, bulkhead, retry, breaker, timeout)",
        k.cockatielWrapFive,
        5_000,
      ],
      ["cockatiel wrap(fallback, breaker, retry, timeout)", k.cockatielWrap, 5_000],
      ["cockatiel timeout(800, Cooperative)", k.cockatielTimeout, 5_000],
      ["opossum fire (timeout + breaker)", k.opossumFire, 20_000],
    ];
    for (const [name, call, calls] of measured) {
      perCall.push({
        name,
        cpuMicros: await cpuMicros(call, calls),
        bytes: await bytesPerCall(call),
      });
    }

    console.log(`\n${header()}`);
    for (const r of rows) console.log(formatRow(r));
    const bare = perCall[0]!;
    console.log(
      "\nper call (CPU µs = user + system time / calls; bytes = young-generation growth)",
    );
    console.log(
      `${"".padEnd(72)}${"CPU µs".padStart(9)}${"over bare".padStart(11)}${"bytes".padStart(8)}`,
    );
    for (const p of perCall) {
      const over = p === bare ? "" : (p.cpuMicros - bare.cpuMicros).toFixed(3);
      console.log(
        `  ${p.name.padEnd(70)}${p.cpuMicros.toFixed(3).padStart(9)}${over.padStart(11)}${String(p.bytes).padStart(8)}`,
      );
    }
    console.log("  (Polly v8, published: 2.09 µs and 40 B a call for five strategies, .NET)");
    const seed = perCall.find((p) => p.name.startsWith("timebound seed"))!;
    // The same four policies wrapped by cockatiel (not its wrap of five, listed first).
    const wrap = perCall.find((p) => p.name.startsWith("cockatiel wrap(fallback, breaker"))!;
    const goals = {
      throughput: verdict(rows[0]!),
      underOneMicro: seed.cpuMicros < 1 ? "PASS" : `MISS (${seed.cpuMicros.toFixed(2)} µs)`,
      fewerBytes: seed.bytes < wrap.bytes ? "PASS" : `MISS (${seed.bytes} B vs ${wrap.bytes} B)`,
    };
    console.log(
      `\ngoals: seed pipeline >= 10x cockatiel: ${goals.throughput}; under 1 µs CPU a call: ` +
        `${goals.underOneMicro}; fewer bytes than cockatiel: ${goals.fewerBytes}`,
    );
    const file = writeJson("resilience", {
      suite: "resilience",
      machine: m,
      durationMs: Math.round(performance.now() - started),
      batch: BATCH,
      rows,
      perCall,
      goals,
    });
    console.log(`wrote ${file} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  } finally {
    k.shutdown();
    parent.cancel();
  }
}
