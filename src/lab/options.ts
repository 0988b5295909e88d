/** How a lab run is sized. Every field has a default and a validated range ({@link LAB_LIMITS}). */
export interface LabOptions {
  /** Requests the missing-cancel handler serves in each variant. Default 20,000. */
  readonly requests: number;
  /**
   * Multiplier for every configured duration, so the default run is quick: at 0.25 the seed's
   * "parent 3 s / child 2 s" runs as 750 ms / 500 ms. Reports show both times. Default 0.25.
   */
  readonly scale: number;
  /**
   * Folder the diagnostics scenarios write their dumps into (`<out>/<id>/wrong|right`).
   * Default "lab-output" in the current directory.
   */
  readonly out?: string;
}

/** Where the lab writes dumps when no `out` is given. */
export const DEFAULT_LAB_OUT = "lab-output";

/** The options `timebound lab` runs with when none are given. */
export const DEFAULT_LAB_OPTIONS: LabOptions = { requests: 20_000, scale: 0.25 };

/**
 * Accepted ranges. Below 0.05 the scaled deadlines get close to timer granularity; above
 * 1,000,000 requests the leaking variant needs more heap than Node gives by default.
 */
export const LAB_LIMITS = {
  requests: { min: 1, max: 1_000_000 },
  scale: { min: 0.05, max: 10 },
} as const;

/** Why a lab option was refused: which option, the value given and what it must be. */
export class LabOptionError extends RangeError {
  constructor(
    readonly option: keyof LabOptions,
    readonly value: unknown,
    /** What would have been accepted: "a whole number from 1 to 1,000,000". */
    readonly expected: string,
  ) {
    super(`${option} must be ${expected}, got ${String(value)}`);
    this.name = "LabOptionError";
  }
}

/** Fills in defaults and checks ranges; throws {@link LabOptionError} naming the bad option. */
export function labOptions(given: Partial<LabOptions> = {}): LabOptions {
  const requests = given.requests ?? DEFAULT_LAB_OPTIONS.requests;
  const scale = given.scale ?? DEFAULT_LAB_OPTIONS.scale;
  const r = LAB_LIMITS.requests;
  if (!Number.isInteger(requests) || requests < r.min || requests > r.max) {
    const range = `${r.min} to ${r.max.toLocaleString("en-US")}`;
    throw new LabOptionError("requests", requests, `a whole number from ${range}`);
  }
  const s = LAB_LIMITS.scale;
  if (!Number.isFinite(scale) || scale < s.min || scale > s.max) {
    throw new LabOptionError("scale", scale, `a number from ${s.min} to ${s.max}`);
  }
  if (given.out !== undefined && (typeof given.out !== "string" || given.out === "")) {
    throw new LabOptionError("out", given.out, "a folder path");
  }
  return given.out === undefined ? { requests, scale } : { requests, scale, out: given.out };
}
