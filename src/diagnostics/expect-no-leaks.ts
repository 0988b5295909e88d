import { now } from "../core/index.js";
import { checkFunction, readOptions } from "../core/internal.js";
import { AssertionError } from "node:assert";
import { plural } from "./format.js";
import type { Frame, Snapshot, TrackedContext, TrackedOperation } from "./model.js";
import { toTextReport } from "./report-text.js";
import { toContext, toOperation } from "./snapshot.js";
import { madeByProgram } from "./stacks.js";
import { originalTimers } from "./timers.js";
import { type Tracking, activeTracking, track } from "./track.js";

/** Something a test left behind. */
export type Leak =
  | {
      /** A context created during the check and still live. */
      readonly type: "context";
      /** The context, with its creation stack. */
      readonly item: TrackedContext;
    }
  | {
      /** An operation (or a timer) started during the check and still running (or armed). */
      readonly type: "operation" | "timer";
      /** The operation, with the stack where it started. */
      readonly item: TrackedOperation;
    };

/** Options of {@link expectNoLeaks} and {@link leakCheck}. */
export interface LeakCheckOptions {
  /**
   * How long to wait for things to finish before calling them leaks: work that ends a moment
   * after the test (a timer due in 5 ms) is not a leak. Checked every 10 ms. Default 1,000; 0..60,000.
   */
  readonly graceMs?: number;
  /** Ignore leaks with a frame whose function name matches (goleak's IgnoreAnyFunction). */
  readonly ignoreFunctions?: readonly (string | RegExp)[];
  /** Ignore leaks this returns true for. */
  readonly ignore?: (leak: Leak) => boolean;
  /** Which kinds to check. Default all: contexts, operations and timers. */
  readonly check?: readonly Leak["type"][];
}

/** A check in progress: call {@link verify} when the test is done. */
export interface LeakCheck {
  /** Resolves if nothing created since the check began is left; rejects with the stacks otherwise. */
  verify(): Promise<void>;
}

const POLL_MS = 10;

function matches(frames: readonly Frame[], patterns: readonly (string | RegExp)[]): boolean {
  return frames.some((f) =>
    patterns.some((p) => (typeof p === "string" ? f.functionName === p : p.test(f.functionName))),
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => originalTimers.setTimeout(() => resolve(), ms));
}

function leaksSince(tracking: Tracking, baseline: number, options: LeakCheckOptions): Leak[] {
  const kinds = new Set(options.check ?? ["context", "operation", "timer"]);
  const leaks: Leak[] = [];
  if (kinds.has("context")) {
    for (const r of tracking.tracker.contexts.values()) {
      if (r.id > baseline) leaks.push({ type: "context", item: toContext(r) });
    }
  }
  if (kinds.has("operation")) {
    for (const r of tracking.tracker.operations.values()) {
      if (r.id > baseline) leaks.push({ type: "operation", item: toOperation(r) });
    }
  }
  if (kinds.has("timer")) {
    for (const t of tracking.timers?.armed() ?? []) {
      // timebound's own timers (deadlines, sleeps) belong to a context or operation listed above.
      if (t.id > baseline && madeByProgram(t.stack.parsed)) {
        leaks.push({ type: "timer", item: toOperation(t) });
      }
    }
  }
  const patterns = options.ignoreFunctions ?? [];
  return leaks.filter(
    (leak) => !matches(leak.item.stack, patterns) && !(options.ignore?.(leak) ?? false),
  );
}

function describe(leaks: readonly Leak[], tracking: Tracking): string {
  const snapshot: Snapshot = {
    takenAt: now(),
    takenAtWall: new Date().toISOString(),
    pid: process.pid,
    contexts: leaks.flatMap((l) => (l.type === "context" ? [l.item] : [])),
    operations: leaks.flatMap((l) => (l.type === "context" ? [] : [l.item])),
    findings: [],
    samples: [],
    trackingSince: tracking.since,
    omitted: { contexts: 0, operations: 0, findings: 0 },
  };
  const body = toTextReport(snapshot, { debug: 2, sections: ["contexts", "operations"] });
  // The report's first lines describe the process; the leaks are what matters here.
  return body.slice(body.indexOf("\n", body.indexOf("\n") + 1) + 1);
}

/**
 * Starts a leak check (Go's goleak, for node:test and vitest): whatever the code under test
 * creates from now on (contexts, operations, timers) must be gone when {@link LeakCheck.verify}
 * runs, after up to `graceMs` of waiting. Turns tracking on for the check if it was off (only
 * what is created after that is seen) and off again after `verify`.
 *
 * @example
 * ```ts
 * let check: LeakCheck;
 * beforeEach(() => (check = leakCheck()));
 * afterEach(() => check.verify());
 * ```
 */
export function leakCheck(options: LeakCheckOptions = {}): LeakCheck {
  const o = readOptions(options, "leakCheck", ["graceMs", "ignoreFunctions", "ignore", "check"]);
  const graceMs = o.ms("graceMs", 1_000, { min: 0, max: 60_000 });
  o.function("ignore", undefined);
  const owned = activeTracking() === undefined;
  const tracking = owned
    ? track({ dumpSignal: false, dumpOnExit: false, sampleIntervalMs: 1e9 })
    : activeTracking()!;
  const release = tracking.recordEverything();
  const baseline = tracking.tracker.newId();
  let verified = false;
  return {
    async verify() {
      if (verified) throw new Error("leakCheck: verify() was already called for this check");
      verified = true;
      try {
        const until = now() + graceMs;
        let leaks = leaksSince(tracking, baseline, options);
        while (leaks.length > 0 && now() < until) {
          await sleep(Math.min(POLL_MS, Math.max(1, until - now())));
          leaks = leaksSince(tracking, baseline, options);
        }
        if (leaks.length === 0) return;
        throw new AssertionError({
          message:
            `expectNoLeaks: ${plural(leaks.length, "thing")} the test created ` +
            `${leaks.length === 1 ? "is" : "are"} still there after ${graceMs} ms:\n` +
            describe(leaks, tracking),
          operator: "expectNoLeaks",
        });
      } finally {
        release();
        if (owned) tracking.stop();
      }
    },
  };
}

/**
 * Runs `fn` and fails if it leaves contexts, operations or timers behind (see {@link leakCheck}):
 * the AssertionError lists each with its creation stack. Resolves with `fn`'s result.
 *
 * @example
 * ```ts
 * it("cancels what it starts", () =>
 *   expectNoLeaks(async () => {
 *     using ctx = withTimeout(background(), 100);
 *     await work(ctx);
 *   }));
 * ```
 */
export async function expectNoLeaks<T>(
  fn: () => T | Promise<T>,
  options: LeakCheckOptions = {},
): Promise<T> {
  checkFunction(fn, "expectNoLeaks", "fn");
  const check = leakCheck(options);
  let result: T;
  try {
    result = await fn();
  } catch (err) {
    await check.verify().catch(() => {}); // the test's own failure is the one to report
    throw err;
  }
  await check.verify();
  return result;
}
