// The runs over the sick upstream (three-tier, gateway): one fault-injecting upstream process,
// heavy-tailed, failing now and then, hanging rarely, slower when busy, and down for a while in
// each run; every variant in turn under the same load against it.
import { formatCount, formatMs } from "./format.js";
import type { Timeline } from "./outage-figures.js";
import type { OutagePlan } from "./outage-plan.js";
import type { Progress } from "./scenario.js";
import type { FaultConfig, FaultUpstream } from "../testing/index.js";

/** @internal The upstream between outages: heavy-tailed, failing now and then, hanging rarely, slower when busy. */
export const SICK_UPSTREAM: FaultConfig = {
  latency: { type: "lognormal", medianMs: 20, sigma: 1, maxMs: 10_000 },
  errorRate: 0.03,
  hangRate: 0.005,
  capacity: 50,
  seed: 33,
};

/** @internal {@link SICK_UPSTREAM} and its outage, in words, for a setup text. */
export function sickUpstreamText(t: Timeline): string {
  return (
    `fault-injecting upstream (its own process: lognormal latency, median 20 ms, sigma 1; 3% ` +
    `answered 503; 0.5% hang; slower with its load; down, hanging, from ` +
    `${formatMs(t.outageFromMs)} to ${formatMs(t.outageToMs)})`
  );
}

/** @internal What the upstream saw of one variant's run. */
export interface UpstreamLoad {
  readonly upstreamReceived: number;
  readonly upstreamPeakInFlight: number;
}

/** @internal Runs each of `variants` in turn through `run`, saying which in scenario `id`'s progress. */
export async function eachVariant<V extends { readonly label: string }, R>(
  id: string,
  plan: OutagePlan,
  progress: Progress,
  variants: readonly V[],
  run: (variant: V) => Promise<R>,
): Promise<R[]> {
  const runs: R[] = [];
  for (const variant of variants) {
    progress.step(
      `${id}: ${variant.label}, ${formatCount(plan.rate)} requests/s for ${formatMs(plan.runMs)}`,
    );
    runs.push(await run(variant));
  }
  return runs;
}

/**
 * @internal One variant's load through the outage: the upstream's counts reset, `startClock`
 * called, the outage scheduled from then, the load driven by `drive`, and what the upstream saw.
 */
export async function throughOutage<L>(
  upstream: FaultUpstream,
  plan: OutagePlan,
  drive: () => Promise<L>,
  startClock: () => void = () => {},
): Promise<{ readonly load: L } & UpstreamLoad> {
  await upstream.resetStats();
  startClock();
  await upstream.configure({
    ...SICK_UPSTREAM,
    outages: [{ fromMs: plan.timeline.outageFromMs, toMs: plan.timeline.outageToMs, mode: "hang" }],
  });
  const load = await drive();
  const stats = await upstream.stats();
  return { load, upstreamReceived: stats.received, upstreamPeakInFlight: stats.peakInFlight };
}
