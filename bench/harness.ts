// The shared bench harness: runs a task and its anchor in the same process and the same rounds,
// so every result is a ratio against something measured on the same machine at the same moment.
// Absolute ops/s on a shared 2-core box mean little; ratios travel.
import { cpus } from "node:os";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { setImmediate as nextTurn } from "node:timers/promises";
import { Bench } from "tinybench";

/** One side of a comparison. `fn` performs `batch` operations per call (see {@link CompareOptions}). */
export interface Side {
  readonly name: string;
  readonly fn: () => unknown;
}

export interface CompareOptions {
  /**
   * Operations one call of `fn` performs. tinybench times each call with performance.now(), which
   * costs about as much as creating a context; a batch amortises it. Default 1.
   */
  readonly batch?: number;
  /** Time budget per side per round, ms. Default 300. */
  readonly time?: number;
  /** Warm-up per side per round, ms. Default 100. */
  readonly warmupTime?: number;
  /** Rounds; sides alternate which runs first; each side's median is kept. Default 5. */
  readonly rounds?: number;
  /** Minimum ratio to PASS; no goal when undefined. */
  readonly goal?: number;
}

/** A printed and saved line: `name  ops/s  anchor-ops/s  ratio`, plus the goal verdict. */
export interface Row {
  readonly name: string;
  readonly anchor: string;
  readonly opsPerSec: number;
  readonly anchorOpsPerSec: number;
  /** opsPerSec / anchorOpsPerSec: how many times faster than the anchor. */
  readonly ratio: number;
  readonly goal: number | undefined;
  readonly pass: boolean | undefined;
}

export interface Comparison extends Row {
  /** Every round's ops/s, so the spread is visible in the JSON. */
  readonly rounds: readonly { readonly opsPerSec: number; readonly anchorOpsPerSec: number }[];
}

/** Makes a row from two rates measured elsewhere (e.g. one-shot timings). */
export function row(
  name: string,
  anchor: string,
  opsPerSec: number,
  anchorOpsPerSec: number,
  goal?: number,
): Row {
  const ratio = opsPerSec / anchorOpsPerSec;
  return {
    name,
    anchor,
    opsPerSec,
    anchorOpsPerSec,
    ratio,
    goal,
    pass: goal === undefined ? undefined : ratio >= goal,
  };
}

/** Times `task` and `anchor` with tinybench, interleaved over a few rounds, and compares them. */
export async function compare(
  name: string,
  task: Side,
  anchor: Side,
  options: CompareOptions = {},
): Promise<Comparison> {
  if (task.name === anchor.name) throw new Error(`bench ${name}: task and anchor share a name`);
  const batch = options.batch ?? 1;
  const rounds = options.rounds ?? 5;
  const perRound: { opsPerSec: number; anchorOpsPerSec: number }[] = [];
  for (let r = 0; r < rounds; r++) {
    // Alternate the order so neither side always runs on the warmer (or noisier) half.
    const sides = r % 2 === 0 ? [task, anchor] : [anchor, task];
    const bench = new Bench({
      time: options.time ?? 300,
      warmupTime: options.warmupTime ?? 100,
      // A slow anchor in a big batch takes ms per call; tinybench's default minimum of 64
      // calls would then dominate the budget.
      iterations: 8,
      warmupIterations: 4,
      throws: true,
    });
    for (const side of sides) bench.add(side.name, side.fn);
    await bench.run();
    const rate = (side: Side): number => {
      const result = bench.getTask(side.name)?.result;
      if (result === undefined || !("period" in result)) {
        throw new Error(`bench ${name}: ${side.name} produced no result`);
      }
      return (batch * 1000) / result.period;
    };
    perRound.push({ opsPerSec: rate(task), anchorOpsPerSec: rate(anchor) });
    await nextTurn(); // let timers and finalizers left by this round run before the next
  }
  const ops = median(perRound.map((p) => p.opsPerSec));
  const anchorOps = median(perRound.map((p) => p.anchorOpsPerSec));
  return { ...row(name, anchor.name, ops, anchorOps, options.goal), rounds: perRound };
}

/** Options for {@link comparePaired}. */
export interface PairedOptions {
  /** Operations one call of `fn` performs. Default 1. */
  readonly batch?: number;
  /** Timed pairs (one call of each side). Default 2,000. */
  readonly pairs?: number;
  /** Untimed pairs first, for the JIT. Default 300. */
  readonly warmupPairs?: number;
  /** Pairs per reported round (the spread in the JSON). Default 200. */
  readonly pairsPerRound?: number;
  /** Minimum ratio to PASS; no goal when undefined. */
  readonly goal?: number;
}

/** A {@link comparePaired} result: the ratio is the median pair's; the totals' ratio beside it. */
export interface PairedComparison extends Comparison {
  /**
   * Anchor's total time over the task's, all pairs counted: it includes the garbage the task
   * leaves for later, and also every other tenant's pause, so it spreads more between runs.
   */
  readonly totalTimeRatio: number;
}

/**
 * Times `task` and `anchor` call by call, alternately (and alternating which goes first), so that
 * both sides see the machine as it is within the same millisecond. For work of a millisecond or
 * so (a batch of loopback requests), where tinybench's rounds of hundreds of ms let another
 * tenant's burst land on one side only: there per-round ratios spread by ±10%. The ratio is the
 * median over pairs of anchor time ÷ task time, which holds within about 1% from run to run; the
 * ratio of total times is kept beside it (see {@link PairedComparison.totalTimeRatio}).
 */
export async function comparePaired(
  name: string,
  task: Side,
  anchor: Side,
  options: PairedOptions = {},
): Promise<PairedComparison> {
  if (task.name === anchor.name) throw new Error(`bench ${name}: task and anchor share a name`);
  const batch = options.batch ?? 1;
  const pairs = options.pairs ?? 2_000;
  const perRound = options.pairsPerRound ?? 200;
  const time = async (side: Side): Promise<number> => {
    const start = performance.now();
    await side.fn();
    return performance.now() - start;
  };
  for (let i = 0; i < (options.warmupPairs ?? 300); i++) {
    await time(task);
    await time(anchor);
  }
  const taskMs: number[] = [];
  const anchorMs: number[] = [];
  for (let i = 0; i < pairs; i++) {
    if (i % 2 === 0) {
      taskMs.push(await time(task));
      anchorMs.push(await time(anchor));
    } else {
      anchorMs.push(await time(anchor));
      taskMs.push(await time(task));
    }
  }
  const total = (ms: readonly number[]): number => ms.reduce((sum, t) => sum + t, 0);
  const rate = (ms: readonly number[]): number => (batch * 1000 * ms.length) / total(ms);
  const rounds: { opsPerSec: number; anchorOpsPerSec: number }[] = [];
  for (let from = 0; from < pairs; from += perRound) {
    rounds.push({
      opsPerSec: rate(taskMs.slice(from, from + perRound)),
      anchorOpsPerSec: rate(anchorMs.slice(from, from + perRound)),
    });
  }
  const ratio = median(taskMs.map((t, i) => anchorMs[i]! / t));
  const opsPerSec = (batch * 1000) / median(taskMs);
  return {
    ...row(name, anchor.name, opsPerSec, opsPerSec / ratio, options.goal),
    rounds,
    totalTimeRatio: total(anchorMs) / total(taskMs),
  };
}

/**
 * A count or duration from the environment (`TIMEBOUND_BENCH_SECONDS=10`), `fallback` when unset.
 * Anything but a number of at least `min` stops the run, naming the variable and its value.
 */
export function envNumber(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    throw new RangeError(`${name} must be a number of at least ${min}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const COLUMNS = [44, 14, 14, 9] as const;

export function header(): string {
  return [
    "name".padEnd(COLUMNS[0]),
    "ops/s".padStart(COLUMNS[1]),
    "anchor-ops/s".padStart(COLUMNS[2]),
    "ratio".padStart(COLUMNS[3]),
    "  goal",
  ].join("  ");
}

/** `name  ops/s  anchor-ops/s  ratio  verdict  vs anchor` */
export function formatRow(r: Row): string {
  return [
    r.name.padEnd(COLUMNS[0]),
    formatOps(r.opsPerSec).padStart(COLUMNS[1]),
    formatOps(r.anchorOpsPerSec).padStart(COLUMNS[2]),
    formatRatio(r.ratio).padStart(COLUMNS[3]),
    `  ${verdict(r)}  vs ${r.anchor}` +
      ("totalTimeRatio" in r ? `; total times ${formatRatio(r.totalTimeRatio as number)}` : ""),
  ].join("  ");
}

/** "PASS (goal >= 10x)", "MISS (goal >= 10x, reached 6.20x: 38% short)" or "-". */
export function verdict(r: Row): string {
  if (r.goal === undefined) return "-";
  const goal = `goal >= ${r.goal}x`;
  if (r.pass === true) return `PASS (${goal})`;
  const short = Math.round((1 - r.ratio / r.goal) * 100);
  return `MISS (${goal}, reached ${formatRatio(r.ratio)}: ${short}% short)`;
}

export function formatOps(ops: number): string {
  // Whole-tree cancels run at a few per second; keep their digits.
  if (ops < 100) return ops.toFixed(2);
  return Math.round(ops).toLocaleString("en-US");
}

export function formatRatio(ratio: number): string {
  return `${ratio.toFixed(ratio >= 100 ? 0 : 2)}x`;
}

/** global.gc, which `npm run bench` exposes with --expose-gc. */
export function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) {
    throw new Error("benchmarks need --expose-gc: run them with `npm run bench`");
  }
  collect();
}

/** heapUsed after two full collections (the second picks up what the first's finalizers freed). */
export function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** As {@link heapAfterGc}, but also lets FinalizationRegistry callbacks run in between. */
export async function settledHeap(): Promise<number> {
  gc();
  await nextTurn();
  await nextTurn();
  return heapAfterGc();
}

export interface Machine {
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
  readonly platform: string;
  readonly date: string;
}

export function machine(): Machine {
  let cpu = cpus()[0]?.model ?? "unknown";
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"));
    if (m?.[1] !== undefined) cpu = m[1].trim();
  } catch {
    // not Linux: os.cpus() above is the best we have
  }
  return {
    node: process.version,
    cpu,
    cores: cpus().length,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
  };
}

/** bench/results/, where results are written (and committed). */
export const resultsDir = new URL("./results/", import.meta.url);

/** Writes `bench/results/<file>` and returns its path for the log. */
export function writeResult(file: string, contents: string): string {
  mkdirSync(resultsDir, { recursive: true });
  const url = new URL(file, resultsDir);
  writeFileSync(url, contents);
  return url.pathname;
}

export function writeJson(suite: string, data: unknown): string {
  return writeResult(`${suite}.json`, `${JSON.stringify(data, null, 2)}\n`);
}
