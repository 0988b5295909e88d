import { invalidType, outOfRange } from "../core/internal.js";
import { type ResolvedTrackOptions, resolveTrackOptions } from "./options.js";

/** Environment variables: `process.env`, or an object of the same shape. @inline */
type Env = Readonly<Record<string, string | undefined>>;
type Parse = "number" | "flag" | "string" | "signal" | "list";

/**
 * The environment variables that configure tracking and the option each one sets (see
 * `TrackOptions` for defaults and ranges). `TIMEBOUND_TRACK` is the switch: "1" turns
 * tracking on when `timebound/diagnostics` is imported, "0" keeps `timebound/register` off.
 * Flags take 1/0 (or true/false); `TIMEBOUND_DUMP_SIGNAL=off` disables the signal dump. Each
 * entry is `[option, how the value is read]`.
 */
export const ENV_VARS = {
  /** Sets {@link TrackOptions.reportDir}: a path. */
  TIMEBOUND_REPORT_DIR: ["reportDir", "string"],
  /** Sets {@link TrackOptions.neverCanceledMs}: a number. */
  TIMEBOUND_NEVER_CANCELED_MS: ["neverCanceledMs", "number"],
  /** Sets {@link TrackOptions.ignoredCancellationMs}: a number. */
  TIMEBOUND_IGNORED_CANCELLATION_MS: ["ignoredCancellationMs", "number"],
  /** Sets {@link TrackOptions.lateDeadlineMs}: a number. */
  TIMEBOUND_LATE_DEADLINE_MS: ["lateDeadlineMs", "number"],
  /** Sets {@link TrackOptions.timers}: 1 or 0. */
  TIMEBOUND_TIMERS: ["timers", "flag"],
  /** Sets {@link TrackOptions.timerSampleEvery}: a number. */
  TIMEBOUND_TIMER_SAMPLE_EVERY: ["timerSampleEvery", "number"],
  /** Sets {@link TrackOptions.followAsyncTimers}: 1 or 0. */
  TIMEBOUND_FOLLOW_ASYNC_TIMERS: ["followAsyncTimers", "flag"],
  /** Sets {@link TrackOptions.waitSampleEvery}: a number. */
  TIMEBOUND_WAIT_SAMPLE_EVERY: ["waitSampleEvery", "number"],
  /** Sets {@link TrackOptions.fetch}: 1 or 0. */
  TIMEBOUND_FETCH: ["fetch", "flag"],
  /** Sets {@link TrackOptions.sampleIntervalMs}: a number. */
  TIMEBOUND_SAMPLE_INTERVAL_MS: ["sampleIntervalMs", "number"],
  /** Sets {@link TrackOptions.growthMinRunMs}: a number. */
  TIMEBOUND_GROWTH_MIN_RUN_MS: ["growthMinRunMs", "number"],
  /** Sets {@link TrackOptions.maxSamples}: a number. */
  TIMEBOUND_MAX_SAMPLES: ["maxSamples", "number"],
  /** Sets {@link TrackOptions.blockingStacks}: 1 or 0. */
  TIMEBOUND_BLOCKING_STACKS: ["blockingStacks", "flag"],
  /** Sets {@link TrackOptions.maxEvents}: a number. */
  TIMEBOUND_MAX_EVENTS: ["maxEvents", "number"],
  /** Sets {@link TrackOptions.maxTimers}: a number. */
  TIMEBOUND_MAX_TIMERS: ["maxTimers", "number"],
  /** Sets {@link TrackOptions.dumpOnExit}: 1 or 0. */
  TIMEBOUND_DUMP_ON_EXIT: ["dumpOnExit", "flag"],
  /** Sets {@link TrackOptions.dumpSignal}: a signal name, or "off". */
  TIMEBOUND_DUMP_SIGNAL: ["dumpSignal", "signal"],
  /** Sets {@link TrackOptions.longLived}: context names separated by commas (`*` a wildcard). */
  TIMEBOUND_LONG_LIVED: ["longLived", "list"],
  /** Sets {@link SnapshotBounds.maxContexts}: a number. */
  TIMEBOUND_MAX_CONTEXTS: ["bounds.maxContexts", "number"],
  /** Sets {@link SnapshotBounds.maxOperations}: a number. */
  TIMEBOUND_MAX_OPERATIONS: ["bounds.maxOperations", "number"],
  /** Sets {@link SnapshotBounds.maxFindings}: a number. */
  TIMEBOUND_MAX_FINDINGS: ["bounds.maxFindings", "number"],
} as const satisfies Record<string, readonly [string, Parse]>;

type EnvName = keyof typeof ENV_VARS;

/** @internal Old names still read when the new one is unset (the library spells "canceled" one way now). */
export const ENV_ALIASES: Readonly<Record<string, EnvName>> = {
  TIMEBOUND_NEVER_CANCELLED_MS: "TIMEBOUND_NEVER_CANCELED_MS",
};

function parse(fn: string, name: string, raw: string, as: Parse): unknown {
  switch (as) {
    case "number": {
      const n = Number(raw);
      if (!Number.isFinite(n)) {
        throw outOfRange(`${fn}: environment variable ${name} must be a number, got "${raw}"`);
      }
      return n;
    }
    case "flag":
      if (raw === "1" || raw === "true") return true;
      if (raw === "0" || raw === "false") return false;
      throw invalidType(`${fn}: environment variable ${name} must be 1 or 0, got "${raw}"`);
    case "signal":
      return raw === "off" ? false : raw;
    case "string":
      return raw;
    case "list":
      return raw
        .split(",")
        .map((p) => p.trim())
        .filter((p) => p !== "");
  }
}

/** @internal Whether the environment asks for tracking (`TIMEBOUND_TRACK`), or undefined if it says nothing. */
export function trackingFromEnv(
  env: Env = process.env,
  fn = "trackingFromEnv",
): boolean | undefined {
  const raw = env.TIMEBOUND_TRACK;
  return raw === undefined || raw === ""
    ? undefined
    : (parse(fn, "TIMEBOUND_TRACK", raw, "flag") as boolean);
}

/**
 * Reads tracking options from environment variables ({@link ENV_VARS}) and validates them; an
 * unset or empty variable leaves its option at the default. A bad value throws an error that
 * names the variable (and `fn`, who read it: "optionsFromEnv", or "timebound/register" for the
 * preload).
 *
 * @example
 * ```ts
 * track(optionsFromEnv()); // TIMEBOUND_NEVER_CANCELED_MS=5000 node app.js
 * ```
 */
export function optionsFromEnv(
  env: Env = process.env,
  fn = "optionsFromEnv",
): ResolvedTrackOptions {
  const options: Record<string, unknown> = {};
  const bounds: Record<string, unknown> = {};
  const envNameOf = new Map<string, string>();
  const oldNameOf = new Map(Object.entries(ENV_ALIASES).map(([old, name]) => [name, old]));
  for (const [newName, [key, as]] of Object.entries(ENV_VARS) as [EnvName, [string, Parse]][]) {
    const oldName = oldNameOf.get(newName);
    const useOld = (env[newName] ?? "") === "" && oldName !== undefined;
    const name = useOld ? oldName : newName;
    envNameOf.set(key, name);
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    const value = parse(fn, name, raw, as);
    if (key.startsWith("bounds.")) bounds[key.slice("bounds.".length)] = value;
    else options[key] = value;
  }
  options.bounds = bounds;
  return resolveTrackOptions(
    options,
    fn,
    (key) => `environment variable ${envNameOf.get(key) ?? key}`,
  );
}
