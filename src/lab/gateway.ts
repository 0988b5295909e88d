// Seed section 3.3 through timebound's gateway: the gateway process in front of a fault-injecting
// upstream (heavy-tailed latency, errors, hangs, one outage), under a fixed request rate, as a
// plain proxy, with the seed's route and with timebound's best. Measured by the client.
import { loadAutocannon } from "./autocannon-slices.js";
import { formatCount, formatMs } from "./format.js";
import { type LoadRun, driveGateway } from "./gateway-load.js";
import { type GatewayProcess, findGateway, startGatewayProcess } from "./gateway-process.js";
import {
  GATEWAY_VARIANTS,
  type GatewayVariant,
  SEED_TIMEOUT_MS,
  gatewayYaml,
} from "./gateway-variants.js";
import type { LabOptions } from "./options.js";
import { RECOVERY_SLACK, outageFigures } from "./outage-figures.js";
import {
  type OutageRun,
  outageMetrics,
  verdictOf,
  verdictText,
  withFigures,
} from "./outage-metrics.js";
import {
  CLIENT_TIMEOUT_MS,
  OUTAGE,
  type OutagePlan,
  fullOutageRunHint,
  loadAt,
  outagePlan,
  planSizeText,
  scaleForShare,
  shortRuns,
} from "./outage-plan.js";
import { SICK_UPSTREAM, eachVariant, sickUpstreamText, throughOutage } from "./outage-run.js";
import type { Progress, ResultRow, Scenario, ScenarioResult } from "./scenario.js";
import { loadScale } from "./quick.js";
import { skippedResult } from "./skipped.js";
import {
  type Metric,
  SEED_ARTICLE,
  capital,
  metricRows,
  percent,
  seedOrderText,
  seedReportedText,
  seedRows,
} from "./seed-table.js";
import { startFaultUpstream } from "../testing/index.js";

/**
 * Requests per second: the highest at which, on the project's shared 2-core machine (load
 * generator, gateway and upstream on the same two cores), every variant was sent its full load
 * (docs/lab-gateway.md has the measurements).
 */
export const GATEWAY_RATE = 100;
/** The scale of the whole lab's quick run: 3 s per variant. */
const QUICK_SCALE = 0.1875;
/**
 * The quick run's clients give up sooner, so that the requests a plain proxy lets hang through
 * the outage are given up (and counted) within a run this short; still past the seed's 800 ms.
 */
const QUICK_CLIENT_TIMEOUT_MS = 1_000;

/** @internal How a run is sized (the quick run's clients give up sooner). */
export type GatewayPlan = OutagePlan;

/** @internal The plan for `scale` (and a rate, for tests); `quick` marks the whole lab's quick run. */
export function gatewayPlan(scale: number, rate = GATEWAY_RATE, quick = false): GatewayPlan {
  return outagePlan(scale, rate, quick, quick ? QUICK_CLIENT_TIMEOUT_MS : CLIENT_TIMEOUT_MS);
}

/** @internal What one variant measured, as the clients saw it and as the upstream did. */
export interface GatewayRun extends OutageRun {
  readonly variant: GatewayVariant;
  readonly load: Omit<LoadRun, "records">;
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
  await using upstream = await startFaultUpstream(SICK_UPSTREAM);
  let gateway: GatewayProcess | undefined;
  try {
    return await eachVariant("gateway", plan, progress, variants, async (variant) => {
      const yaml = gatewayYaml(variant, upstream.url, plan.openMs);
      // One process for every variant (a start under tsx takes seconds): the next configuration
      // is applied by a reload, which starts its routes, breakers and caches afresh.
      if (gateway === undefined) gateway = await startGatewayProcess(command, yaml);
      else await gateway.reconfigure(yaml);
      const url = gateway.url;
      // The outage counts from its scheduling, and the load's clock starts right after.
      const { load: run, ...seen } = await throughOutage(upstream, plan, () =>
        driveGateway(autocannon, loadAt(plan, url)),
      );
      const { records, ...load } = run;
      return { variant, figures: outageFigures(records, plan.timeline), load, ...seen };
    });
  } finally {
    await gateway?.stop();
  }
}

// ---- the table -------------------------------------------------------------------------------

/** @internal The table's metrics. A fallback's share is reported, not judged: it is the point of one. */
export const GATEWAY_METRICS: readonly Metric<GatewayRun>[] = outageMetrics({
  errors: "error rate (5xx, or no answer before the client gave up)",
  fallback: "served by the fallback (x-timebound-served)",
  judgeFallback: false,
});

/** The rows of `run` against `base`: the left column is `base`, the right one `run`. */
function pairRows(base: GatewayRun, run: GatewayRun, letter: string): ResultRow[] {
  const group = `(${letter}) ${run.variant.label} (right) vs ${base.variant.label} (left)`;
  const rows = metricRows(GATEWAY_METRICS, run.variant.key, group, base, run);
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
  const rows = seedRows("no tiers");
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
  return verdictOf(GATEWAY_METRICS, run, base, withFigures(run, base));
}

/** @internal Conclusions, each computed from the runs. */
export function gatewayFindings(runs: readonly GatewayRun[], plan: GatewayPlan): string[] {
  const out: string[] = runLengthNotes(runs, plan);
  const { expected, short } = shortRuns(runs, plan, (r) => r.load.sent);
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
    out.push(
      `${capital(run.variant.label)} vs ${base.variant.label}: ${verdictText(verdict(run, base))}.`,
    );
  }
  const plain = runs.find((r) => r.variant.key === "plain");
  const seed = runs.find((r) => r.variant.key === "seed");
  if (plain !== undefined && seed !== undefined) {
    const reported = seedReportedText();
    out.push(
      `The seed reports ${reported.before} without its tiers, ${reported.after} with them; here, ` +
        `through the gateway at ${formatCount(plan.rate)} requests/s: ` +
        `${seedOrderText(plain.figures)} as a plain proxy, ${seedOrderText(seed.figures)} with ` +
        `the seed's route (${percent(seed.figures.fallbackShare)} served by the fallback).`,
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
  const full = fullOutageRunHint("gateway");
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
    const needed = scaleForShare(CLIENT_TIMEOUT_MS, 1 - OUTAGE.to);
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
    `${sickUpstreamText(t)}, under autocannon at ` +
    `${formatCount(plan.rate)} requests/s (ten staggered slices) for ${formatMs(plan.runMs)} per ` +
    `variant (${planSizeText(plan)}); ` +
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
  goArticle: SEED_ARTICLE,
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
