import * as inspector from "node:inspector";
import type { Frame } from "./model.js";
import { parseFrame } from "./stacks.js";
import { originalTimers } from "./timers.js";

/** Sampling interval of the profiler, µs: a block of 50 ms gets about ten samples. */
const SAMPLING_INTERVAL_US = 5_000;
/** The profile grows with every sample; it is restarted this often (and after each look). */
const RESTART_EVERY_MS = 60_000;
/** Pseudo-frames V8 uses for time not spent in JavaScript. */
const NOT_JS = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

type Profile = inspector.Profiler.Profile;
type ProfileNode = inspector.Profiler.ProfileNode;

/**
 * @internal Names the JavaScript that blocked the event loop, after the fact: V8's sampling
 * profiler runs in the background (in-process inspector session, sampling every 5 ms), and when a
 * deadline fires late the samples of the blocked interval are read back and the most frequent stack
 * is taken. "Where possible": it needs the inspector (not when another debugger holds the
 * profiler), and a block shorter than a few sampling intervals may leave no sample.
 */
export class BlockingProfiler {
  #session: inspector.Session | undefined;
  #restartTimer: ReturnType<typeof setInterval> | undefined;

  /** Starts profiling; returns false (and stays off) when the inspector is not available. */
  start(): boolean {
    try {
      const session = new inspector.Session();
      session.connect();
      let ok = true;
      session.post("Profiler.enable", (err) => (ok &&= err === null));
      session.post("Profiler.setSamplingInterval", { interval: SAMPLING_INTERVAL_US }, (err) => {
        ok &&= err === null;
      });
      session.post("Profiler.start", (err) => (ok &&= err === null));
      if (!ok) {
        session.disconnect();
        return false;
      }
      this.#session = session;
    } catch {
      return false;
    }
    this.#restartTimer = originalTimers.setInterval(() => this.#restart(), RESTART_EVERY_MS);
    this.#restartTimer.unref();
    return true;
  }

  stop(): void {
    if (this.#restartTimer !== undefined) originalTimers.clearInterval(this.#restartTimer);
    this.#restartTimer = undefined;
    this.#session?.disconnect();
    this.#session = undefined;
  }

  /**
   * The stack seen most often in the last `windowMs` of samples, innermost frame first, or
   * undefined if there is no profile or no JavaScript ran in that window.
   */
  blockingStack(windowMs: number): Frame[] | undefined {
    const profile = this.#restart();
    return profile === undefined ? undefined : hottestStack(profile, windowMs * 1_000);
  }

  /** Stops the profiler, starts it afresh, and returns what it had. */
  #restart(): Profile | undefined {
    const session = this.#session;
    if (session === undefined) return undefined;
    // The in-process session answers synchronously, so the profile is here when post returns.
    let profile: Profile | undefined;
    session.post("Profiler.stop", (err, result) => {
      if (err === null) profile = result.profile;
    });
    session.post("Profiler.start");
    return profile;
  }
}

/** @internal The most frequent leaf among the samples in the last `windowUs` of `profile`, as frames. */
export function hottestStack(profile: Profile, windowUs: number): Frame[] | undefined {
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const byId = new Map<number, ProfileNode>();
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parentOf.set(child, node.id);
  }
  // Timestamps are the running sum of the deltas from startTime.
  const times: number[] = [];
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) times.push((t += deltas[i] ?? 0));
  const from = profile.endTime - windowUs;
  const hits = new Map<number, number>();
  for (let i = samples.length - 1; i >= 0 && times[i]! >= from; i--) {
    const id = samples[i]!;
    if (NOT_JS.has(byId.get(id)?.callFrame.functionName ?? "")) continue;
    hits.set(id, (hits.get(id) ?? 0) + 1);
  }
  let best: number | undefined;
  for (const [id, n] of hits) if (best === undefined || n > hits.get(best)!) best = id;
  if (best === undefined) return undefined;
  const frames: Frame[] = [];
  for (let id: number | undefined = best; id !== undefined; id = parentOf.get(id)) {
    const call = byId.get(id)?.callFrame;
    if (call === undefined || NOT_JS.has(call.functionName)) continue;
    const where =
      call.url === ""
        ? "<anonymous>"
        : `${call.url}:${call.lineNumber + 1}:${call.columnNumber + 1}`;
    const frame = parseFrame(`at ${call.functionName || "(anonymous)"} (${where})`);
    if (frame !== undefined && !frame.file.startsWith("node:")) frames.push(frame);
  }
  return frames;
}
