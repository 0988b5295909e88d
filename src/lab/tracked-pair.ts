// The diagnostics scenarios' two runs: the wrong variant, then the right one, each with tracking
// on and its dump written to <out>/<scenario>/<variant>.
import type { TrackOptions } from "../diagnostics/options.js";
import type { Tracking } from "../diagnostics/track.js";
import type { LabOptions } from "./options.js";
import type { Progress } from "./scenario.js";
import { type TrackedVariant, trackedVariant, variantDir } from "./tracked.js";

/** @internal Which of a scenario's two variants. */
export type VariantName = "wrong" | "right";

/** @internal How one variant runs: its tracking options, and its body (see {@link trackedVariant}). */
export interface TrackedRun<T> {
  readonly track: TrackOptions;
  readonly body: (tracking: Tracking, takeSnapshot: () => void) => Promise<T>;
}

/**
 * @internal Runs scenario `id`'s wrong variant, then its right one, each as `variant(name)` says,
 * with tracking on from its body's start (what `variant` does itself, such as creating a
 * long-lived context, happens before). `detail` ends each progress step.
 */
export async function trackedPair<T>(
  id: string,
  options: LabOptions,
  progress: Progress,
  detail: string,
  variant: (name: VariantName) => TrackedRun<T>,
): Promise<{ readonly wrong: TrackedVariant<T>; readonly right: TrackedVariant<T> }> {
  const one = (name: VariantName): Promise<TrackedVariant<T>> => {
    progress.step(`${id}: ${name} variant, ${detail}`);
    const { track, body } = variant(name);
    return trackedVariant(variantDir(options, id, name), track, body);
  };
  const wrong = await one("wrong");
  const right = await one("right");
  return { wrong, right };
}
