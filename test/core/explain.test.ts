import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  Canceled,
  DeadlineExceeded,
  background,
  createKey,
  explain,
  now,
  setTracking,
  withCancel,
  withTimeout,
  withTimeoutCause,
  withValue,
  withoutCancel,
} from "../../src/index.js";

/** Formats like the library's messages: whole ms at 10 ms and above. */
function ms(v: number): string {
  return `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10} ms`;
}

/** The line number of the caller. */
function line(): number {
  const frame = new Error().stack?.split("\n")[2] ?? "";
  return Number(/:(\d+):\d+\)?$/.exec(frame)?.[1]);
}

describe("explain: nested deadlines (the seed case, scaled down)", () => {
  it("parent deadline passes before the child's own", async () => {
    // Go's seed: request 1500 ms, inventory 2000 ms. Scaled: 300 / 400 ms.
    const parent = withTimeout(background(), 300, { name: "request" });
    const child = withTimeout(parent, 400, { name: "inventory" });
    const childCreated = explain(child).context.createdAt;
    const childOwnDeadline = childCreated + 400;
    await child.done;

    const err = child.err;
    assert.ok(err instanceof DeadlineExceeded);
    const e = explain(child);
    assert.equal(e.state, "deadline-exceeded");
    assert.equal(e.context.name, "inventory");
    assert.equal(e.context.timeoutMs, 400);
    assert.ok(e.origin);
    assert.equal(e.origin.depth, 1);
    assert.equal(e.origin.reason, "deadline");
    assert.equal(e.origin.context.name, "request");
    assert.equal(e.origin.context.timeoutMs, 300);
    assert.equal(e.hasCause, false);
    assert.equal(e.cause, undefined);
    assert.equal(e.deadline, parent.deadline);
    assert.ok(e.endedAt !== undefined && e.lifetimeMs !== undefined);
    assert.ok(Math.abs(e.lifetimeMs - (e.endedAt - childCreated)) <= 0.2);
    assert.ok(e.lifetimeMs >= 298, `lifetime ${e.lifetimeMs}`);
    // earlyBy = child's own deadline - end; nominally ~100 ms, less if the timer fired late.
    assert.ok(e.earlyByMs !== undefined);
    assert.ok(Math.abs(e.earlyByMs - (childOwnDeadline - e.endedAt)) <= 0.2);
    assert.ok(e.earlyByMs > 30 && e.earlyByMs <= 101, `earlyBy ${e.earlyByMs}`);

    assert.equal(err.message, e.message);
    const m = err.message;
    assert.ok(m.includes('context "inventory" (timeout 400 ms)'), m);
    assert.ok(m.includes(`ended ${ms(e.earlyByMs)} before its own deadline`), m);
    assert.ok(m.includes('the deadline of ancestor "request" (timeout 300 ms) passed'), m);
  });

  it("parent canceled (with a cause) before the child's own deadline", async () => {
    // Go's seed: request canceled at 1200 ms, inventory 2000 ms. Scaled: 240 / 400 ms.
    const parent = withTimeout(background(), 10_000, { name: "request" });
    const child = withTimeout(parent, 400, { name: "inventory" });
    const childOwnDeadline = child.deadline;
    assert.ok(childOwnDeadline !== undefined);
    const why = new Error("client went away");
    let canceledAt = 0;
    setTimeout(() => {
      canceledAt = now();
      parent.cancel(why);
    }, 240);
    await child.done;

    const err = child.err;
    assert.ok(err instanceof Canceled);
    assert.equal(err.cause, why);
    const e = explain(child);
    assert.equal(e.state, "canceled");
    assert.ok(e.origin);
    assert.equal(e.origin.depth, 1);
    assert.equal(e.origin.reason, "canceled");
    assert.equal(e.origin.context.name, "request");
    assert.equal(e.hasCause, true);
    assert.equal(e.cause, why);
    assert.ok(e.endedAt !== undefined && e.lifetimeMs !== undefined);
    assert.ok(Math.abs(e.endedAt - canceledAt) <= 1);
    assert.ok(e.lifetimeMs >= 238, `lifetime ${e.lifetimeMs}`);
    assert.ok(e.origin.atMs >= 238, `atMs ${e.origin.atMs}`);
    // earlyBy is ~160 ms (400 - 240), less if the timer fired late.
    assert.ok(e.earlyByMs !== undefined);
    assert.ok(Math.abs(e.earlyByMs - (childOwnDeadline - canceledAt)) <= 1);
    assert.ok(e.earlyByMs > 60 && e.earlyByMs <= 161, `earlyBy ${e.earlyByMs}`);

    const m = err.message;
    assert.equal(m, e.message);
    assert.ok(m.includes('context "inventory" (timeout 400 ms)'), m);
    assert.ok(m.includes(`was canceled ${ms(e.earlyByMs)} before its own deadline`), m);
    assert.ok(m.includes(`ancestor "request" was canceled ${ms(e.origin.atMs)} after`), m);
    assert.ok(m.includes("(cause: Error: client went away)"), m);
  });

  it("the parent's deadline cause is named in the child's message", async () => {
    const parent = withTimeoutCause(background(), 30, new Error("SLO is 30 ms"), {
      name: "request",
    });
    const child = withTimeout(parent, 5_000, { name: "inventory" });
    await child.done;
    const e = explain(child);
    assert.equal(e.cause, parent.cause);
    assert.equal(e.hasCause, true);
    assert.ok(e.message.includes('ancestor "request"'), e.message);
    assert.ok(e.message.includes("(cause: Error: SLO is 30 ms)"), e.message);
  });

  it("depth counts the generations to the context where the end started", () => {
    const root = withCancel(background(), { name: "root" });
    const a = withCancel(root);
    const b = withCancel(a);
    root.cancel();
    assert.equal(explain(a).origin?.depth, 1);
    assert.equal(explain(b).origin?.depth, 2);
    assert.equal(explain(b).origin?.context.name, "root");
    assert.equal(explain(root).origin?.depth, 0);
  });

  it("a child with no own deadline has no earlyByMs", () => {
    const root = withCancel(background());
    const child = withCancel(root);
    root.cancel();
    assert.equal(explain(child).earlyByMs, undefined);
    assert.ok(!explain(child).message.includes("before its own deadline"));
  });
});

describe("explain: a context that ended itself", () => {
  it("canceled: depth 0, reason canceled", () => {
    const ctx = withCancel(background(), { name: "job" });
    ctx.cancel(new Error("stop"));
    const e = explain(ctx);
    assert.equal(e.state, "canceled");
    assert.equal(e.origin?.depth, 0);
    assert.equal(e.origin?.reason, "canceled");
    assert.equal(e.earlyByMs, undefined);
    assert.equal(e.remainingMs, undefined);
    assert.match(e.message, /^context "job" was canceled after [\d.]+ ms \(cause: Error: stop\)$/);
  });

  it("deadline: depth 0, reason deadline, the timeout named", async () => {
    const ctx = withTimeout(background(), 10);
    await ctx.done;
    const e = explain(ctx);
    assert.equal(e.state, "deadline-exceeded");
    assert.equal(e.origin?.depth, 0);
    assert.equal(e.origin?.reason, "deadline");
    assert.equal(e.context.label, "withTimeout");
    assert.match(e.message, /^context withTimeout \(timeout 10 ms\) exceeded/);
    assert.equal(e.context.timeoutMs, 10);
    assert.ok(e.lifetimeMs !== undefined && e.lifetimeMs >= 9);
    assert.match(e.message, /exceeded its deadline/);
  });
});

describe("explain: live contexts", () => {
  it("with a deadline: remaining time, no end facts", () => {
    using ctx = withTimeout(background(), 5_000, { name: "job" });
    const e = explain(ctx);
    assert.equal(e.state, "live");
    assert.equal(e.deadline, ctx.deadline);
    assert.ok(e.remainingMs !== undefined && e.remainingMs > 4_000 && e.remainingMs <= 5_000);
    for (const k of [
      "endedAt",
      "lifetimeMs",
      "earlyByMs",
      "lateByMs",
      "origin",
      "cause",
    ] as const) {
      assert.equal(e[k], undefined, k);
    }
    assert.equal(e.hasCause, false);
    assert.match(e.message, /^context "job" \(timeout 5000 ms\) is live \(\d+ ms left\)$/);
  });

  it("without a deadline", () => {
    using ctx = withCancel(background());
    const e = explain(ctx);
    assert.equal(e.state, "live");
    assert.equal(e.remainingMs, undefined);
    assert.equal(e.message, "context withCancel is live (no deadline)");
  });

  it("background and withoutCancel", () => {
    assert.equal(explain(background()).state, "live");
    assert.equal(explain(background()).message, 'context "background" is live (no deadline)');
    assert.equal(explain(withoutCancel(background(), { name: "audit" })).context.name, "audit");
  });

  it("a withValue context explains its cancellable ancestor", () => {
    const parent = withCancel(background(), { name: "p" });
    const v = withValue(parent, createKey<number>("n"), 1);
    assert.equal(explain(v).context.name, "p");
    parent.cancel();
    assert.equal(explain(v).state, "canceled");
  });
});

describe("tracking of creation sites", () => {
  it("is off by default: site is undefined", () => {
    using ctx = withCancel(background());
    assert.equal(explain(ctx).context.site, undefined);
  });

  it("setTracking(true) records the creating line of this file", () => {
    setTracking(true);
    try {
      const [ctx, where] = [withTimeout(background(), 1_000, { name: "tracked" }), line()];
      const site = explain(ctx).context.site;
      assert.ok(site !== undefined);
      const m = /explain\.test\.ts:(\d+):\d+$/.exec(site);
      assert.ok(m, site);
      assert.equal(Number(m[1]), where);
      ctx.cancel();
      assert.equal(ctx.err?.originSite, site, "the error names where it was created");
      assert.ok(!ctx.err.message.includes("explain.test.ts"), `no path in: ${ctx.err.message}`);
    } finally {
      setTracking(false);
    }
    using after = withCancel(background());
    assert.equal(explain(after).context.site, undefined, "off again");
  });

  it("the ancestor's site is on a child's error, and in no message", () => {
    setTracking(true);
    let parentSite: string | undefined;
    let child;
    try {
      const parent = withCancel(background(), { name: "p" });
      child = withCancel(parent);
      parentSite = explain(parent).context.site;
      parent.cancel();
    } finally {
      setTracking(false);
    }
    assert.ok(parentSite !== undefined);
    assert.equal(child.err?.originSite, parentSite);
    assert.equal(explain(child).origin?.context.site, parentSite);
    assert.ok(!child.err.message.includes(parentSite), `no path in: ${child.err.message}`);
  });
});

describe("explain() as JSON", () => {
  it("serialises the cause as its description, not {}", () => {
    const ctx = withCancel(background(), { name: "job" });
    ctx.cancel(new Error("client went away"));
    const json = JSON.parse(JSON.stringify(explain(ctx))) as Record<string, unknown>;
    assert.equal(json.cause, "Error: client went away");
    assert.equal(json.message, explain(ctx).message);
    assert.equal(json.state, "canceled");
    assert.equal(explain(ctx).cause instanceof Error, true, "the object keeps the cause itself");
  });
});
