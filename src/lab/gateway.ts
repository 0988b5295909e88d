// Seed section 3.3 through timebound's gateway: the gateway process in front of a fault-injecting
// upstream (heavy-tailed latency, errors, hangs, one outage), under a fixed request rate, as a
// plain proxy, with the seed's route and with timebound's best. Measured by the client.
import { formatCount, formatMs } from "./format.js";
import {
  type GatewayFigures,
  RECOVERY_SLACK,
  type Timeline,
  gatewayFigures,
} from "./gateway-figures.js";
import { type LoadRun, driveGateway, loadAutocannon } from "./gateway-load.js";
import { type GatewayProcess, findGateway, startGatewayProcess } from "./gateway-process.js";
import {
  GATEWAY_VARIANTS,
  type GatewayVariant,
  SEED_TIMEOUT_MS,
  gatewayYaml,
} from "./gateway-variants.js";
import { scaled } from "./nested-deadlines.js";
import type { LabOptions } from "./options.js";
import type { Progress, ResultRow, Scenario, ScenarioResult } from "./scenario.js";
import { fullRunHint, loadScale } from "./quick.js";
import { skippedResult } from "./skipped.js";
import {
  type Metric,
  SEED_REPORTED,
  capital,
  higherBy,
  measurement,
  percent,
  seedRows as sharedSeedRows,
} from "./seed-table.js";
import { type FaultConfig, startFaultUpstream } from "../testing/index.js";

/**
 * Requests per second: the highest at which, on the project's shared 2-core machine (load
 * generator, gateway and upstream on the same two cores), every variant was sent its full load
 * (docs/lab-gateway.md has the measurements).
 */
export const GATEWAY_RATE = 100;
/** One variant's run at scale 1 (4 s at the default 0.25, 16 s with `--scale 1`). */
const RUN_MS = 16_000;
/** The scale of the whole lab's quick run: 3 s per variant. */
const QUICK_SCALE = 0.1875;
/** The upstream's outage, as shares of the run. */
const OUTAGE = { from: 0.25, to: 0.65 } as const;
/** Recovery is judged in windows of a sixteenth of the run. */
const WINDOWS_PER_RUN = 16;
/** How long the clients wait before they give up. */
const CLIENT_TIMEOUT_MS = 2_000;
/**
 * The quick run's clients give up sooner, so that the requests a plain proxy lets hang through
 * the outage are given up (and counted) within a run this short; still past the seed's 800 ms.
 */
const QUICK_CLIENT_TIMEOUT_MS = 1_000;
/** The breaker's open duration at scale 1. */
const OPEN_MS = 2_000;
const ITEMS = 20;

/** @internal The upstream between outages: heavy-tailed, failing now and then, hanging rarely, slower when busy. */
export const GATEWAY_UPSTREAM: FaultConfig = {
  latency: { type: "lognormal", medianMs: 20, sigma: 1, maxMs: 10_000 },
  errorRate: 0.03,
  hangRate: 0.005,
  capacity: 50,
  seed: 33,
};

/** @internal How a run is sized. */
export interface GatewayPlan {
  readonly rate: number;
  readonly runMs: number;
  readonly timeline: Timeline;
  readonly openMs: number;
  /** Whether this is the whole lab's quick run (shortened, clients giving up sooner). */
  readonly quick: boolean;
  /** How long the clients wait before they give up. */
  readonly clientTimeoutMs: number;
}

/** @internal The plan for `scale` (and a rate, for tests); `quick` marks the whole lab's quick run. */
export function gatewayPlan(scale: number, rate = GATEWAY_RATE, quick = false): GatewayPlan {
  const runMs = scaled(RUN_MS, scale);
  return {
    rate,
    quick,
    clientTimeoutMs: quick ? QUICK_CLIENT_TIMEOUT_MS : CLIENT_TIMEOUT_MS,
    runMs,
    timeline: {
      outageFromMs: Math.round(runMs * OUTAGE.from),
      outageToMs: Math.round(runMs * OUTAGE.to),
      windowMs: Math.max(50, Math.round(runMs / WINDOWS_PER_RUN)),
      endMs: runMs,
    },
    openMs: scaled(OPEN_MS, scale),
  };
}

/** @internal What one variant measured. */
export interface GatewayRun {
  readonly variant: GatewayVariant;
  readonly figures: GatewayFigures;
  readonly load: Omit<LoadRun, "records">;
  readonly upstreamReceived: number;
  readonly upstreamPeakInFlight: number;
}

/** @internal Runs each variant in turn: a gateway process of its own, one upstream reconfigured for each. */
export async function runGateway(
  plan: GatewayPlan,
  progress: Progress,
  variants: readonly GatewayVariant[] = GATEWAY_VARIANTS,
): Promise<GatewayRun[] | string> {
  const command = findGateway();
  if (typeof command === "string") return command;
  const autocannon = await loadAutocannon();
  if (typeof autocannon === "string") return autocannon;
  await using upstream = await startFaultUpstream(GATEWAY_UPSTREAM);
  const runs: GatewayRun[] = [];
  let gateway: GatewayProcess | undefined;
  try {
    for (const variant of variants) {
      progress.step(
        `gateway: ${variant.label}, ${formatCount(plan.rate)} requests/s for ${formatMs(plan.runMs)}`,
      );
      const yaml = gatewayYaml(variant, upstream.url, plan.openMs);
      // One process for every variant (a start under tsx takes seconds): the next configuration
      // is applied by a reload, which starts its routes, breakers and caches afresh.
      if (gateway === undefined) gateway = await startGatewayProcess(command, yaml);
      else await gateway.reconfigure(yaml);
      await upstream.resetStats();
      // The outage counts from here, and the load's clock starts right after.
      await upstream.configure({
        ...GATEWAY_UPSTREAM,
        outages: [
          { fromMs: plan.timeline.outageFromMs, toMs: plan.timeline.outageToMs, mode: "hang" },
        ],
      });
      const { records, ...load } = await driveGateway(autocannon, {
        url: gateway.url,
        rate: plan.rate,
        durationMs: plan.runMs,
        clientTimeoutMs: plan.clientTimeoutMs,
        items: ITEMS,
      });
      const stats = await upstream.stats();
      runs.push({
        variant,
        figures: gatewayFigures(records, plan.timeline),
        load,
        upstreamReceived: stats.received,
        upstreamPeakInFlight: stats.peakInFlight,
      });
    }
  } finally {
    await gateway?.stop();
  }
  return runs;
}

// ---- the table -------------------------------------------------------------------------------

/** @internal The table's metrics. A fallback's share is reported, not judged: it is the point of one. */
export const GATEWAY_METRICS: readonly Metric<GatewayRun>[] = [
  {
    key: "mean",
    measure: "mean latency",
    unit: "ms",
    value: (r) => r.figures.meanMs,
    text: (r) => formatMs(r.figures.meanMs),
    worse: higherBy(1.1, 2),
  },
  {
    key: "p99",
    measure: "P99 latency",
    unit: "ms",
    value: (r) => r.figures.p99Ms,
    text: (r) => formatMs(r.figures.p99Ms),
    worse: higherBy(1.1, 5),
  },
  {
    key: "max",
    measure: "max latency",
    unit: "ms",
    value: (r) => r.figures.maxMs,
    text: (r) => formatMs(r.figures.maxMs),
    worse: higherBy(1.1, 20),
  },
  {
    key: "errors",
    measure: "error rate (5xx, or no answer before the client gave up)",
    value: (r) => r.figures.errorRate,
    text: (r) => percent(r.figures.errorRate),
    worse: higherBy(1.2, 0.002),
  },
  {
    key: "fallback",
    measure: "served by the fallback (x-timebound-served)",
    value: (r) => r.figures.fallbackShare,
    text: (r) => percent(r.figures.fallbackShare),
    worse: () => false,
  },
  {
    key: "upstream.received",
    measure: "upstream load: requests it received",
    unit: "count",
    value: (r) => r.upstreamReceived,
    text: (r) => formatCount(r.upstreamReceived),
    worse: higherBy(1.05, 10),
  },
  {
    key: "upstream.peak",
    measure: "upstream load: peak requests in flight",
    unit: "count",
    value: (r) => r.upstreamPeakInFlight,
    text: (r) => formatCount(r.upstreamPeakInFlight),
    worse: higherBy(1.2, 5),
  },
  {
    key: "recovery",
    measure: "time to recover after the outage",
    unit: "ms",
    value: (r) => r.figures.recoveryMs,
    text: (r) =>
      r.figures.recoveryMs === null ? "not within the run" : formatMs(r.figures.recoveryMs),
    worse: higherBy(1.5, 1),
  },
];

function seedRows(): ResultRow[] {
  return sharedSeedRows(
    "(the seed) its payment gateway at 12,000 QPS, as it reports: no tiers vs three tiers",
  );
}

/** The rows of `run` against `base`: the left column is `base`, the right one `run`. */
function pairRows(base: GatewayRun, run: GatewayRun, letter: string): ResultRow[] {
  const group = `(${letter}) ${run.variant.label} (right) vs ${base.variant.label} (left)`;
  const rows: ResultRow[] = GATEWAY_METRICS.map((m) => ({
    key: `${run.variant.key}.${m.key}`,
    group,
    measure: m.measure,
    ...(m.unit === undefined ? {} : { unit: m.unit }),
    wrong: measurement(m, base, run),
    right: measurement(m, run, base),
  }));
  rows.push({
    key: `${run.variant.key}.sent`,
    group,
    measure: "requests answered or given up by the client",
    unit: "count",
    wrong: { value: base.load.sent, text: formatCount(base.load.sent) },
    right: { value: run.load.sent, text: formatCount(run.load.sent) },
  });
  return rows;
}

/**
 * @internal The rows: the seed's figures; the seed's route against the plain proxy; timebound's
 * best against the seed's route (each step against the one before it).
 */
export function gatewayRows(runs: readonly GatewayRun[]): ResultRow[] {
  const rows = seedRows();
  const by = (key: GatewayVariant["key"]) => runs.find((r) => r.variant.key === key);
  const plain = by("plain");
  const seed = by("seed");
  const best = by("timebound");
  if (plain !== undefined && seed !== undefined) rows.push(...pairRows(plain, seed, "b"));
  if (seed !== undefined && best !== undefined) rows.push(...pairRows(seed, best, "c"));
  else if (plain !== undefined && best !== undefined) rows.push(...pairRows(plain, best, "c"));
  return rows;
}

/** @internal "better on ...; worse on ..." for `run` against `base`, computed from the metrics. */
export function verdict(run: GatewayRun, base: GatewayRun): { wins: string[]; losses: string[] } {
  const judged = GATEWAY_METRICS.filter((m) => m.key !== "fallback");
  const show = (m: Metric<GatewayRun>): string =>
    `${m.measure} (${m.text(run)} vs ${m.text(base)})`;
  return {
    wins: judged.filter((m) => m.worse(m.value(base), m.value(run))).map(show),
    losses: judged.filter((m) => m.worse(m.value(run), m.value(base))).map(show),
  };
}

/** @internal Conclusions, each computed from the runs. */
export function gatewayFindings(runs: readonly GatewayRun[], plan: GatewayPlan): string[] {
  const out: string[] = runLengthNotes(runs, plan);
  const expected = Math.round((plan.rate * plan.runMs) / 1000);
  const short = runs.filter((r) => r.load.sent < expected * 0.95);
  if (short.length > 0) {
    out.push(
      `Fewer than 95% of the ${formatCount(expected)} requests asked for were sent and ended ` +
        `with ${short.map((r) => `${r.variant.label} (${formatCount(r.load.sent)})`).join(", ")}: ` +
        `autocannon's connections wait for their answer before they send again, so slow answers ` +
        `lowered the rate, which flatters that variant.`,
    );
  }
  const pairs: [GatewayVariant["key"], GatewayVariant["key"]][] = [
    ["seed", "plain"],
    ["timebound", "seed"],
    ["timebound", "plain"],
  ];
  for (const [a, b] of pairs) {
    const run = runs.find((r) => r.variant.key === a);
    const base = runs.find((r) => r.variant.key === b);
    if (run === undefined || base === undefined) continue;
    const { wins, losses } = verdict(run, base);
    out.push(
      `${capital(run.variant.label)} vs ${base.variant.label}: better on ` +
        `${wins.length === 0 ? "nothing" : wins.join(", ")}; worse on ` +
        `${losses.length === 0 ? "nothing" : losses.join(", ")}.`,
    );
  }
  const plain = runs.find((r) => r.variant.key === "plain");
  const seed = runs.find((r) => r.variant.key === "seed");
  if (plain !== undefined && seed !== undefined) {
    const s = SEED_REPORTED;
    out.push(
      `The seed reports ${percent(s.errorRate.before)} errors, ${formatMs(s.meanMs.before)} mean ` +
        `and ${formatMs(s.p99Ms.before)} P99 without its tiers, ${percent(s.errorRate.after)}, ` +
        `${formatMs(s.meanMs.after)} and ${formatMs(s.p99Ms.after)} with them; here, through the ` +
        `gateway at ${formatCount(plan.rate)} requests/s: ${percent(plain.figures.errorRate)}, ` +
        `${formatMs(plain.figures.meanMs)}, ${formatMs(plain.figures.p99Ms)} as a plain proxy, ` +
        `${percent(seed.figures.errorRate)}, ${formatMs(seed.figures.meanMs)}, ` +
        `${formatMs(seed.figures.p99Ms)} with the seed's route (${percent(seed.figures.fallbackShare)} ` +
        `served by the fallback).`,
    );
  }
  return out;
}

/**
 * What the run's length does to the figures, first, so that no verdict is read without it: a quick
 * run says what it left out and how to get the full run, and a plain proxy whose hung requests
 * outlast the run has its failures understated (the client records only what ended in it).
 */
function runLengthNotes(runs: readonly GatewayRun[], plan: GatewayPlan): string[] {
  const notes: string[] = [];
  const full = fullRunHint("gateway", (scale) => scaled(RUN_MS, scale));
  if (plan.quick) {
    notes.push(
      `Quick run (the whole lab's): ${formatMs(plan.runMs)} per variant, clients giving up ` +
        `after ${formatMs(plan.clientTimeoutMs)} instead of ${formatMs(CLIENT_TIMEOUT_MS)} (so ` +
        `that what the plain proxy lets hang is given up within the run; its latencies stop ` +
        `there); ${full}.`,
    );
  }
  const t = plan.timeline;
  const unseenFromMs = Math.max(t.outageFromMs, plan.runMs - plan.clientTimeoutMs);
  if (runs.some((r) => r.variant.key === "plain") && unseenFromMs < t.outageToMs) {
    const needed = Math.ceil((CLIENT_TIMEOUT_MS / (1 - OUTAGE.to) / RUN_MS) * 10) / 10;
    notes.push(
      `Short run: requests the plain proxy let hang from ${formatMs(unseenFromMs)} to the ` +
        `outage's end (${formatMs(t.outageToMs)}) were still waiting when the load stopped, and ` +
        `are not counted: its error rate and latency are understated. Rerun with --scale ` +
        `${needed} or more for a run in which every hung request is given up.`,
    );
  }
  return notes;
}

function setup(plan: GatewayPlan): string {
  const t = plan.timeline;
  return (
    `timebound's gateway (its own process, started from @timebound/gateway) in front of a ` +
    `fault-injecting upstream (its own process: lognormal latency, median 20 ms, sigma 1; 3% ` +
    `answered 503; 0.5% hang; slower with its load; down, hanging, from ` +
    `${formatMs(t.outageFromMs)} to ${formatMs(t.outageToMs)}), under autocannon at ` +
    `${formatCount(plan.rate)} requests/s (ten staggered slices) for ${formatMs(plan.runMs)} per ` +
    `variant (${plan.quick ? "the whole lab's quick run" : `scale x${plan.runMs / RUN_MS}`}); ` +
    `clients give up after ${formatMs(plan.clientTimeoutMs)}. ` +
    `Plain proxy: the gateway's defaults (30 s deadline, no policy). ` +
    `Seed's route: timeout ` +
    `${formatMs(SEED_TIMEOUT_MS)}, breaker 50% / slow 600 ms / 10 half-open (open ` +
    `${formatMs(plan.openMs)}), 2 retries exponential from 100 ms, static fallback. Timebound's ` +
    `best adds ${formatMs(SEED_TIMEOUT_MS / 2)} per attempt, a 10% retry budget shared with p95 ` +
    `hedging, adaptive concurrency and a stale cache before the static fallback. Figures are ` +
    `the client's; "recover": from the outage's end to the first ${formatMs(t.windowMs)} window ` +
    `whose share of the upstream's own answers is within ${RECOVERY_SLACK * 100} points of its ` +
    `level before the outage; "(worse)" marks a figure clearly worse than the other column's`
  );
}

/** @internal Seed section 3.3 through the gateway. */
export const gatewayScenario: Scenario = {
  id: "gateway",
  title: "the seed's payment route through timebound's gateway, over a sick upstream",
  goArticle:
    "section 3.3 reports a payment gateway at 12,000 QPS going from 18.7% errors, 842 ms mean " +
    "and 3.2 s P99 to 0.02%, 23 ms and 47 ms with timeout 800 ms + breaker + 2 retries + fallback",
  wrong: "the variant before (in the heading)",
  right: "the variant after (in the heading)",

  async run(options: LabOptions, progress: Progress): Promise<ScenarioResult> {
    const scale = loadScale(options, QUICK_SCALE);
    const plan = gatewayPlan(scale, GATEWAY_RATE, scale < options.scale);
    const runs = await runGateway(plan, progress);
    if (typeof runs === "string") return skippedResult("gateway", runs);
    return { setup: setup(plan), rows: gatewayRows(runs), findings: gatewayFindings(runs, plan) };
  },
};
