// Goal 3: cancelling a root with 100,000 descendants, against the same tree of AbortSignal.any.
// Only the cancel is the measured operation; building is timed and reported beside it.
import { setImmediate as nextTurn } from "node:timers/promises";
import { type CancelableContext, background, withCancel } from "../../src/index.js";
import { type Row, gc, median, row } from "../harness.js";

export const NODES = 100_000;
export const FANOUT = 10;
const REPS = 5;
const WARMUP_NODES = 1000;

export interface TreeTiming {
  /** The first build and cancel in the process, no warm-up: cold JIT, fresh hidden classes. */
  readonly coldBuildMs: number;
  readonly coldCancelMs: number;
  readonly buildMs: number[];
  readonly cancelMs: number[];
  readonly medianBuildMs: number;
  readonly medianCancelMs: number;
}

export interface TreeResult {
  readonly nodes: number;
  readonly fanout: number;
  readonly reps: number;
  readonly ours: TreeTiming;
  readonly abortSignalAny: TreeTiming;
  /** Steady state: median of the warmed repetitions. */
  readonly row: Row;
  /** The cold first cancel of each, for the record (no goal). */
  readonly coldRow: Row;
}

// Breadth-first with up to FANOUT children per node: node i's parent is node (i - 1) / FANOUT.
// Depth is 6 for 100,000 nodes: wide like a request fanning out, deep enough to recurse.
const parentIndex = (i: number): number => Math.floor((i - 1) / FANOUT);

function buildOurs(n: number): CancelableContext[] {
  const nodes: CancelableContext[] = [withCancel(background())];
  for (let i = 1; i < n; i++) nodes.push(withCancel(nodes[parentIndex(i)]!));
  return nodes;
}

// The signals are kept in an array: they are in use, as they would be while a request runs
// (AbortSignal.any holds its dependants weakly, so dropping them would flatter the abort).
function buildAny(n: number): { root: AbortController; signals: AbortSignal[] } {
  const root = new AbortController();
  const signals: AbortSignal[] = [root.signal];
  for (let i = 1; i < n; i++) signals.push(AbortSignal.any([signals[parentIndex(i)]!]));
  return { root, signals };
}

type Timing = [buildMs: number, cancelMs: number];

// A warm run first builds and cancels a small tree just before the timed build and again just
// before the timed cancel: the forced GCs below discard optimised code, and a steady-state
// number should not time V8 re-optimising the loop (the cold run reports that).
function ours(warm: boolean): Timing {
  gc();
  if (warm) buildOurs(WARMUP_NODES)[0]!.cancel();
  const t0 = performance.now();
  const nodes = buildOurs(NODES);
  const t1 = performance.now();
  gc(); // keep a collection of the build's garbage out of the timed cancel
  if (warm) buildOurs(WARMUP_NODES)[0]!.cancel();
  const t2 = performance.now();
  nodes[0]!.cancel();
  const t3 = performance.now();
  if (nodes[NODES - 1]!.err === undefined) throw new Error("tree: a leaf context is still live");
  return [t1 - t0, t3 - t2];
}

function abortSignalAny(warm: boolean): Timing {
  gc();
  if (warm) buildAny(WARMUP_NODES).root.abort();
  const t0 = performance.now();
  const { root, signals } = buildAny(NODES);
  const t1 = performance.now();
  gc();
  if (warm) buildAny(WARMUP_NODES).root.abort();
  const t2 = performance.now();
  root.abort();
  const t3 = performance.now();
  if (!signals[NODES - 1]!.aborted) throw new Error("tree: a leaf signal is not aborted");
  return [t1 - t0, t3 - t2];
}

function summarize(cold: Timing, runs: Timing[]): TreeTiming {
  const buildMs = runs.map((r) => r[0]);
  const cancelMs = runs.map((r) => r[1]);
  return {
    coldBuildMs: cold[0],
    coldCancelMs: cold[1],
    buildMs,
    cancelMs,
    medianBuildMs: median(buildMs),
    medianCancelMs: median(cancelMs),
  };
}

export async function tree(): Promise<TreeResult> {
  const coldOurs = ours(false);
  await nextTurn();
  const coldAny = abortSignalAny(false);
  const o: Timing[] = [];
  const a: Timing[] = [];
  for (let r = 0; r < REPS; r++) {
    // Each side starts on a fresh turn: WeakRefs made during a turn (AbortSignal.any makes one
    // per signal) keep their targets alive until it ends, so without the yield every previous
    // tree would stay in the heap. Alternate which side goes first, as the harness does.
    for (const side of r % 2 === 0 ? [ours, abortSignalAny] : [abortSignalAny, ours]) {
      await nextTurn();
      (side === ours ? o : a).push(side(true));
    }
  }
  await nextTurn();
  const oursT = summarize(coldOurs, o);
  const anyT = summarize(coldAny, a);
  const name = `cancel root of ${NODES.toLocaleString("en-US")}-node tree`;
  return {
    nodes: NODES,
    fanout: FANOUT,
    reps: REPS,
    ours: oursT,
    abortSignalAny: anyT,
    row: row(
      name,
      "AbortSignal.any tree, abort root",
      1000 / oursT.medianCancelMs,
      1000 / anyT.medianCancelMs,
      20,
    ),
    coldRow: row(
      "same tree, cold (first mass cancel)",
      "AbortSignal.any tree, cold",
      1000 / oursT.coldCancelMs,
      1000 / anyT.coldCancelMs,
    ),
  };
}
