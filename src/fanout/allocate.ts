// The seed's rule for splitting one deadline among dependencies (3.2): raw_i = p95_i × weight_i ×
// loadFactor_i, budget_i = total × raw_i / Σ raw, with what the seed leaves open settled here
// (see docs/fanout.md): a prior for dependencies without history, floors and caps, a reserve, and
// a mode for calls that run in parallel.
import {
  checkMs,
  checkNumber,
  checkString,
  describeValue,
  invalidType,
  outOfRange,
  readOptions,
} from "../core/internal.js";

/** One dependency to give a budget to. */
export interface DependencyInput {
  /** Its name, unique in the list. */
  readonly name: string;
  /** Its observed P95 latency in ms; undefined when it has no history yet (the prior is used). */
  readonly p95Ms?: number | undefined;
  /** Its importance, > 0. Default 1. */
  readonly weight?: number;
  /** How loaded it is now, > 0; above 1 asks for more time (see LatencyTracker). Default 1. */
  readonly loadFactor?: number;
  /** Its budget is never below this (but see the floor rule). Default `options.floorMs`. */
  readonly floorMs?: number;
  /** Its budget is never above this. Default `options.capMs`. */
  readonly capMs?: number;
}

/** How {@link allocateBudget} splits the time. */
export type AllocationMode = "proportional" | "parallel";

/** Options of {@link allocateBudget}. */
export interface AllocateOptions {
  /**
   * "proportional" (default): the seed's rule, budgets add up to the time available, for calls
   * that share the time (one after the other). "parallel": the calls overlap, so each budget is
   * measured against the whole time available: the largest raw share gets all of it, the others
   * the same fraction of it as their raw share is of the largest.
   */
  readonly mode?: AllocationMode;
  /**
   * Kept back from the calls for the work after them (merging, answering), in ms. Default 5.
   * Never more than half the total: a small total still leaves the calls half of it.
   */
  readonly reserveMs?: number;
  /** The P95 assumed for a dependency without history. Default: the largest P95 known, else 1. */
  readonly priorP95Ms?: number;
  /** Floor for every dependency without its own. Default 0. */
  readonly floorMs?: number;
  /** Cap for every dependency without its own. Default Infinity. */
  readonly capMs?: number;
}

/** One dependency's budget. */
export interface DependencyBudget {
  /** Its name, as in the input. */
  readonly name: string;
  /** Its budget in ms. */
  readonly budgetMs: number;
  /** p95 × weight × loadFactor. */
  readonly raw: number;
  /** The P95 used: its own, or the prior. */
  readonly p95Ms: number;
  /** Whether the prior was used (it had no history). */
  readonly prior: boolean;
  /** The weight used (default 1). */
  readonly weight: number;
  /** The load factor used (default 1). */
  readonly loadFactor: number;
  /** Whether its floor or its cap decided its budget rather than its share. */
  readonly bound: "floor" | "cap" | undefined;
}

/** What {@link allocateBudget} returns. */
export interface Allocation {
  /** How the time was split. */
  readonly mode: AllocationMode;
  /** The time given to split, in ms (`totalMs` as passed). */
  readonly totalMs: number;
  /** Kept back: `min(reserveMs, totalMs / 2)`. */
  readonly reserveMs: number;
  /** `totalMs - reserveMs`: what the budgets are measured against. */
  readonly availableMs: number;
  /** One per dependency, in input order. */
  readonly budgets: readonly DependencyBudget[];
  /** The budgets by name. */
  readonly byName: Readonly<Record<string, number>>;
}

const FN = "allocateBudget";
const KNOWN: readonly (keyof AllocateOptions)[] = [
  "mode",
  "reserveMs",
  "priorP95Ms",
  "floorMs",
  "capMs",
];
const DEP_KEYS = ["name", "p95Ms", "weight", "loadFactor", "floorMs", "capMs"];
const NON_NEGATIVE = { min: 0, max: Infinity } as const;
/** A P95 below this counts as this, so that a dependency measured at 0 ms keeps a share. */
const MIN_P95_MS = 0.01;

/**
 * Splits `totalMs` among `deps` by the seed's rule: raw_i = p95_i × weight_i × loadFactor_i,
 * budget_i = available × raw_i / Σ raw, where available = total − reserve. Then:
 *
 * - **no history**: a dependency whose `p95Ms` is undefined gets `priorP95Ms` (default: the
 *   slowest P95 known, so a newcomer is not cut short; 1 when none is known: weights decide);
 * - **floor and cap**: budget_i = clamp(λ × raw_i, floor_i, cap_i) with one λ for all, chosen so
 *   the budgets add up to the time available (water-filling: what a capped dependency cannot
 *   take goes to the others in proportion). If the floors alone exceed it, they are scaled down
 *   to fit; if the caps alone do not reach it, each gets its cap and the rest is not handed out;
 * - **reserve**: `min(reserveMs, total / 2)` is kept back, always;
 * - **parallel** mode: the budgets do not add up (the calls overlap): each gets
 *   min(available, available × raw_i / max raw), within its floor and cap. With equal weights,
 *   every call gets at least its own P95 × load factor whenever the time available covers the
 *   slowest one's.
 *
 * In both modes no budget exceeds the time available, nor in proportional mode their sum; a
 * budget never decreases when its weight or P95 grows. Pure: same input, same output.
 * Throws a RangeError or TypeError naming the bad value (a total not above 0, an empty list,
 * a weight <= 0, a NaN latency, a floor above its cap, a duplicate name).
 *
 * @example
 * ```ts
 * const { byName } = allocateBudget(300, [
 *   { name: "auth", p95Ms: 80, weight: 0.3, loadFactor: 1.4 },
 *   { name: "catalog", p95Ms: 120, weight: 0.5, loadFactor: 1 },
 *   { name: "reviews", p95Ms: undefined, weight: 0.2 }, // no history yet: the prior
 * ]);
 * byName.auth; // about 83 ms of the 295 available
 * ```
 */
export function allocateBudget(
  totalMs: number,
  deps: readonly DependencyInput[],
  options?: AllocateOptions,
): Allocation {
  const total = checkMs(totalMs, FN, "totalMs", { min: 0, max: Number.MAX_SAFE_INTEGER });
  if (total === 0) throw outOfRange(`${FN}: totalMs must be more than 0 milliseconds, got 0`);
  const o = readOptions(options, FN, KNOWN);
  const mode = o.oneOf<AllocationMode>("mode", "proportional", ["proportional", "parallel"]);
  const reserveOption = o.ms("reserveMs", 5, NON_NEGATIVE);
  const floorDefault = o.ms("floorMs", 0, NON_NEGATIVE);
  const capDefault = o.ms("capMs", Infinity, { min: 0, max: Infinity, infinity: true });
  const priorOption = o.raw("priorP95Ms");
  const prior =
    priorOption === undefined
      ? undefined
      : checkMs(priorOption, FN, "options.priorP95Ms", NON_NEGATIVE);
  const inputs = checkDeps(deps, floorDefault, capDefault);

  const known = inputs.filter((d) => d.p95 !== undefined).map((d) => d.p95!);
  const priorP95 = prior ?? (known.length > 0 ? Math.max(...known) : 1);
  const reserve = Math.min(reserveOption, total / 2);
  const available = total - reserve;
  const raws = inputs.map((d) => Math.max(d.p95 ?? priorP95, MIN_P95_MS) * d.weight * d.load);
  const floors = inputs.map((d) => Math.min(d.floor, available));
  const caps = inputs.map((d) => Math.min(d.cap, available));
  const budgets =
    mode === "parallel"
      ? parallelShares(available, raws, floors, caps)
      : waterFill(available, raws, floors, caps);

  const byName: Record<string, number> = {};
  const out = inputs.map((d, i): DependencyBudget => {
    const budgetMs = budgets[i]!;
    byName[d.name] = budgetMs;
    return {
      name: d.name,
      budgetMs,
      raw: raws[i]!,
      p95Ms: d.p95 ?? priorP95,
      prior: d.p95 === undefined,
      weight: d.weight,
      loadFactor: d.load,
      bound: boundOf(budgetMs, floors[i]!, caps[i]!, available),
    };
  });
  return { mode, totalMs: total, reserveMs: reserve, availableMs: available, budgets: out, byName };
}

function boundOf(
  budget: number,
  floor: number,
  cap: number,
  available: number,
): "floor" | "cap" | undefined {
  if (budget === cap && cap < available) return "cap";
  return budget === floor && floor > 0 ? "floor" : undefined;
}

interface CheckedDep {
  readonly name: string;
  readonly p95: number | undefined;
  readonly weight: number;
  readonly load: number;
  readonly floor: number;
  readonly cap: number;
}

function checkDeps(deps: unknown, floorDefault: number, capDefault: number): CheckedDep[] {
  if (!Array.isArray(deps) || deps.length === 0) {
    throw invalidType(
      `${FN}: deps must be a non-empty array of dependencies, got ${describeValue(deps)}`,
    );
  }
  const seen = new Set<string>();
  return (deps as unknown[]).map((dep, i) => {
    const where = `deps[${i}]`;
    const d = readOptions(dep as DependencyInput, FN, DEP_KEYS as (keyof DependencyInput)[]);
    const name = checkString(d.raw("name"), FN, `${where}.name`);
    if (seen.has(name)) throw invalidType(`${FN}: ${where}.name "${name}" is given twice`);
    seen.add(name);
    const p95Raw = d.raw("p95Ms");
    const p95 =
      p95Raw === undefined ? undefined : checkMs(p95Raw, FN, `${where}.p95Ms`, NON_NEGATIVE);
    const weight = positive(d.raw("weight"), `${where}.weight`, 1);
    const load = positive(d.raw("loadFactor"), `${where}.loadFactor`, 1);
    const floorRaw = d.raw("floorMs");
    const floor =
      floorRaw === undefined
        ? floorDefault
        : checkMs(floorRaw, FN, `${where}.floorMs`, NON_NEGATIVE);
    const capRaw = d.raw("capMs");
    const cap =
      capRaw === undefined
        ? capDefault
        : checkMs(capRaw, FN, `${where}.capMs`, { min: 0, max: Infinity, infinity: true });
    if (floor > cap) {
      throw outOfRange(`${FN}: ${where} (${name}) has floorMs ${floor} above its capMs ${cap}`);
    }
    return { name, p95, weight, load, floor, cap };
  });
}

/** A finite number above 0, or `fallback` when absent. */
function positive(value: unknown, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  const v = checkNumber(value, FN, what, { min: 0, max: Number.MAX_VALUE });
  if (v === 0) throw outOfRange(`${FN}: ${what} must be a number above 0, got 0`);
  return v;
}

/** Parallel mode: the largest raw share gets everything, the others in proportion; then bounds. */
function parallelShares(
  available: number,
  raws: readonly number[],
  floors: readonly number[],
  caps: readonly number[],
): number[] {
  const max = Math.max(...raws);
  return raws.map((r, i) =>
    clamp(Math.min(available, (available * r) / max), floors[i]!, caps[i]!),
  );
}

/**
 * Proportional mode: clamp(λ × raw_i, floor_i, cap_i) adding up to `available`. The sum is
 * piecewise linear and non-decreasing in λ; its breakpoints are floor_i/raw_i and cap_i/raw_i,
 * so λ is found exactly on the segment where the sum crosses `available`.
 */
export function waterFill(
  available: number,
  raws: readonly number[],
  floors: readonly number[],
  caps: readonly number[],
): number[] {
  const sumFloors = floors.reduce((a, b) => a + b, 0);
  if (sumFloors >= available) {
    // Floors alone do not fit: each keeps the same fraction of its floor.
    return sumFloors === 0 ? floors.map(() => 0) : floors.map((f) => (f * available) / sumFloors);
  }
  const sumCaps = caps.reduce((a, b) => a + b, 0);
  if (sumCaps <= available) return [...caps];
  const at = (lambda: number): number =>
    raws.reduce((sum, r, i) => sum + clamp(lambda * r, floors[i]!, caps[i]!), 0);
  const points = [
    ...new Set(
      raws
        .flatMap((r, i) => [floors[i]! / r, caps[i]! / r])
        .filter((p) => Number.isFinite(p) && p > 0),
    ),
  ].sort((a, b) => a - b);
  let lo = 0;
  let sumLo = sumFloors;
  let lambda: number | undefined;
  for (const p of points) {
    const sumP = at(p);
    if (sumP >= available) {
      lambda = lo + ((available - sumLo) * (p - lo)) / (sumP - sumLo);
      break;
    }
    lo = p;
    sumLo = sumP;
  }
  if (lambda === undefined) {
    // Past the last breakpoint only the uncapped dependencies grow, at the sum of their raws.
    const slope = raws.reduce((s, r, i) => (caps[i] === Infinity ? s + r : s), 0);
    lambda = lo + (available - sumLo) / slope;
  }
  const budgets = raws.map((r, i) => clamp(lambda * r, floors[i]!, caps[i]!));
  // Rounding may leave the sum a hair above what is available: take it from the largest.
  const excess = budgets.reduce((a, b) => a + b, 0) - available;
  if (excess > 0) {
    const largest = budgets.indexOf(Math.max(...budgets));
    budgets[largest] = Math.max(floors[largest]!, budgets[largest]! - excess);
  }
  return budgets;
}

function clamp(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}

/** One call still running, for {@link shareUnused}. */
export interface RunningShare {
  /** Its raw share (p95 × weight × load factor). */
  readonly raw: number;
  /** Its deadline now (monotonic ms). */
  readonly deadline: number;
}

/**
 * Drift compensation: shares `unusedMs` (what a finished call left of its budget) among the calls
 * still running, in proportion to their raw shares, none past `limit` (the batch's deadline).
 * What a call cannot take because of the limit goes to the others, in proportion again; what
 * nobody can take is returned as `unallocatedMs`. Conserves time: Σ addMs + unallocatedMs =
 * unusedMs, every addMs >= 0, every deadline + addMs <= limit.
 *
 * @example
 * ```ts
 * shareUnused(30, [{ raw: 1, deadline: 100 }, { raw: 2, deadline: 100 }], 1_000);
 * // { addMs: [10, 20], unallocatedMs: 0 }
 * ```
 */
export function shareUnused(
  unusedMs: number,
  running: readonly RunningShare[],
  limit: number,
): {
  /** Milliseconds to add to each running call's deadline, in the order of `running`. */
  readonly addMs: number[];
  /** Milliseconds nobody could take (every call reached `limit`). */
  readonly unallocatedMs: number;
} {
  const addMs = running.map(() => 0);
  if (!(unusedMs > 0) || running.length === 0) {
    return { addMs, unallocatedMs: Math.max(0, unusedMs || 0) };
  }
  const room = running.map((c) => Math.max(0, limit - c.deadline));
  // Those with the least room per unit of share fill up first; the rest share what remains.
  const order = running
    .map((_, i) => i)
    .filter((i) => room[i]! > 0 && running[i]!.raw > 0)
    .sort((a, b) => room[a]! / running[a]!.raw - room[b]! / running[b]!.raw);
  let left = unusedMs;
  let rawLeft = order.reduce((s, i) => s + running[i]!.raw, 0);
  for (let k = 0; k < order.length; k++) {
    const i = order[k]!;
    const r = running[i]!.raw;
    const share = k === order.length - 1 ? left : (left * r) / rawLeft;
    const give = Math.min(share, room[i]!, left);
    addMs[i] = give;
    left -= give;
    rawLeft -= r;
  }
  return { addMs, unallocatedMs: Math.max(0, left) };
}
