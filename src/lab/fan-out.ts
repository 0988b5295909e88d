// Seed sections 3.1 and 3.2: a request that calls five services has one deadline, not five. Static
// per-call timeouts fail twice (too short for a dependency that slowed down, too long for an
// optional one); giving every call the whole deadline holds resources on calls nobody will use.
// This scenario runs one service graph three ways at a fixed rate and prints what each cost.
import { monitorEventLoopDelay } from "node:perf_hooks";
import { background } from "../core/index.js";
import { startTimer } from "../core/internal.js";
import { sleep } from "../sync/sleep.js";
import { startFaultUpstream } from "../testing/fault-upstream.js";
import { DEPENDENCIES, FAN_OUT_DEADLINE_MS, graphAtRest, graphUnderLoad } from "./fan-out-graph.js";
import { type FrontCounts, FrontService, STRATEGIES, type Strategy } from "./fan-out-front.js";
import { type LoadResult, autocannonScript, driveLoad } from "./fan-out-load.js";
import {
  type Share,
  type Verdict,
  compareCosts,
  compareShares,
  ratio,
  verdictText,
} from "./fan-out-verdict.js";
import { formatCount, formatMs } from "./format.js";
import type { LabOptions } from "./options.js";
import type { Progress, ResultRow, Scenario, ScenarioResult } from "./scenario.js";
import { fullRunHint, loadScale } from "./quick.js";
import { skippedResult } from "./skipped.js";

/**
 * Requests per second the front service gets. Each costs five upstream calls, and the load
 * generator, the front service and the upstream share this 2-core machine: at this rate all three
 * keep up with room to spare (measured: see docs/lab-fan-out.md).
 */
export const FAN_OUT_RATE = 20;
/** Seconds per variant at scale 1; the default scale (0.25) runs 4 s each. */
const SECONDS_AT_SCALE_1 = 16;
/** The scale of the whole lab's quick run: 2 s per variant. */
const QUICK_SCALE = 0.125;
/** The upstream's seed: every variant sees the same draws in the same order of arrival. */
const SEED = 12;

/** @internal What one variant measured. */
export interface VariantResult {
  readonly strategy: Strategy;
  readonly front: FrontCounts;
  readonly load: LoadResult;
}

/** @internal What a run measured. */
export interface FanOutRun {
  /** In the order of {@link STRATEGIES}. */
  readonly variants: readonly VariantResult[];
  /**
   * The front service's event-loop delay at P99 during the run: what this shared machine's load
   * added to every timer and every answer, whatever the strategy.
   */
  readonly loopLagP99Ms: number;
}

/** @internal How a run of the scenario is sized. */
export interface FanOutPlan {
  readonly rate: number;
  readonly seconds: number;
  /** Whether this is the whole lab's quick run (shortened: the findings say so). */
  readonly quick?: boolean;
}

/** Whole seconds at `scale`, at least one. */
function secondsAt(scale: number): number {
  return Math.max(1, Math.round(SECONDS_AT_SCALE_1 * scale));
}

/** @internal The plan for `options`: whole seconds, at least one per variant. */
export function fanOutPlan(options: LabOptions): FanOutPlan {
  const seconds = secondsAt(loadScale(options, QUICK_SCALE));
  return seconds < secondsAt(options.scale)
    ? { rate: FAN_OUT_RATE, seconds, quick: true }
    : { rate: FAN_OUT_RATE, seconds };
}

const LABEL: Record<Strategy, string> = {
  static: "(1) static per-call timeouts",
  whole: "(2) the whole deadline for every call",
  dynamic: "(3) dynamic budgets with drift compensation",
};

/**
 * @internal Runs the three variants at once, each at `plan.rate` from an autocannon of its own,
 * against one front service and one upstream (a copy of the graph per variant): they share the
 * machine, so a hiccup of this shared machine hits all three alike.
 */
export async function runFanOut(
  autocannon: string,
  plan: FanOutPlan,
  progress: Progress,
): Promise<FanOutRun> {
  await using upstream = await startFaultUpstream(graphAtRest(SEED));
  const front = new FrontService(upstream.url);
  await front.listen();
  const connections = plan.rate; // a second of latency before a connection is the limit
  const driveAll = (seconds: number): Promise<LoadResult[]> =>
    Promise.all(
      STRATEGIES.map((s) =>
        driveLoad(autocannon, { url: `${front.url}/${s}`, rate: plan.rate, connections, seconds }),
      ),
    );
  let slowdown: ReturnType<typeof startTimer> | undefined;
  try {
    // No warm-up run: the variants run at once, so a cold start (JIT, connections, a tracker
    // with no history yet) is the same for all three, and the lab stays short.
    progress.step(
      `fan-out: three variants at once, ${plan.seconds} s at ${plan.rate} requests/s each`,
    );
    front.reset(() => {
      // `orders` slows down halfway through the run, counted from the first request.
      slowdown = startTimer(
        () => {
          upstream.configure(graphUnderLoad(SEED)).catch(() => {});
          progress.tick("orders slows down");
        },
        (plan.seconds * 1_000) / 2,
      );
    });
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const loads = await driveAll(plan.seconds);
    lag.disable();
    await sleep(background(), FAN_OUT_DEADLINE_MS * 2); // the last requests finish
    return {
      variants: STRATEGIES.map((strategy, i) => ({
        strategy,
        front: front.counts(strategy),
        load: loads[i]!,
      })),
      loopLagP99Ms: lag.percentile(99) / 1e6,
    };
  } finally {
    if (slowdown !== undefined) clearTimeout(slowdown);
    await front.close();
  }
}

/** @internal The measures of one variant, as shares and costs. */
export interface Measures {
  readonly success: Share;
  readonly optional: Share;
  readonly p99Ms: number;
  /** Time held on calls cut off, per request, in ms. */
  readonly cutOffMsPerRequest: number;
}

/** @internal The measures of a variant's counts. */
export function measures(v: VariantResult): Measures {
  const optionalCount = DEPENDENCIES.filter((d) => d.optional).length;
  const f = v.front;
  return {
    success: { k: f.succeeded, n: f.requests },
    optional: { k: f.optionalPresent, n: f.succeeded * optionalCount },
    p99Ms: v.load.p99Ms,
    cutOffMsPerRequest: f.requests === 0 ? 0 : f.cutOffMs / f.requests,
  };
}

/** @internal How variant 3 compares with another, measure by measure. */
export interface Comparison {
  readonly success: Verdict;
  readonly optional: Verdict;
  readonly p99: Verdict;
  readonly cutOff: Verdict;
}

/**
 * @internal Variant 3 against `other`. Latency within 15% or 10 ms and held time within 15% or
 * 1 ms per request count as the same: runs on this machine vary that much.
 */
export function compare(dynamic: Measures, other: Measures): Comparison {
  return {
    success: compareShares(dynamic.success, other.success),
    optional: compareShares(dynamic.optional, other.optional),
    p99: compareCosts(dynamic.p99Ms, other.p99Ms, 0.15, 10),
    cutOff: compareCosts(dynamic.cutOffMsPerRequest, other.cutOffMsPerRequest, 0.15, 1),
  };
}

function percent(s: Share): string {
  return `${(ratio(s) * 100).toFixed(1)}% (${formatCount(s.k)} / ${formatCount(s.n)})`;
}

/**
 * @internal Whether every variant got at least 80% of the planned rate. When one did not, the
 * machine (shared, or too small) was the limit and queueing decided the figures: no verdicts.
 */
export function rateSustained(results: readonly VariantResult[], plan: FanOutPlan): boolean {
  return results.every((r) => r.load.rate >= plan.rate * 0.8);
}

function rowsAgainst(
  other: VariantResult,
  dynamic: VariantResult,
  sustained: boolean,
): ResultRow[] {
  const o = measures(other);
  const d = measures(dynamic);
  const c = compare(d, o);
  const group = `${LABEL[other.strategy]} vs ${LABEL.dynamic}`;
  const key = other.strategy;
  const withVerdict = (text: string, v: Verdict): string =>
    `${text}: ${sustained ? verdictText(v) : "no verdict"}`;
  const held = (v: VariantResult, m: Measures): string =>
    `${formatMs(m.cutOffMsPerRequest)} per request (${formatCount(v.front.cutOff)} calls, ` +
    `${formatMs(v.front.cutOffMs)} in all)`;
  return [
    {
      key: `${key}.success`,
      group,
      measure: "requests with every required part in time",
      wrong: { value: ratio(o.success), text: percent(o.success) },
      right: { value: ratio(d.success), text: withVerdict(percent(d.success), c.success) },
    },
    {
      key: `${key}.optional`,
      group,
      measure: "optional parts present in the successful answers",
      wrong: { value: ratio(o.optional), text: percent(o.optional) },
      right: { value: ratio(d.optional), text: withVerdict(percent(d.optional), c.optional) },
    },
    {
      key: `${key}.p99`,
      group,
      measure: "P99 latency at the client (autocannon)",
      unit: "ms",
      wrong: { value: o.p99Ms, text: formatMs(o.p99Ms) },
      right: { value: d.p99Ms, text: withVerdict(formatMs(d.p99Ms), c.p99) },
    },
    {
      key: `${key}.cutOff`,
      group,
      measure: "time held on calls cut off (ended by their timeout or budget)",
      unit: "ms",
      wrong: { value: o.cutOffMsPerRequest, text: held(other, o) },
      right: {
        value: d.cutOffMsPerRequest,
        text: withVerdict(held(dynamic, d), c.cutOff),
      },
    },
    {
      key: `${key}.rate`,
      group,
      measure: "requests answered (rate reached)",
      unit: "count",
      wrong: { value: other.front.requests, text: rateText(other) },
      right: { value: dynamic.front.requests, text: rateText(dynamic) },
    },
  ];
}

function rateText(v: VariantResult): string {
  return `${formatCount(v.front.requests)} (${formatCount(v.load.rate)}/s)`;
}

const MEASURE_NAMES: Record<keyof Comparison, string> = {
  success: "success rate",
  optional: "completeness of the optional parts",
  p99: "P99 latency",
  cutOff: "time held on calls cut off",
};

/** @internal One sentence per comparison: where variant 3 won, lost and tied, from the verdicts. */
export function fanOutFindings(results: readonly VariantResult[], plan: FanOutPlan): string[] {
  const dynamic = results.find((r) => r.strategy === "dynamic");
  if (dynamic === undefined) return [];
  const out: string[] = [];
  if (plan.quick === true) {
    const full = fullRunHint("fan-out", (scale) => secondsAt(scale) * 1_000);
    const fewest = Math.min(...results.map((r) => r.front.requests));
    out.push(
      `Quick run (the whole lab's): ${plan.seconds} s per variant, as few as ` +
        `${formatCount(fewest)} requests in one, so only large differences get a verdict, and a ` +
        `P99 of so few requests is close to their maximum; ${full}.`,
    );
  }
  if (!rateSustained(results, plan)) {
    const short = results.filter((r) => r.load.rate < plan.rate * 0.8);
    return [
      ...out,
      `No verdict: the machine did not sustain ${plan.rate} requests/s in ` +
        `${short.map((r) => `${LABEL[r.strategy]} (${formatCount(r.load.rate)}/s)`).join(", ")}, ` +
        `so queueing decided the figures. Run it again when the machine is less busy.`,
    ];
  }
  for (const other of results.filter((r) => r !== dynamic)) {
    const c = compare(measures(dynamic), measures(other));
    const names = (v: Verdict): string[] =>
      (Object.keys(c) as (keyof Comparison)[])
        .filter((k) => c[k] === v)
        .map((k) => MEASURE_NAMES[k]);
    const parts = [
      names("better").length > 0 ? `better on ${names("better").join(", ")}` : "",
      names("worse").length > 0 ? `WORSE on ${names("worse").join(", ")}` : "",
      names("same").length > 0 ? `the same within noise on ${names("same").join(", ")}` : "",
    ].filter((p) => p !== "");
    out.push(`Against ${LABEL[other.strategy]}, dynamic budgets were ${parts.join("; ")}.`);
  }
  const errors = results.filter((r) => r.load.errors > 0);
  if (errors.length > 0) {
    out.push(
      `The load generator saw connection errors or timeouts in ` +
        `${errors.map((r) => `${LABEL[r.strategy]} (${formatCount(r.load.errors)})`).join(", ")}.`,
    );
  }
  return out;
}

/** @internal Seed sections 3.1 and 3.2: one deadline over five calls, split three ways. */
export const fanOut: Scenario = {
  id: "fan-out",
  title: "five calls under one deadline: static timeouts, the whole deadline, dynamic budgets",
  goArticle:
    "sections 3.1 and 3.2: one deadline over a batch of calls (errgroup.WithContext), and a " +
    "budget per dependency from its P95 latency, weight and load factor, with the time a call " +
    "did not use given to the calls still running (drift compensation)",
  wrong: "(1) static timeouts or (2) the whole deadline per call",
  right: "(3) timebound/fanout batch",

  async run(options: LabOptions, progress: Progress): Promise<ScenarioResult> {
    const plan = fanOutPlan(options);
    const autocannon = autocannonScript();
    // autocannon is a development dependency: without it the scenario is skipped, not the lab.
    if (typeof autocannon !== "string") return skippedResult("fan-out", autocannon.missing);
    const run = await runFanOut(autocannon, plan, progress);
    const results = run.variants;
    const [stat, whole, dynamic] = results as [VariantResult, VariantResult, VariantResult];
    const deps = DEPENDENCIES.map(
      (d) => `${d.name}${d.optional ? " (optional)" : ""} ${d.staticTimeoutMs} ms`,
    ).join(", ");
    return {
      setup:
        `a node:http front service calls five dependencies (one fault-injecting upstream, a ` +
        `route each, heavy-tailed latency; ads hang 3%, recommendations fail 5%) under a ` +
        `${formatMs(FAN_OUT_DEADLINE_MS)} deadline per request, at ${plan.rate} requests/s ` +
        `(autocannon) for ${plan.seconds} s per variant (` +
        (plan.quick === true
          ? "the whole lab's quick run"
          : `x${options.scale} of ${SECONDS_AT_SCALE_1} s`) +
        `); halfway through, orders slows down under load. Static ` +
        `timeouts: ${deps}. Latencies and the deadline are not scaled. The three variants ran ` +
        `at once, each on a copy of the graph; the front service's event loop lagged ` +
        `${formatMs(run.loopLagP99Ms)} at P99 (the machine's load, the same for all three)`,
      rows: [
        ...rowsAgainst(stat, dynamic, rateSustained(results, plan)),
        ...rowsAgainst(whole, dynamic, rateSustained(results, plan)),
      ],
      findings: fanOutFindings(results, plan),
    };
  },
};
