// What the fault-injecting upstream does to a request: the profile's types, their checks (in the
// test process before anything is sent, and again in the upstream's process for a profile that
// came over its admin port) and the latency sampling.
import {
  checkBoolean,
  checkNumber,
  checkOneOf,
  checkString,
  invalidType,
  optionsObject,
  outOfRange,
} from "../core/internal.js";
import { standardNormal } from "./fault-upstream-random.js";

/**
 * How long the upstream takes to answer, in ms: a fixed number, or a distribution sampled per
 * request.
 *
 * - a number, or `{ type: "fixed", ms }`: always that long;
 * - `{ type: "lognormal", medianMs, sigma }`: `medianMs × e^(sigma·Z)` with Z standard normal, so
 *   half the requests take less than `medianMs`; sigma 0.5 gives p99 ≈ 3.2 × median, sigma 1
 *   p99 ≈ 10 × median (a heavy tail, as measured services have);
 * - `{ type: "pareto", minMs, alpha }`: `minMs / U^(1/alpha)`, never below `minMs`; the smaller
 *   alpha, the heavier the tail (alpha ≤ 1 has no finite mean; p99 = minMs × 100^(1/alpha)).
 *
 * Both distributions take `offsetMs` (added to every sample: a floor such as a network round
 * trip) and `maxMs` (samples above it are cut to it; default: no cap).
 *
 * @example
 * ```ts
 * import { type LatencyDistribution, startFaultUpstream } from "timebound/testing";
 *
 * const latency: LatencyDistribution = { type: "lognormal", medianMs: 20, sigma: 0.8, maxMs: 2_000 };
 * await using upstream = await startFaultUpstream({ latency });
 * ```
 */
export type LatencyDistribution =
  | number
  | {
      /** Always the same latency. */
      readonly type: "fixed";
      /** The latency, in ms. */
      readonly ms: number;
    }
  | {
      /** Log-normal: `medianMs × e^(sigma·Z)`. */
      readonly type: "lognormal";
      /** The median sample, in ms (before `offsetMs`). */
      readonly medianMs: number;
      /** The spread (standard deviation of the log); the larger, the longer the tail. */
      readonly sigma: number;
      /** Added to every sample, in ms. Default 0. */
      readonly offsetMs?: number;
      /** Samples above it are cut to it, in ms. Default: no cap. */
      readonly maxMs?: number;
    }
  | {
      /** Pareto: `minMs / U^(1/alpha)`, a heavy tail. */
      readonly type: "pareto";
      /** The smallest sample, in ms (before `offsetMs`). */
      readonly minMs: number;
      /** The tail index, > 0; the smaller, the heavier the tail. */
      readonly alpha: number;
      /** Added to every sample, in ms. Default 0. */
      readonly offsetMs?: number;
      /** Samples above it are cut to it, in ms. Default: no cap. */
      readonly maxMs?: number;
    };

/**
 * What a request that arrives inside an outage window gets:
 * - `"fail"`: an error status at once (`status`, default the profile's `errorStatus`);
 * - `"hang"`: no answer at all, until the client goes away;
 * - `"reset"`: its connection is reset (TCP RST: the client sees ECONNRESET);
 * - `"slow"`: the usual answer, its latency multiplied by `factor`.
 */
export type OutageMode = "fail" | "hang" | "reset" | "slow";

/**
 * A stretch of time during which every request of the profile's routes fails in the same way.
 * Times count from the moment the profile took effect (the start, or the last `configure()`).
 * Without `everyMs` the window is `[fromMs, toMs)` once; with it, the window repeats: a request
 * at time t is inside when `t mod everyMs` is in `[fromMs, toMs)`.
 *
 * @example
 * ```ts
 * // Down (503 at once) from 5 s to 8 s after the start; every minute, 10 s of hangs.
 * const outages: OutageWindow[] = [
 *   { fromMs: 5_000, toMs: 8_000, mode: "fail" },
 *   { fromMs: 0, toMs: 10_000, everyMs: 60_000, mode: "hang" },
 * ];
 * ```
 */
export interface OutageWindow {
  /** Start of the window, in ms after the profile took effect (or into each period), inclusive. */
  readonly fromMs: number;
  /** End of the window, in ms, exclusive; may be Infinity. */
  readonly toMs: number;
  /** Repeat the window with this period (ms, at least `toMs`). Default: once. */
  readonly everyMs?: number;
  /** What a request inside the window gets. */
  readonly mode: OutageMode;
  /** For `"fail"`: the status, 400 to 599. Default the profile's `errorStatus`. */
  readonly status?: number;
  /** For `"slow"` (required there): the latency multiplier, above 0. */
  readonly factor?: number;
}

/**
 * How the upstream treats a request (of the whole upstream, or of one route). Each request
 * goes through these steps in order, each decided from the seeded generator:
 * 1. an outage window that covers the time now decides alone (see {@link OutageWindow});
 * 2. with probability `resetRate` the connection is reset;
 * 3. with probability `hangRate` it is never answered (until the client goes away);
 * 4. a latency is drawn from `latency` and multiplied by `1 + inFlight / capacity`, where
 *    `inFlight` counts this route's requests in progress when this one arrived (not itself);
 * 5. with probability `errorRate` the answer is `errorStatus` (with `Retry-After` if
 *    `retryAfterSeconds` is set), after that latency, or at once with `failFast`;
 *    otherwise `status` with `body`.
 *
 * Every request draws the same number of random numbers whatever happens to it, so one fault
 * does not shift the draws of the requests after it.
 *
 * @example
 * ```ts
 * const sick: FaultProfile = {
 *   latency: { type: "lognormal", medianMs: 30, sigma: 1 },
 *   errorRate: 0.1,
 *   errorStatus: 503,
 *   retryAfterSeconds: 1,
 *   hangRate: 0.01,
 *   capacity: 50,
 * };
 * ```
 */
export interface FaultProfile {
  /** See {@link LatencyDistribution}. Default 0 (answers at once). */
  readonly latency?: LatencyDistribution;
  /** Slow-down with load: latency × (1 + inFlight / capacity). Default Infinity (none). */
  readonly capacity?: number;
  /** Share of requests answered with `errorStatus`, 0 to 1. Default 0. */
  readonly errorRate?: number;
  /** Status of the injected errors, 400 to 599. Default 503. */
  readonly errorStatus?: number;
  /** `Retry-After` (whole seconds) sent with injected errors and outage failures. Default none. */
  readonly retryAfterSeconds?: number;
  /** Injected errors answer at once instead of after the sampled latency. Default false. */
  readonly failFast?: boolean;
  /** Share of requests never answered (until the client goes away), 0 to 1. Default 0. */
  readonly hangRate?: number;
  /** Share of requests whose connection is reset (ECONNRESET), 0 to 1. Default 0. */
  readonly resetRate?: number;
  /** See {@link OutageWindow}. Default none. */
  readonly outages?: readonly OutageWindow[];
  /** Status of a normal answer, 200 to 599. Default 200. */
  readonly status?: number;
  /** Body of a normal answer. Default `"ok\n"`. */
  readonly body?: string;
}

/**
 * The whole behaviour of a fault-injecting upstream: a default profile (its own fields) and
 * per-route profiles. A route is a path prefix (plain string prefix, as nginx's `location /x`;
 * the longest matching one wins); a route's profile stands alone: fields it leaves out take
 * their defaults, not the default profile's values.
 *
 * @example
 * ```ts
 * const config: FaultConfig = {
 *   latency: 5, // every other path
 *   seed: 42,
 *   routes: {
 *     "/users": { latency: { type: "lognormal", medianMs: 20, sigma: 0.5 } },
 *     "/ads": { latency: { type: "pareto", minMs: 10, alpha: 1.5 }, errorRate: 0.2 },
 *   },
 * };
 * ```
 */
export interface FaultConfig extends FaultProfile {
  /** Path prefix → profile. Each prefix starts with "/". */
  readonly routes?: Readonly<Record<string, FaultProfile>>;
  /**
   * Seed of the generator (an integer from 0 to 2^32 − 1). Default: a random one, reported by
   * `stats().seed`. Given to `configure()`, it restarts the draws from that seed.
   */
  readonly seed?: number;
}

/** A latency sampler in plain data, so it crosses to the upstream's process as JSON. @internal */
export interface CheckedLatency {
  readonly type: "fixed" | "lognormal" | "pareto";
  readonly ms: number;
  readonly medianMs: number;
  readonly sigma: number;
  readonly minMs: number;
  readonly alpha: number;
  readonly offsetMs: number;
  readonly maxMs: number;
}

/** A checked window (for JSON, `everyMs` 0 means once). @internal */
export interface CheckedOutage {
  readonly fromMs: number;
  readonly toMs: number;
  readonly everyMs: number;
  readonly mode: OutageMode;
  readonly status: number;
  readonly factor: number;
}

/** A checked profile, every field present; `capacity` 0 means none (JSON has no Infinity). @internal */
export interface CheckedProfile {
  readonly latency: CheckedLatency;
  readonly capacity: number;
  readonly errorRate: number;
  readonly errorStatus: number;
  readonly retryAfterSeconds: number | undefined;
  readonly failFast: boolean;
  readonly hangRate: number;
  readonly resetRate: number;
  readonly outages: readonly CheckedOutage[];
  readonly status: number;
  readonly body: string;
}

/** A checked {@link FaultConfig}; routes longest prefix first. @internal */
export interface CheckedConfig {
  readonly profile: CheckedProfile;
  readonly routes: readonly { readonly prefix: string; readonly profile: CheckedProfile }[];
  readonly seed: number | undefined;
}

const PROFILE_KEYS = [
  "latency",
  "capacity",
  "errorRate",
  "errorStatus",
  "retryAfterSeconds",
  "failFast",
  "hangRate",
  "resetRate",
  "outages",
  "status",
  "body",
] as const;

/** The keys of {@link FaultConfig}. @internal */
export const CONFIG_KEYS: readonly string[] = [...PROFILE_KEYS, "routes", "seed"];

const SHARE = { min: 0, max: 1 };
const MS = { min: 0, max: 2 ** 31 - 1 };
const ERROR_STATUS = { min: 400, max: 599, integer: true };
/** A longest body: the upstream is a stand-in for a service, not a file server. */
const MAX_BODY = 1024 * 1024;

/**
 * Checks `value` as a {@link FaultConfig} for `fn`; `what` names it in messages ("options"),
 * `extraKeys` are other keys the caller's options may hold. Throws a TypeError or RangeError
 * (code TIMEBOUND_ERR_INVALID_ARGUMENT, or TIMEBOUND_ERR_UNKNOWN_OPTION) naming the option.
 *
 * @internal
 */
export function checkFaultConfig(
  fn: string,
  value: unknown,
  what = "options",
  extraKeys: readonly string[] = [],
): CheckedConfig {
  const given = optionsObject(value as FaultConfig | undefined, fn, [
    ...CONFIG_KEYS,
    ...extraKeys,
  ]) as FaultConfig;
  const seed =
    given.seed === undefined
      ? undefined
      : checkNumber(given.seed, fn, `${what}.seed`, { min: 0, max: 2 ** 32 - 1, integer: true });
  const routes: { prefix: string; profile: CheckedProfile }[] = [];
  if (given.routes !== undefined) {
    const table = optionsObject(given.routes, fn, undefined, `${what}.routes`);
    for (const [prefix, profile] of Object.entries(table)) {
      const where = `${what}.routes[${JSON.stringify(prefix)}]`;
      if (!prefix.startsWith("/")) {
        throw outOfRange(
          `${fn}: ${what}.routes keys must be path prefixes starting with "/", got ${JSON.stringify(prefix)}`,
        );
      }
      routes.push({ prefix, profile: checkProfile(fn, profile, where, PROFILE_KEYS) });
    }
    routes.sort((a, b) => b.prefix.length - a.prefix.length);
  }
  return { profile: checkProfile(fn, given, what, undefined), routes, seed };
}

function checkProfile(
  fn: string,
  value: unknown,
  what: string,
  known: readonly string[] | undefined,
): CheckedProfile {
  const p = optionsObject(value as FaultProfile | undefined, fn, known, what) as FaultProfile;
  const share = (key: "errorRate" | "hangRate" | "resetRate"): number =>
    p[key] === undefined ? 0 : checkNumber(p[key], fn, `${what}.${key}`, SHARE);
  const errorStatus =
    p.errorStatus === undefined
      ? 503
      : checkNumber(p.errorStatus, fn, `${what}.errorStatus`, ERROR_STATUS);
  const body = p.body === undefined ? "ok\n" : checkString(p.body, fn, `${what}.body`, true);
  if (Buffer.byteLength(body) > MAX_BODY) {
    throw outOfRange(
      `${fn}: ${what}.body must be at most ${MAX_BODY} bytes, got ${Buffer.byteLength(body)}`,
    );
  }
  let outages: CheckedOutage[] = [];
  if (p.outages !== undefined) {
    if (!Array.isArray(p.outages)) {
      throw invalidType(
        `${fn}: ${what}.outages must be an array of windows, got ${typeof p.outages}`,
      );
    }
    outages = p.outages.map((w, i) => checkOutage(fn, w, `${what}.outages[${i}]`, errorStatus));
  }
  return {
    latency: checkLatency(fn, p.latency ?? 0, `${what}.latency`),
    capacity:
      p.capacity === undefined || p.capacity === Infinity
        ? 0
        : positive(p.capacity, fn, `${what}.capacity`, ""),
    errorRate: share("errorRate"),
    errorStatus,
    retryAfterSeconds:
      p.retryAfterSeconds === undefined
        ? undefined
        : checkNumber(
            p.retryAfterSeconds,
            fn,
            `${what}.retryAfterSeconds`,
            { min: 0, max: 2 ** 31 - 1, integer: true },
            "seconds",
          ),
    failFast: p.failFast === undefined ? false : checkBoolean(p.failFast, fn, `${what}.failFast`),
    hangRate: share("hangRate"),
    resetRate: share("resetRate"),
    outages,
    status:
      p.status === undefined
        ? 200
        : checkNumber(p.status, fn, `${what}.status`, { min: 200, max: 599, integer: true }),
    body,
  };
}

function checkOutage(fn: string, value: unknown, what: string, errorStatus: number): CheckedOutage {
  const known = ["fromMs", "toMs", "everyMs", "mode", "status", "factor"];
  const w = optionsObject(value as OutageWindow | undefined, fn, known, what);
  const fromMs = checkNumber(w.fromMs, fn, `${what}.fromMs`, MS, "milliseconds");
  const toMs = checkNumber(
    w.toMs,
    fn,
    `${what}.toMs`,
    { min: fromMs, max: MS.max, infinity: true },
    "milliseconds",
  );
  const everyMs =
    w.everyMs === undefined
      ? 0
      : checkNumber(
          w.everyMs,
          fn,
          `${what}.everyMs`,
          { min: Math.max(toMs, 1), max: 2 ** 31 - 1 },
          "milliseconds",
        );
  const mode = checkOneOf(w.mode, fn, `${what}.mode`, ["fail", "hang", "reset", "slow"] as const);
  if (w.status !== undefined && mode !== "fail") {
    throw invalidType(
      `${fn}: ${what}.status applies to mode "fail" only, got mode ${JSON.stringify(mode)}`,
    );
  }
  if ((w.factor !== undefined) !== (mode === "slow")) {
    throw invalidType(
      `${fn}: ${what}.factor is required with mode "slow" and refused with any other mode`,
    );
  }
  return {
    fromMs,
    toMs: toMs === Infinity ? Number.MAX_VALUE : toMs,
    everyMs,
    mode,
    status:
      w.status === undefined
        ? errorStatus
        : checkNumber(w.status, fn, `${what}.status`, ERROR_STATUS),
    factor: w.factor === undefined ? 1 : positive(w.factor, fn, `${what}.factor`, ""),
  };
}

function checkLatency(fn: string, value: unknown, what: string): CheckedLatency {
  const base = {
    type: "fixed",
    ms: 0,
    medianMs: 0,
    sigma: 0,
    minMs: 0,
    alpha: 1,
    offsetMs: 0,
    maxMs: Number.MAX_VALUE,
  } as const;
  if (typeof value === "number")
    return { ...base, ms: checkNumber(value, fn, what, MS, "milliseconds") };
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidType(
      `${fn}: ${what} must be a number of milliseconds or a distribution ({ type: "fixed" | "lognormal" | "pareto", ... }), got ${typeof value}`,
    );
  }
  const type = checkOneOf((value as { type?: unknown }).type, fn, `${what}.type`, [
    "fixed",
    "lognormal",
    "pareto",
  ] as const);
  const keys = {
    fixed: ["type", "ms"],
    lognormal: ["type", "medianMs", "sigma", "offsetMs", "maxMs"],
    pareto: ["type", "minMs", "alpha", "offsetMs", "maxMs"],
  }[type];
  const d = optionsObject(value as Record<string, unknown>, fn, keys, what);
  const num = (key: string, range: { min: number; max: number }, unit = "milliseconds"): number =>
    checkNumber(d[key], fn, `${what}.${key}`, range, unit);
  const tail = {
    offsetMs: d.offsetMs === undefined ? 0 : num("offsetMs", MS),
    maxMs: d.maxMs === undefined ? Number.MAX_VALUE : num("maxMs", MS),
  };
  switch (type) {
    case "fixed":
      return { ...base, ms: num("ms", MS) };
    case "lognormal":
      return {
        ...base,
        type,
        medianMs: num("medianMs", MS),
        sigma: num("sigma", { min: 0, max: 10 }, ""),
        ...tail,
      };
    case "pareto":
      return {
        ...base,
        type,
        minMs: positive(d.minMs, fn, `${what}.minMs`, "milliseconds"),
        alpha: num("alpha", { min: 0.05, max: 100 }, ""),
        ...tail,
      };
  }
}

/** A finite number above 0. */
function positive(value: unknown, fn: string, what: string, unit: string): number {
  const n = checkNumber(value, fn, what, { min: 0, max: Infinity }, unit);
  if (n === 0 || n === Infinity) {
    throw outOfRange(`${fn}: ${what} must be a finite number above 0, got ${n}`);
  }
  return n;
}

/** One latency sample in ms from two uniforms in [0, 1). @internal */
export function sampleLatency(d: CheckedLatency, u1: number, u2: number): number {
  let ms: number;
  switch (d.type) {
    case "fixed":
      return d.ms;
    case "lognormal":
      ms = d.medianMs * Math.exp(d.sigma * standardNormal(u1, u2));
      break;
    case "pareto":
      ms = d.minMs / Math.pow(1 - u1, 1 / d.alpha); // 1 - u1 is in (0, 1]
      break;
  }
  return Math.min(d.offsetMs + ms, d.maxMs);
}
