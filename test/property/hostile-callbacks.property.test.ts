// Fuzzes the core under hostile callbacks: random trees where abort listeners, afterFunc
// callbacks, done handlers and diagnostics subscribers cancel other contexts (and create new
// ones) while a cancel is under way, with causes chosen to break whoever describes them.
// After each run, every context that should have ended has, exactly once, with its signal
// aborted and its done resolved; nothing is linked under an ended parent; no ended context has
// a timer armed.
import { coreStats, dependents } from "../../src/core/introspect.js";
import { CancelContext } from "../../src/core/context.js";
import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  type CancelableContext,
  type Context,
  type ContextCreatedMessage,
  type ContextEndedMessage,
  afterFunc,
  background,
  createKey,
  now,
  sleep,
  withCancel,
  withTimeout,
  withValue,
  withoutCancel,
} from "../../src/index.js";

type NodeSpec = { parent: number; kind: "cancel" | "timeout" | "value" | "detached"; ms: number };

/** What a callback does when it runs: cancel node `target` with cause `cause`, or make a child. */
type Reaction = { target: number; cause: number; spawn: boolean };

type Hook = {
  on: number;
  via: "abort" | "afterFunc" | "done" | "ended-subscriber" | "created-subscriber";
  reaction: Reaction;
};

type Action = { kind: "cancel"; node: number; cause: number } | { kind: "wait"; ms: number };

const key = createKey<number>("k");

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/** Causes picked by index: each one breaks some naive way of describing a value. */
const CAUSES: (() => unknown)[] = [
  () => undefined,
  () => new Error("plain"),
  revoked,
  () => Symbol("why"),
  () => 12345678901234567890n,
  () => Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, i])),
  () => ({
    get boom(): never {
      throw new Error("getter");
    },
  }),
  () => {
    const o: Record<string, unknown> = {};
    o.self = o;
    return o;
  },
  () => new Proxy({}, { ownKeys: () => [] as never, get: () => 1 }),
  () => null,
];

const nodeSpec = (i: number): fc.Arbitrary<NodeSpec> =>
  fc.record({
    parent: fc.integer({ min: -1, max: i - 1 }),
    kind: fc.constantFrom("cancel", "cancel", "timeout", "value", "detached"),
    ms: fc.oneof(fc.constantFrom(0, 2 ** 32), fc.integer({ min: 1, max: 15 })),
  });

const scenario = fc.integer({ min: 1, max: 24 }).chain((n) =>
  fc.record({
    nodes: fc.tuple(...Array.from({ length: n }, (_, i) => nodeSpec(i))),
    hooks: fc.array(
      fc.record({
        on: fc.nat(n - 1),
        via: fc.constantFrom(
          "abort",
          "afterFunc",
          "done",
          "ended-subscriber",
          "created-subscriber",
        ),
        reaction: fc.record({
          target: fc.nat(n - 1),
          cause: fc.nat(CAUSES.length - 1),
          spawn: fc.boolean(),
        }),
      }),
      { maxLength: 16 },
    ),
    actions: fc.array(
      fc.oneof(
        fc.record({
          kind: fc.constant("cancel" as const),
          node: fc.nat(n - 1),
          cause: fc.nat(CAUSES.length - 1),
        }),
        fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 0, max: 8 }) }),
      ),
      { maxLength: 10 },
    ),
  }),
);

interface Run {
  nodes: Context[];
  /** Contexts made by callbacks while things were ending. */
  spawned: CancelableContext[];
  endedEvents: Map<Context, number>;
  signals: Map<Context, AbortSignal>;
  dones: Map<Context, boolean>;
  /** Set once the run is checked: callbacks then do nothing while the test cleans up. */
  over: boolean;
}

function cancelable(ctx: Context | undefined): ctx is CancelableContext {
  return ctx instanceof CancelContext;
}

async function play(s: { nodes: NodeSpec[]; hooks: Hook[]; actions: Action[] }): Promise<Run> {
  const run: Run = {
    nodes: [],
    spawned: [],
    endedEvents: new Map(),
    signals: new Map(),
    dones: new Map(),
    over: false,
  };
  // `spawn` makes a child of the target while things are ending; not from a created
  // subscriber, where each child would announce another (a recursion of the test's own making).
  const react = (r: Reaction, spawn = r.spawn): void => {
    if (run.over) return;
    const target = run.nodes[r.target];
    if (cancelable(target)) target.cancel(CAUSES[r.cause]!());
    if (spawn && target !== undefined) run.spawned.push(withTimeout(target, 5));
  };
  const onEnded = (m: unknown): void => {
    const { context } = m as ContextEndedMessage;
    run.endedEvents.set(context, (run.endedEvents.get(context) ?? 0) + 1);
    for (const h of s.hooks) {
      if (h.via === "ended-subscriber" && run.nodes[h.on] === context) react(h.reaction);
    }
  };
  const onCreated = (m: unknown): void => {
    const { parent } = m as ContextCreatedMessage;
    for (const h of s.hooks) {
      if (h.via === "created-subscriber" && run.nodes[h.on] === parent) react(h.reaction, false);
    }
  };
  diagnosticsChannel.subscribe("timebound:context:ended", onEnded);
  diagnosticsChannel.subscribe("timebound:context:created", onCreated);
  try {
    for (const spec of s.nodes) {
      const parent = spec.parent < 0 ? background() : run.nodes[spec.parent]!;
      run.nodes.push(
        spec.kind === "cancel"
          ? withCancel(parent)
          : spec.kind === "timeout"
            ? withTimeout(parent, spec.ms)
            : spec.kind === "value"
              ? withValue(parent, key, 1)
              : withoutCancel(parent),
      );
    }
    for (const ctx of run.nodes) {
      run.signals.set(ctx, ctx.signal);
      run.dones.set(ctx, false);
      void ctx.done.then(() => run.dones.set(ctx, true));
    }
    for (const h of s.hooks) {
      const ctx = run.nodes[h.on]!;
      if (h.via === "abort") ctx.signal.addEventListener("abort", () => react(h.reaction));
      else if (h.via === "afterFunc") afterFunc(ctx, () => react(h.reaction));
      else if (h.via === "done") void ctx.done.then(() => react(h.reaction));
    }
    for (const a of s.actions) {
      if (a.kind === "wait") await sleep(background(), a.ms);
      else {
        const target = run.nodes[a.node];
        if (cancelable(target)) target.cancel(CAUSES[a.cause]!());
      }
    }
    await sleep(background(), 20); // every short deadline (<= 15 ms) has passed
    await new Promise((resolve) => setImmediate(resolve)); // done handlers and afterFuncs ran
    // Contexts spawned late (by a handler that ran late on a busy machine): past their 5 ms too.
    const latest = Math.max(0, ...run.spawned.map((c) => c.deadline ?? 0));
    if (latest > now()) await sleep(background(), latest - now() + 2);
  } finally {
    diagnosticsChannel.unsubscribe("timebound:context:ended", onEnded);
    diagnosticsChannel.unsubscribe("timebound:context:created", onCreated);
  }
  return run;
}

/** The nearest cancellable context at or above `ctx` (what can end it), or undefined. */
function nodeOf(ctx: Context): CancelContext | undefined {
  const node = (ctx as { _node?: CancelContext | null })._node;
  return node ?? undefined;
}

function check(run: Run, specs: NodeSpec[]): void {
  for (const [i, ctx] of run.nodes.entries()) {
    const ended = ctx.err !== undefined;
    const parent = specs[i]!.parent < 0 ? background() : run.nodes[specs[i]!.parent]!;
    const detached = specs[i]!.kind === "detached";
    if (!detached && parent.err !== undefined) {
      assert.ok(ended, `node ${i}: its parent ended, so it must have ended`);
    }
    if (specs[i]!.kind === "timeout" && specs[i]!.ms <= 15) {
      assert.ok(ended, `node ${i}: its ${specs[i]!.ms} ms deadline passed`);
    }
    assert.equal(run.signals.get(ctx)!.aborted, ended, `node ${i}: signal aborted iff ended`);
    assert.equal(run.dones.get(ctx), ended, `node ${i}: done resolved iff ended`);
    const node = nodeOf(ctx);
    if (ctx instanceof CancelContext) {
      assert.equal(
        run.endedEvents.get(ctx) ?? 0,
        ended ? 1 : 0,
        `node ${i}: ended announced exactly once if it ended`,
      );
    }
    if (node !== undefined && node.err !== undefined) {
      assert.equal(dependents(node), 0, `node ${i}: nothing linked under an ended context`);
      assert.equal(node._timer, undefined, `node ${i}: no deadline timer armed once ended`);
      assert.equal(node._keepTimer, undefined, `node ${i}: no keep-alive timer once ended`);
    }
  }
  for (const [i, ctx] of run.spawned.entries()) {
    assert.ok(ctx.err !== undefined, `spawned ${i}: its 5 ms deadline passed or its parent ended`);
    assert.equal(dependents(ctx), 0, `spawned ${i}: nothing linked under it`);
  }
}

describe("the core under hostile callbacks (fuzz)", () => {
  it("every context ends once, completely, whatever the callbacks and causes do", async () => {
    const baseline = coreStats().armedTimers;
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const run = await play(s);
        try {
          check(run, s.nodes);
        } finally {
          run.over = true;
          for (const ctx of [...run.nodes, ...run.spawned]) if (cancelable(ctx)) ctx.cancel();
        }
        assert.equal(coreStats().armedTimers, baseline, "every timer was cleared");
      }),
      { numRuns: 150 },
    );
  });
});
