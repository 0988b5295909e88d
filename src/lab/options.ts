import { INVALID_ARGUMENT, defineErrorClass, readOptions } from "../core/internal.js";

/** @internal How a lab run is sized. Every field has a default and a validated range ({@link LAB_LIMITS}). */
export interface LabOptions {
  /** Requests the missing-cancel handler serves in each variant. Default 20,000. */
  readonly requests: number;
  /**
   * Multiplier for every configured duration, so the default run is quick: at 0.25 the seed's
   * "parent 3 s / child 2 s" runs as 750 ms / 500 ms. Reports show both times. Default 0.25.
   */
  readonly scale: number;
  /**
   * The whole lab's quick run: its longest scenarios (`QUICK_RUN_SCENARIOS` in quick.ts) run
   * shortened, and say so, so that `timebound lab` with no options takes about a minute. Default: on when no `scale` is given (`timebound lab` also turns it off for
   * `--only`); absent or false, every scenario runs at `scale`.
   */
  readonly quick?: boolean;
  /**
   * Folder the diagnostics scenarios write their dumps into (`<out>/<id>/wrong|right`).
   * Default "lab-output" in the current directory.
   */
  readonly out?: string;
}

/** @internal Where the lab writes dumps when no `out` is given. */
export const DEFAULT_LAB_OUT = "lab-output";

/** @internal The options `timebound lab` runs with when none are given. */
export const DEFAULT_LAB_OPTIONS: LabOptions = { requests: 20_000, scale: 0.25, quick: true };

/**
 * @internal Accepted ranges. Below 0.05 the scaled deadlines get close to timer granularity; above
 * 1,000,000 requests the leaking variant needs more heap than Node gives by default.
 */
export const LAB_LIMITS = {
  requests: { min: 1, max: 1_000_000 },
  scale: { min: 0.05, max: 10 },
} as const;

/**
 * @internal Why a lab option was refused: which option, the value given and what it must be. The
 * `timebound lab` command turns it into a usage error naming the flag (`--requests`).
 *
 * @example
 * ```ts
 * try {
 *   labOptions({ requests: 0 });
 * } catch (err) {
 *   if (err instanceof LabOptionError) console.error(`--${err.option} must be ${err.expected}`);
 * }
 * ```
 */
export class LabOptionError extends RangeError {
  /** `"TIMEBOUND_ERR_LAB_OPTION"`. */
  declare readonly code: "TIMEBOUND_ERR_LAB_OPTION";

  constructor(
    readonly option: keyof LabOptions,
    readonly value: unknown,
    /** What would have been accepted: "a whole number from 1 to 1,000,000". */
    readonly expected: string,
    options?: ErrorOptions,
  ) {
    super(`${option} must be ${expected}, got ${String(value)}`, options);
  }
}

defineErrorClass(LabOptionError, "LabOptionError", {
  kind: "timebound.LabOptionError",
  code: "TIMEBOUND_ERR_LAB_OPTION",
});

/** Runs the shared check `check`; a refusal becomes a {@link LabOptionError} saying `expected`. */
function checked<T>(option: keyof LabOptions, value: unknown, expected: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (hasCode(err, INVALID_ARGUMENT))
      throw new LabOptionError(option, value, expected, { cause: err });
    throw err;
  }
}

function hasCode(err: unknown, code: string): boolean {
  return err instanceof Error && (err as { code?: unknown }).code === code;
}

/**
 * @internal Fills in defaults and checks ranges; throws {@link LabOptionError} naming the bad
 * option, and a TypeError (`TIMEBOUND_ERR_UNKNOWN_OPTION`) for an option it does not know.
 *
 * @example
 * ```ts
 * labOptions(); // { requests: 20_000, scale: 0.25, quick: true }
 * labOptions({ scale: 1 }); // { requests: 20_000, scale: 1 }: a scale given means full size
 * ```
 */
export function labOptions(given: Partial<LabOptions> = {}): LabOptions {
  const fn = "labOptions";
  const o = readOptions(given, fn, ["requests", "scale", "quick", "out"]);
  const r = LAB_LIMITS.requests;
  const requests = checked(
    "requests",
    o.raw("requests"),
    `a whole number from ${r.min} to ${r.max.toLocaleString("en-US")}`,
    () => o.number("requests", DEFAULT_LAB_OPTIONS.requests, { ...r, integer: true }),
  );
  const s = LAB_LIMITS.scale;
  const scale = checked("scale", o.raw("scale"), `a number from ${s.min} to ${s.max}`, () =>
    o.number("scale", DEFAULT_LAB_OPTIONS.scale, s),
  );
  const quick = checked("quick", o.raw("quick"), "true or false", () =>
    o.boolean("quick", o.raw("scale") === undefined),
  );
  const out = checked("out", o.raw("out"), "a folder path", () => o.string("out", undefined));
  return {
    requests,
    scale,
    ...(quick ? { quick } : {}),
    ...(out === undefined ? {} : { out }),
  };
}
