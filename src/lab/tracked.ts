import { startInterval } from "../core/internal.js";
import { join, relative, resolve } from "node:path";
import { type DumpResult, writeDump } from "../diagnostics/dump.js";
import type { Finding, FindingKind, Snapshot } from "../diagnostics/model.js";
import type { TrackOptions } from "../diagnostics/options.js";
import { type Tracking, activeTracking, track } from "../diagnostics/track.js";
import { garbageCollector } from "./gc.js";
import { DEFAULT_LAB_OUT, type LabOptions } from "./options.js";
import type { ResultRow } from "./scenario.js";
import { textRow } from "./rows.js";

/**
 * @internal Tracking options for a lab variant: thresholds short enough for a run of a second or
 * two, every timer sampled, growth sampled often enough for a verdict, and no exit or signal dumps
 * (the lab writes its own).
 */
export function labTrackOptions(overrides: TrackOptions = {}): TrackOptions {
  return {
    neverCanceledMs: 100,
    ignoredCancellationMs: 50,
    timerSampleEvery: 1,
    waitSampleEvery: 1,
    sampleIntervalMs: 50,
    reportDir: undefined,
    dumpOnExit: false,
    dumpSignal: false,
    maxEvents: 50,
    ...overrides,
  };
}

/** How often {@link trackedVariant} forces a full garbage collection. */
const COLLECT_EVERY_MS = 100;

/** @internal What one tracked variant left: its findings and the folder its dump went to. */
export interface TrackedVariant<T> {
  readonly value: T;
  readonly snapshot: Snapshot;
  readonly dump: DumpResult;
}

/**
 * @internal Runs one variant with tracking on, takes a snapshot when `body` says (or at its end),
 * writes the dump (text, JSON, pprof, flame graph, curves) to `dir`, and stops tracking again. If
 * the process is already tracked (`--import timebound/register`), that tracking is used and left
 * on.
 */
export async function trackedVariant<T>(
  dir: string,
  options: TrackOptions,
  body: (tracking: Tracking, takeSnapshot: () => void) => Promise<T>,
): Promise<TrackedVariant<T>> {
  const ours = activeTracking() === undefined;
  const tracking = track(options);
  // Full collections between growth samples, so the heap curve shows what is retained rather
  // than the garbage of a run too short for V8 to have collected on its own.
  const gc = garbageCollector();
  const collecting = gc === null ? undefined : startInterval(gc, COLLECT_EVERY_MS);
  let snapshot: Snapshot | undefined;
  try {
    const value = await body(tracking, () => {
      tracking.sampler.sample(); // the curve ends where the snapshot is taken
      snapshot = tracking.snapshot();
    });
    if (snapshot === undefined) {
      tracking.sampler.sample();
      snapshot = tracking.snapshot();
    }
    return { value, snapshot, dump: await writeDump(dir, snapshot) };
  } finally {
    clearInterval(collecting);
    if (ours) tracking.stop();
  }
}

/** @internal `<out>/<scenario>/<variant>`, absolute. */
export function variantDir(options: LabOptions, scenario: string, variant: string): string {
  return resolve(options.out ?? DEFAULT_LAB_OUT, scenario, variant);
}

/** @internal Findings of one kind. */
export function findingsOf(snapshot: Snapshot, kind: FindingKind): Finding[] {
  return snapshot.findings.filter((f) => f.kind === kind);
}

/** @internal How many findings of each kind, for a table cell: "never-canceled ×1, growth ×2" or "none". */
export function findingKinds(snapshot: Snapshot): string {
  const counts = new Map<string, number>();
  for (const f of snapshot.findings) counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1);
  if (counts.size === 0) return "none";
  return [...counts].map(([kind, n]) => `${kind} ×${n}`).join(", ");
}

/** @internal One sentence naming where a variant's dump is, for the result's findings. */
export function dumpSentence(label: string, dump: DumpResult): string {
  const shown = relative(process.cwd(), dump.dir) || ".";
  const where = shown.startsWith("..") ? dump.dir : shown;
  const failed = dump.failed.length === 0 ? "" : ` (${dump.failed.length} files failed)`;
  return (
    `${label} dump: ${join(where, "dump.txt")}, ${join(where, "profile.pb.gz")}, ` +
    `${join(where, "flamegraph.html")}${failed}`
  );
}

/** @internal Armed `setTimeout`/`setInterval` handles in this process right now. */
export function armedTimeouts(): number {
  return process.getActiveResourcesInfo().filter((type) => type === "Timeout").length;
}

/**
 * @internal Runs `body` once with tracking on and throws the result away: compiling the handlers
 * and the tracker's own paths grows the heap for a while, which a short measured run would
 * otherwise report as growth.
 */
export async function warmUp(options: TrackOptions, body: () => Promise<unknown>): Promise<void> {
  const ours = activeTracking() === undefined;
  const tracking = track(options);
  try {
    await body();
  } finally {
    if (ours) tracking.stop();
  }
}

/** @internal The "tracker findings" row: the finding kinds of each variant's snapshot. */
export function findingsRow(
  wrong: { readonly snapshot: Snapshot },
  right: { readonly snapshot: Snapshot },
): ResultRow {
  return textRow(
    "findings",
    "tracker findings",
    findingKinds(wrong.snapshot),
    findingKinds(right.snapshot),
  );
}

/** @internal The sentences naming where both variants' dumps are. */
export function dumpSentences(
  wrong: { readonly dump: DumpResult },
  right: { readonly dump: DumpResult },
): string[] {
  return [dumpSentence("wrong", wrong.dump), dumpSentence("right", right.dump)];
}

/** @internal Row builders, for scenarios that import them from here. */
export { numberRow, textRow } from "./rows.js";
