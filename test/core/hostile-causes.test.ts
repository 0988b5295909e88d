import { coreStats, dependents } from "../../src/core/introspect.js";
import { describeValue } from "../../src/core/internal.js";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import {
  Canceled,
  background,
  cause,
  explain,
  withCancel,
  withTimeout,
  type CancelableContext,
  type ContextCreatedMessage,
} from "../../src/index.js";
import { state } from "../helpers.js";

function children(parent: CancelableContext, n: number): CancelableContext[] {
  return Array.from({ length: n }, () => withCancel(parent));
}

/** A revoked proxy: any operation on it throws. */
function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

const HOSTILE: [string, () => unknown][] = [
  ["a revoked proxy", revokedProxy],
  [
    "an object whose getter throws",
    () => ({
      get boom(): never {
        throw new Error("getter");
      },
    }),
  ],
  [
    "an Error whose message getter throws",
    () =>
      Object.defineProperty(new Error("x"), "message", {
        get(): never {
          throw new Error("no message");
        },
      }),
  ],
  ["a symbol", () => Symbol("why")],
  ["a BigInt", () => 10n ** 30n],
  [
    "an object with a BigInt and a cycle",
    () => {
      const o: Record<string, unknown> = { n: 1n };
      o.self = o;
      return o;
    },
  ],
  ["an object with no prototype", () => Object.assign(Object.create(null) as object, { a: 1 })],
  [
    "a proxy whose traps throw",
    () =>
      new Proxy(
        {},
        {
          get(): never {
            throw new Error("trap");
          },
          ownKeys(): never {
            throw new Error("trap");
          },
          getPrototypeOf(): never {
            throw new Error("trap");
          },
        },
      ),
  ],
];

describe("cancel with any cause", () => {
  for (const [what, make] of HOSTILE) {
    it(`${what}: every descendant ends, its signal aborts and its done resolves`, async () => {
      const root = withCancel(background(), { name: "root" });
      const kids = children(root, 20);
      const signals = kids.map((k) => k.signal);
      const dones = kids.map((k) => k.done);
      const why = make();
      root.cancel(why);
      for (const [i, kid] of kids.entries()) {
        assert.ok(kid.err instanceof Canceled, `child ${i} ended`);
        assert.equal(signals[i]!.aborted, true, `child ${i}'s signal aborted`);
        assert.equal(cause(kid), why, `child ${i} keeps the cause`);
        assert.equal(await state(dones[i]!), "fulfilled", `child ${i}'s done resolved`);
        assert.equal(typeof kid.err.message, "string");
        assert.ok(kid.err.message.length < 600, "the message stays short");
      }
      assert.equal(typeof explain(kids[0]!).message, "string");
    });
  }

  it("a huge plain object as cause: cancel does not describe it, and a message reads a bounded part", () => {
    let reads = 0;
    const huge: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) {
      Object.defineProperty(huge, `k${i}`, {
        enumerable: true,
        get() {
          reads++;
          return i;
        },
      });
    }
    const root = withCancel(background());
    const kids = children(root, 1_000);
    for (const kid of kids) void kid.signal;
    const t = performance.now();
    root.cancel(huge);
    const took = performance.now() - t;
    assert.equal(reads, 0, "ending a thousand contexts described nothing");
    assert.ok(
      took < 500,
      `cancel took ${took.toFixed(0)} ms (it took 1,485 ms when described eagerly)`,
    );
    const message = kids[0]!.err!.message;
    assert.ok(reads < 100, `reading one message read ${reads} properties of the cause`);
    assert.ok(message.length < 600, "the message is bounded");
    assert.match(message, /cause: \{"k0":0,"k1":1/);
  });

  it("describeValue is bounded and never throws", () => {
    assert.equal(describeValue(revokedProxy()), "Proxy");
    assert.equal(describeValue(10n), "10n");
    assert.equal(describeValue(Symbol("s")), "Symbol(s)");
    assert.equal(describeValue("x".repeat(1e6)).length, 200);
    assert.ok(describeValue(Array.from({ length: 1e6 }, (_, i) => i)).length <= 200);
    const deep = { a: { b: { c: { d: 1 } } } };
    assert.equal(describeValue(deep), '{"a":{"b":{…}}}');
    assert.equal(describeValue(new Map([[1, 2]])), "Map (1)");
    assert.equal(describeValue([1, "a"]), 'Array [1,"a"]');
  });
});

describe("a timebound:context:created subscriber that cancels the new context", () => {
  it("leaves it unlinked and unarmed, and its own cause stands when the parent ends later", () => {
    const parent = withCancel(background(), { name: "parent" });
    const early = new Error("early");
    let target: CancelableContext | undefined;
    const listener = (m: unknown): void => {
      const msg = m as ContextCreatedMessage;
      if (msg.parent === parent) (msg.context as CancelableContext).cancel(early);
    };
    const timersBefore = coreStats().armedTimers;
    diagnosticsChannel.subscribe("timebound:context:created", listener);
    try {
      target = withTimeout(parent, 60_000, { name: "child" });
    } finally {
      diagnosticsChannel.unsubscribe("timebound:context:created", listener);
    }
    assert.ok(target.err instanceof Canceled, "the subscriber's cancel took effect");
    assert.equal(dependents(parent), 0, "not linked under its parent");
    assert.equal(coreStats().armedTimers, timersBefore, "no deadline timer armed");
    parent.cancel(new Error("late"));
    assert.equal(cause(target), early, "the parent's later end does not overwrite the cause");
  });
});
