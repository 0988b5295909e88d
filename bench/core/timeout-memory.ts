// Goal 2, memory side: heap over N create-and-drop iterations of withTimeout(parent, 60000) +
// cancel() and of AbortSignal.timeout(60000), sampled after a full GC every N/20 iterations.
//
// Two runs of each. "burst": one synchronous loop, the worst case (a hot loop, a flood of
// requests handled without yielding). AbortSignal.timeout's timer holds the signal through a
// WeakRef, which V8 keeps alive until the current job ends, and the FinalizationRegistry that
// clears an orphaned timer only runs on a later turn; so nothing is freed until the loop yields
// or the timers fire (60 s). "yielding": the loop gives the event loop a turn every 1000
// iterations, as a server does between requests; Node then reclaims orphaned timeout signals
// once a full GC has found them. withTimeout + cancel() frees its timer at cancel() either way.
import { setImmediate as nextTurn } from "node:timers/promises";
import { type Context, withTimeout } from "../../src/index.js";
import { lineChartSvg } from "../chart.js";
import { gc, settledHeap, writeResult } from "../harness.js";

/** 100,000 keeps the burst curve near 120 MB and the whole section to a few seconds. */
export const ITERATIONS = 100_000;
const SAMPLES = 20;
const YIELD_EVERY = 1000;

export interface Curve {
  readonly name: string;
  /** heapUsed above the baseline, MB, at each x of {@link TimeoutMemory.iterations}. */
  readonly mb: number[];
  readonly ms: number;
}

export interface TimeoutMemory {
  readonly iterations: number[];
  readonly curves: Curve[];
  readonly csv: string;
  readonly svg: string;
}

const toMb = (bytes: number): number => Math.round(bytes / 1e5) / 10;

async function curve(name: string, op: () => void, yielding: boolean): Promise<Curve> {
  const step = ITERATIONS / SAMPLES;
  const base = await settledHeap();
  const mb = [0];
  const t0 = performance.now();
  for (let i = 1; i <= ITERATIONS; i++) {
    op();
    if (yielding && i % YIELD_EVERY === 0) await nextTurn();
    if (i % step !== 0) continue;
    let heap: number;
    if (yielding) heap = await settledHeap();
    else {
      gc(); // one collection: nothing more can be freed without a turn of the event loop
      heap = process.memoryUsage().heapUsed;
    }
    mb.push(toMb(heap - base));
  }
  const ms = performance.now() - t0;
  await settledHeap(); // release what a burst left behind before the next curve
  return { name, mb, ms };
}

export async function timeoutMemory(parent: Context): Promise<TimeoutMemory> {
  const ours = (): void => withTimeout(parent, 60_000).cancel();
  // eslint-disable-next-line timebound/context-propagation -- the anchor this bench measures timebound against
  const theirs = (): void => void AbortSignal.timeout(60_000);
  const curves = [
    await curve("withTimeout+cancel (burst)", ours, false),
    await curve("AbortSignal.timeout (burst)", theirs, false),
    await curve("withTimeout+cancel (yielding)", ours, true),
    await curve("AbortSignal.timeout (yielding)", theirs, true),
  ];
  const iterations = Array.from({ length: SAMPLES + 1 }, (_, i) => (i * ITERATIONS) / SAMPLES);

  const lines = [["iterations", ...curves.map((c) => `${c.name} MB`)].join(",")];
  iterations.forEach((x, i) => lines.push([x, ...curves.map((c) => c.mb[i] ?? "")].join(",")));
  const csv = writeResult("timeout-memory.csv", `${lines.join("\n")}\n`);

  const colors = ["#1f77b4", "#d62728", "#17becf", "#ff7f0e"];
  const svg = writeResult(
    "timeout-memory.svg",
    lineChartSvg({
      title: "Heap after GC: create-and-drop 60 s timeouts",
      xLabel: "iterations",
      yLabel: "heapUsed above baseline (MB)",
      xs: iterations,
      series: curves.map((c, i) => ({
        label: c.name,
        color: colors[i] ?? "black",
        dashed: c.name.includes("yielding"),
        ys: c.mb,
      })),
    }),
  );
  return { iterations, curves, csv, svg };
}
