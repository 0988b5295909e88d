// Random trees of contexts with random cancels, deadlines and disposals, checked against
// the invariants of Go's context after every step.
import { coreStats, dependents } from "../../src/core/introspect.js";
import { CancelContext, DerivedContext } from "../../src/core/context.js";
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  type CancelableContext,
  type Context,
  background,
  createKey,
  explain,
  now,
  sleep,
  withCancel,
  withTimeout,
  withValue,
  withoutCancel,
} from "../../src/index.js";

type NodeSpec =
  | { kind: "cancel"; parent: number }
  | { kind: "timeout"; parent: number; ms: number }
  | { kind: "value"; parent: number }
  | { kind: "detached"; parent: number };

type Action =
  | { kind: "cancel"; node: number; cause: number | undefined }
  | { kind: "dispose"; node: number }
  | { kind: "wait"; ms: number }
  | { kind: "readSignal"; node: number };

const key = createKey<number>("k");

/** parent -1 means background(). */
const nodeSpec = (i: number): fc.Arbitrary<NodeSpec> => {
  const parent = fc.integer({ min: -1, max: i - 1 });
  return fc.oneof(
    fc.record({ kind: fc.constant("cancel" as const), parent }),
    fc.record({
      kind: fc.constant("timeout" as const),
      parent,
      ms: fc.oneof(fc.constantFrom(0, -5, Infinity), fc.integer({ min: 1, max: 25 })),
    }),
    fc.record({ kind: fc.constant("value" as const), parent }),
    fc.record({ kind: fc.constant("detached" as const), parent }),
  );
};

const treeArb = fc
  .integer({ min: 1, max: 30 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => nodeSpec(i))));

const actionsArb = (n: number): fc.Arbitrary<Action[]> =>
  fc.array(
    fc.oneof(
      fc.record({
        kind: fc.constant("cancel" as const),
        node: fc.nat(n - 1),
        cause: fc.option(fc.nat(1000), { nil: undefined }),
      }),
      fc.record({ kind: fc.constant("dispose" as const), node: fc.nat(n - 1) }),
      fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 0, max: 12 }) }),
      fc.record({ kind: fc.constant("readSignal" as const), node: fc.nat(n - 1) }),
    ),
    { maxLength: 12 },
  );

function build(specs: NodeSpec[]): Context[] {
  const nodes: Context[] = [];
  for (const spec of specs) {
    const parent = spec.parent < 0 ? background() : nodes[spec.parent]!;
    switch (spec.kind) {
      case "cancel":
        nodes.push(withCancel(parent));
        break;
      case "timeout":
        nodes.push(withTimeout(parent, spec.ms));
        break;
      case "value":
        nodes.push(withValue(parent, key, nodes.length));
        break;
      case "detached":
        nodes.push(withoutCancel(parent));
        break;
    }
  }
  return nodes;
}

/** The cancellable node that can end `ctx`: itself, or what it delegates to. */
function nodeOf(ctx: Context): CancelContext | null {
  if (ctx instanceof CancelContext) return ctx;
  return (ctx as DerivedContext)._node;
}

/** Ancestors whose ending must end `ctx` (the chain up to the first withoutCancel). */
function cancelAncestors(ctx: Context): Context[] {
  const out: Context[] = [];
  if (ctx instanceof DerivedContext && ctx._node === null) return out;
  for (let c = ctx.parent; c !== undefined; c = c.parent) {
    if (c instanceof DerivedContext && c._node === null) break;
    out.push(c);
  }
  return out;
}

function checkInvariants(nodes: Context[]): void {
  for (const ctx of nodes) {
    const ancestors = cancelAncestors(ctx);
    // A done parent implies done descendants.
    if (ancestors.some((a) => a.err !== undefined)) {
      assert.ok(ctx.err !== undefined, "descendant of an ended context is live");
    }
    const node = nodeOf(ctx);
    if (node === null) {
      assert.equal(ctx.err, undefined, "a context below withoutCancel/background ended");
      continue;
    }
    if (ctx.err !== undefined) {
      // Errors and causes match the first ender (the origin).
      const e = explain(ctx);
      const origin = node._origin!;
      assert.ok(origin === node || ancestors.includes(origin), "origin is not an ancestor");
      assert.equal(origin._origin, origin, "the origin ended itself");
      assert.equal(e.state, explain(origin).state);
      assert.equal(ctx.err.name, origin.err!.name);
      assert.equal(node._cause, origin._cause);
      // Every ended context is detached and holds no timer.
      assert.equal(node._owner, null, "ended context still linked under its parent");
      assert.equal(dependents(node), 0, "ended context still has dependents");
      assert.equal(node._timer, undefined, "ended context still has a timer");
      if (node._ac !== undefined) {
        assert.ok(node._ac.signal.aborted);
        assert.equal(node._ac.signal.reason, node.err);
      }
    } else if (node === ctx) {
      // A live cancellable context is linked under its parent's node, if that can end.
      const parentNode = ctx.parent === undefined ? null : nodeOf(ctx.parent);
      assert.equal(node._owner, parentNode, "live context not linked under its parent");
      if (node._ac !== undefined) assert.equal(node._ac.signal.aborted, false);
    }
    // Values come from the nearest withValue ancestor-or-self.
    let expected: number | undefined;
    for (let c: Context | undefined = ctx; c !== undefined; c = c.parent) {
      if (c instanceof DerivedContext && c._key === key) {
        expected = c._val as number;
        break;
      }
    }
    assert.equal(ctx.value(key), expected);
  }
}

function liveSubtree(nodes: Context[], root: Context): Set<Context> {
  const out = new Set<Context>();
  for (const ctx of nodes) {
    if (ctx.err !== undefined) continue;
    if (ctx === root || cancelAncestors(ctx).includes(root)) out.add(ctx);
  }
  return out;
}

describe("context trees (property)", () => {
  it("keep Go's invariants under random cancels, deadlines and disposals", async () => {
    const baseline = coreStats().armedTimers;
    await fc.assert(
      fc.asyncProperty(
        treeArb.chain((specs) => fc.tuple(fc.constant(specs), actionsArb(specs.length))),
        async ([specs, actions]) => {
          const nodes = build(specs);
          checkInvariants(nodes);
          for (const action of actions) {
            const target = action.kind === "wait" ? undefined : nodes[action.node]!;
            if (action.kind === "wait") {
              await sleep(background(), action.ms);
            } else if (action.kind === "readSignal") {
              void target!.signal;
            } else if (target instanceof CancelContext) {
              const wasLive = target.err === undefined;
              const reached = liveSubtree(nodes, target);
              const before = nodes.map((c) => c.err);
              if (action.kind === "cancel") target.cancel(action.cause);
              else (target as CancelableContext)[Symbol.dispose]();
              // Synchronous: every live descendant has ended with this cancel's cause.
              nodes.forEach((c, i) => {
                if (reached.has(c) && c.err?.name === "TimeoutError") {
                  // A deadline that passed between reading the tree and the cancel wins: the
                  // context ends by its deadline, as Go's timer would have fired first.
                  assert.ok(c.deadline !== undefined && c.deadline <= now(), "deadline passed");
                } else if (reached.has(c)) {
                  assert.ok(wasLive);
                  assert.equal(c.err?.name, "AbortError");
                  assert.equal(
                    nodeOf(c)!._cause,
                    action.kind === "cancel" ? action.cause : undefined,
                  );
                  assert.equal(nodeOf(c)!._origin, target);
                } else if (c.err !== before[i]) {
                  // Time passes between the two reads: a deadline that passed meanwhile is seen
                  // when err is read. Nothing else outside the subtree may change.
                  assert.equal(before[i], undefined, "a context outside the subtree changed");
                  assert.equal(c.err?.name, "TimeoutError", "only a deadline may end it");
                  assert.ok(c.deadline !== undefined && c.deadline <= now(), "and it has passed");
                }
              });
            }
            checkInvariants(nodes);
          }
          // End everything: no timer may remain.
          for (const ctx of nodes) if (ctx instanceof CancelContext) ctx.cancel();
          checkInvariants(nodes);
          assert.equal(coreStats().armedTimers, baseline, "timers left armed");
        },
      ),
      { numRuns: 150 },
    );
  });
});
