// Findings judged over the whole run, not on one snapshot: lost cancels, operations that finished
// after their context ended, timer loops, and an honest cause for a late deadline.
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { background, sleep, withCancel, withTimeout } from "../../src/index.js";
import { raceContext } from "../../src/io/race.js";
import { analyze } from "../../src/diagnostics/findings.js";
import type { Finding } from "../../src/diagnostics/model.js";
import { type Tracking, longLived, track } from "../../src/diagnostics/track.js";
import { growthVerdict } from "../../src/diagnostics/verdict.js";

let tracking: Tracking | undefined;

function start(options: Parameters<typeof track>[0] = {}): Tracking {
  tracking = track({ dumpSignal: false, timerSampleEvery: 1, ...options });
  return tracking;
}

afterEach(() => {
  tracking?.stop();
  tracking = undefined;
});

function lost(t: Tracking, name: string): Finding | undefined {
  return t.findings().find((f) => f.kind === "lost-cancel" && f.contextName === name);
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The loop's finding goes once the loop has stopped. */
async function noLoopOnceStopped(t: Tracking): Promise<void> {
  await pause(30);
  assert.equal(
    t.findings().find((x) => x.kind === "timer-loop"),
    undefined,
    "once it stopped, no finding",
  );
}

describe("lost cancels, proven from history", () => {
  it("a withTimeout whose cancel is dropped is lost once its deadline ends it", async () => {
    const t = start({ ignoredCancellationMs: 0 });
    function dropsCancel(): void {
      withTimeout(background(), 5, { name: "dropped" });
    }
    dropsCancel();
    await pause(30);
    const f = lost(t, "dropped");
    assert.ok(f !== undefined, "a lost-cancel finding");
    assert.equal(f.details?.endedByDeadline, 1);
    assert.equal(f.stack[0]?.functionName, "dropsCancel");
    assert.match(
      f.message,
      /1 context "dropped" \(withTimeout\) created at dropsCancel .*never canceled/,
    );
  });

  it("`using` that cancels after the deadline fired is not a lost cancel", async () => {
    const t = start({ ignoredCancellationMs: 0 });
    {
      using ctx = withTimeout(background(), 5, { name: "disposed" });
      await sleep(ctx, 50).catch(() => {});
      assert.equal(ctx.err?.name, "TimeoutError", "the deadline fired first");
    }
    await pause(5);
    t.markExiting();
    assert.equal(lost(t, "disposed"), undefined, "released by `using`");
  });

  it("a cancel that comes after the grace still takes the context out", async () => {
    const t = start({ ignoredCancellationMs: 0 });
    const ctx = withTimeout(background(), 5, { name: "late" });
    await pause(30);
    assert.ok(lost(t, "late") !== undefined, "lost while nobody canceled it");
    ctx.cancel();
    assert.equal(lost(t, "late"), undefined, "a late cancel() releases it");
  });

  it("children ended by their parent's cancel are lost; the parent, canceled, is not", () => {
    const t = start({ ignoredCancellationMs: 0 });
    const parent = withCancel(background(), { name: "parent" });
    for (let i = 0; i < 3; i++) withCancel(parent, { name: "child" });
    parent.cancel();
    t.markExiting();
    const f = lost(t, "child");
    assert.equal(f?.details?.count, 3);
    assert.equal(f?.details?.endedByAncestor, 3);
    assert.equal(lost(t, "parent"), undefined);
  });

  it("at exit a live context is lost, unless declared long-lived by name or in code", () => {
    const t = start({ longLived: ["server*"] });
    const a = withCancel(background(), { name: "server-main" });
    const b = longLived(withCancel(background(), { name: "pool" }));
    const c = withCancel(background(), { name: "forgotten" });
    t.markExiting();
    assert.equal(lost(t, "server-main"), undefined, "long-lived by name");
    assert.equal(lost(t, "pool"), undefined, "long-lived in code");
    assert.equal(lost(t, "forgotten")?.details?.liveAtExit, 1);
    for (const ctx of [a, b, c]) ctx.cancel();
  });

  it("refuses a longLived option that is not a list of names", () => {
    assert.throws(() => track({ longLived: "server" as never }), {
      name: "TypeError",
      message: /track: options\.longLived must be an array of context names/,
    });
  });
});

describe("ignored cancellation, judged over the run", () => {
  it("an operation that finished after its context ended leaves a finding with its overrun", async () => {
    const t = start({ ignoredCancellationMs: 20 });
    using ctx = withTimeout(background(), 50, { name: "query" });
    function ignoresCancel(): Promise<void> {
      return raceContext(ctx, () => pause(200), undefined, "db.query");
    }
    await assert.rejects(ignoresCancel(), { name: "TimeoutError" });
    await pause(250);
    const f = t.findings().find((x) => x.kind === "ignored-cancellation");
    assert.ok(f !== undefined, "an ignored-cancellation finding after the work finished");
    assert.equal(f.details?.finished, true);
    assert.ok(Number(f.details?.overrunMs) >= 20, `overrun ${f.details?.overrunMs}`);
    assert.match(f.message, /"db\.query" operation .* after context "query" ended, then finished/);
  });
});

describe("timer loops", () => {
  it("a setTimeout that re-arms itself from its callback is flagged while it goes on", async () => {
    const t = start();
    let stop = false;
    function poll(): void {
      setTimeout(() => {
        if (!stop) poll();
      }, 1);
    }
    poll();
    let f: Finding | undefined;
    try {
      // The first stacks read load source maps: give the loop time for a few turns.
      for (let i = 0; i < 100 && f === undefined; i++) {
        await pause(20);
        f = t.findings().find((x) => x.kind === "timer-loop");
      }
    } finally {
      if (f === undefined) stop = true;
    }
    assert.ok(f !== undefined, "a timer-loop finding");
    assert.equal(f.stack[0]?.functionName, "poll");
    assert.match(f.message, /re-arms itself from its own callback .* with no context/);
    stop = true;
    await pause(20);
    assert.equal(
      t.findings().find((x) => x.kind === "timer-loop"),
      undefined,
      "a loop that stopped is not a finding",
    );
  });
});

/* eslint-disable @typescript-eslint/no-misused-promises -- the pattern under test: async functions passed to setTimeout */
describe("timer loops that re-arm after an await", () => {
  it("an async callback that passes itself to setTimeout again after an await is a loop", async () => {
    const t = start();
    let stop = false;
    async function refreshCache(): Promise<void> {
      await pause(1);
      if (!stop) setTimeout(refreshCache, 1);
    }
    setTimeout(refreshCache, 1);
    let f: Finding | undefined;
    try {
      for (let i = 0; i < 100 && f === undefined; i++) {
        await pause(20);
        f = t.findings().find((x) => x.kind === "timer-loop");
      }
    } finally {
      stop = true;
    }
    assert.ok(f !== undefined, "a timer-loop finding for the loop that re-arms after an await");
    assert.equal(f.stack[0]?.functionName.replace(/^.*\./, ""), "refreshCache");
    assert.match(
      f.message,
      /setTimeout at .*refreshCache \(.*history\.test\.ts:\d+:\d+\) re-arms itself/,
    );
    assert.match(f.message, /with no context\) and is still armed/);
    await noLoopOnceStopped(t);
  });

  it("an async callback scheduled again by other code while it runs is not a loop", async () => {
    const t = start();
    async function flush(): Promise<void> {
      await pause(15);
    }
    function onRequest(): void {
      setTimeout(flush, 1); // debounced by a caller: flush never schedules itself
    }
    for (let i = 0; i < 10; i++) {
      onRequest();
      await pause(5);
    }
    const timer = setTimeout(flush, 200); // still armed when judged
    try {
      assert.equal(
        t.findings().find((x) => x.kind === "timer-loop"),
        undefined,
        "no timer-loop finding",
      );
    } finally {
      clearTimeout(timer);
    }
  });
});

describe("timer loops whose async continuation re-arms them", () => {
  /** Polls for a timer-loop finding while the loop runs; stops the loop whatever happens. */
  async function loopFinding(t: Tracking, stop: () => void): Promise<Finding | undefined> {
    let f: Finding | undefined;
    try {
      for (let i = 0; i < 100 && f === undefined; i++) {
        await pause(20);
        f = t.findings().find((x) => x.kind === "timer-loop");
      }
    } finally {
      stop();
    }
    return f;
  }

  it("an arrow re-arming an async function after an await is a loop", async () => {
    const t = start();
    let stop = false;
    async function poll(): Promise<void> {
      await pause(1);
      if (!stop) setTimeout(() => poll(), 1);
    }
    setTimeout(() => poll(), 1);
    const f = await loopFinding(t, () => (stop = true));
    assert.ok(f !== undefined, "a timer-loop finding for the arrow that re-arms after an await");
    assert.match(
      f.message,
      /setTimeout at .*poll \(.*history\.test\.ts:\d+:\d+\) re-arms itself from its own callback/,
    );
    await noLoopOnceStopped(t);
  });

  it("with followAsyncTimers (diagnose's default), an arrow that returns nothing is followed too", async () => {
    const t = start({ followAsyncTimers: true });
    let stop = false;
    async function pollQuietly(): Promise<void> {
      await pause(1);
      if (!stop)
        setTimeout(() => {
          void pollQuietly();
        }, 1);
    }
    setTimeout(() => {
      void pollQuietly();
    }, 1);
    const f = await loopFinding(t, () => (stop = true));
    assert.ok(f !== undefined, "a timer-loop finding for `() => { void poll(); }` after an await");
    assert.match(
      f.message,
      /setTimeout at .*pollQuietly \(.*history\.test\.ts:\d+:\d+\) re-arms itself from its own callback/,
    );
    await noLoopOnceStopped(t);
  });

  it("says where such a loop started, and a one-shot timer in an async function is no loop", async () => {
    const t = start();
    let stop = false;
    async function refreshOnce(): Promise<void> {
      await pause(1);
      setTimeout(() => undefined, 1);
    }
    setTimeout(refreshOnce, 1);
    await pause(30);
    assert.equal(
      t.findings().find((x) => x.kind === "timer-loop"),
      undefined,
      "a one-shot timer in an async function is no loop",
    );
    async function poll(): Promise<void> {
      await pause(1);
      if (!stop) setTimeout(() => void poll(), 1);
    }
    const kickOff = (): NodeJS.Timeout => setTimeout(() => void poll(), 1);
    kickOff();
    const f = await loopFinding(t, () => (stop = true));
    assert.ok(f !== undefined, "a timer-loop finding for the loop started by an arrow");
    assert.equal(f.related?.label, "loop started", "the finding says where the loop started");
    assert.equal(
      f.related.stack[0]?.functionName,
      "kickOff",
      `the loop started in kickOff, got ${JSON.stringify(f.related.stack[0])}`,
    );
  });

  it("an async function re-armed through a helper after an await is a loop", async () => {
    const t = start();
    let stop = false;
    function schedule(): void {
      if (!stop) setTimeout(poll, 1);
    }
    async function poll(): Promise<void> {
      await pause(1);
      schedule(); // not the callback's own name at the call site: only the continuation tells
    }
    setTimeout(poll, 1);
    const f = await loopFinding(t, () => (stop = true));
    assert.ok(f !== undefined, "a timer-loop finding for the loop re-armed by a helper");
    assert.match(
      f.message,
      /setTimeout at .*schedule \(.*history\.test\.ts:\d+:\d+\) re-arms itself/,
    );
  });

  it("two independent timers that each run once, from async callbacks, are no loop", async () => {
    const t = start();
    async function job(): Promise<void> {
      await pause(1);
      setTimeout(() => undefined, 50); // still armed when judged
    }
    setTimeout(job, 1);
    setTimeout(() => void job(), 1);
    await pause(20);
    assert.equal(
      t.findings().find((x) => x.kind === "timer-loop"),
      undefined,
      "no timer-loop finding",
    );
  });
});

/* eslint-enable @typescript-eslint/no-misused-promises */

describe("late deadlines say what delayed them", () => {
  const input = (maxMs: number): Parameters<typeof analyze>[0] => ({
    now: 1_000,
    neverCanceledMs: 60_000,
    ignoredCancellationMs: 1_000,
    contexts: [],
    operations: [],
    timers: [],
    timerSampleEvery: 1,
    lateTimers: { events: [], total: 0 },
    collected: { events: [], total: 0 },
    verdicts: [],
    lateDeadlines: {
      total: 1,
      events: [
        {
          context: undefined,
          contextName: "req",
          at: 900,
          lateByMs: 80,
          utilization: 0,
          loopDelay: { p50Ms: 10, p99Ms: maxMs, maxMs, meanMs: 10 },
          blockedBy: undefined,
        },
      ],
    },
  });

  it("blames the event loop only when its measured delay covers the lateness", () => {
    const [notBlocked] = analyze(input(14.5));
    assert.match(
      notBlocked!.message,
      /fired 80 ms late: not by a blocked event loop \(loop delay max 14\.5 ms/,
    );
    assert.equal(notBlocked!.details?.loopBlocked, false);
    const [blocked] = analyze(input(95));
    assert.match(
      blocked!.message,
      /fired 80 ms late: the event loop was blocked \(loop delay max 95 ms/,
    );
  });
});

describe("growth verdicts on a short run", () => {
  it("gives no verdict on samples spanning less than minDurationMs", () => {
    const samples = Array.from({ length: 40 }, (_, i) => ({
      at: i * 250,
      heapUsed: (10 + i) * 1024 * 1024,
      rss: 1e8,
      handles: {},
      liveContexts: i,
      liveOperations: 0,
    }));
    const short = growthVerdict(samples, { minDurationMs: 30_000 });
    assert.ok(
      short.every((v) => v.verdict === "insufficient-data"),
      "a 10 s warm-up is not a leak",
    );
    assert.match(short[0]!.explanation, /span 9\.8 s; a verdict needs at least 30 s/);
    assert.equal(growthVerdict(samples).find((v) => v.series === "liveContexts")?.verdict, "leak");
  });

  it("samples a short run often enough for a curve, and every snapshot adds a point", () => {
    const t = start();
    assert.equal(t.sampler.nextIntervalMs(), 250, "a fresh run samples every 250 ms");
    const before = t.samples().length;
    t.snapshot();
    assert.equal(t.samples().length, before + 1);
  });
});
