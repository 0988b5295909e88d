// The primitives in the library's error model: a closed channel's error has a stable code and an
// identity that survives a second copy of the class; bad arguments and unknown options get the
// validator's errors and codes.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  Channel,
  ChannelClosedError,
  Group,
  Semaphore,
  background,
  isTimeboundError,
  select,
  sleep,
  ticker,
} from "../../src/index.js";
import { INVALID_ARGUMENT, UNKNOWN_OPTION } from "../../src/core/internal.js";

import type * as ChannelModule from "../../src/sync/channel.js";

/** The module again, as a second copy of timebound would load it: its classes are new objects. */
const SECOND_COPY = new URL("../../src/sync/channel.ts?second-copy", import.meta.url).href;

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  assert.fail("expected a throw");
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  assert.fail("expected a rejection");
}

function codeOf(err: unknown): unknown {
  return (err as { code?: unknown }).code;
}

describe("ChannelClosedError", () => {
  it("has its name, a stable code, and is a timebound error", async () => {
    const ch = new Channel<number>();
    ch.close();
    const err = await rejection(ch.send(background(), 1));
    assert.ok(err instanceof ChannelClosedError, "send on a closed channel");
    assert.equal(err.name, "ChannelClosedError");
    assert.equal(codeOf(err), "TIMEBOUND_ERR_CHANNEL_CLOSED");
    assert.equal(err.message, "send on closed channel");
    assert.ok(err.stack?.startsWith("ChannelClosedError: send on closed channel"), "stack header");
    assert.equal(isTimeboundError(err), true);
    const twice = thrown(() => ch.close());
    assert.equal(codeOf(twice), "TIMEBOUND_ERR_CHANNEL_CLOSED", "close of a closed channel");
    assert.equal(Object.hasOwn(err, "name"), false, "the name comes from the prototype");
  });

  it("is recognised across two copies of the class (the ESM and CJS builds)", async () => {
    const other = (await import(SECOND_COPY)) as typeof ChannelModule;
    assert.notEqual(other.ChannelClosedError, ChannelClosedError, "a second copy of the module");
    const ch = new other.Channel<number>();
    ch.close();
    const err = thrown(() => ch.trySend(1));
    assert.ok(err instanceof ChannelClosedError, "the other copy's error is ours");
    assert.ok(new ChannelClosedError("x") instanceof other.ChannelClosedError, "and back");
    assert.equal(isTimeboundError(err), true);
    assert.equal(err instanceof RangeError, false, "no other class matches");
  });
});

describe("the primitives' argument errors", () => {
  it("carry the invalid-argument code, thrown or rejected", async () => {
    for (const err of [
      thrown(() => new Channel(-1)),
      thrown(() => new Semaphore(0)),
      thrown(() => new Group().setLimit(1.5)),
      thrown(() => new Group().go("x" as never)),
      thrown(() => ticker(background(), 0)),
      await rejection(sleep(background(), Number.NaN)),
      await rejection(select(background(), "x" as never)),
      await rejection(new Semaphore(1).acquire(background(), 2)),
    ]) {
      assert.equal(codeOf(err), INVALID_ARGUMENT, err.message);
      assert.ok(err instanceof TypeError || err instanceof RangeError, err.message);
    }
  });

  it("names the method that was called", () => {
    const err = thrown(() => new Group().tryGo(42 as never));
    assert.equal(err.message, "Group.tryGo: fn must be a function, got 42");
  });

  it("a value of the wrong kind is a TypeError, a number out of range a RangeError", async () => {
    assert.ok(thrown(() => new Channel("2" as never)) instanceof TypeError, "capacity");
    assert.ok(thrown(() => ticker(background(), "5" as never)) instanceof TypeError, "interval");
    assert.ok(thrown(() => ticker(background(), -5)) instanceof RangeError, "interval");
    const nan = await rejection(sleep(background(), Number.NaN));
    assert.ok(nan instanceof RangeError, "NaN is a number out of range");
    assert.equal(nan.message, "sleep: ms must be a number of milliseconds, got NaN");
  });
});

describe("the primitives' options", () => {
  it("select refuses an option it does not know, and a default that is not a boolean", async () => {
    const ch = new Channel<number>();
    const typo = await rejection(select(background(), [{ recv: ch }], { defualt: true } as never));
    assert.ok(typo instanceof TypeError, "a TypeError");
    assert.equal(codeOf(typo), UNKNOWN_OPTION);
    assert.equal(typo.message, "select: unknown option options.defualt (known: default)");
    const bad = await rejection(select(background(), [{ recv: ch }], { default: 1 } as never));
    assert.equal(bad.message, "select: options.default must be true or false, got 1");
    const none = await rejection(select(background(), [{ recv: ch }], "x" as never));
    assert.equal(none.message, 'select: options must be an object, got "x"');
    assert.equal(ch.recvq.size, 0, "nothing was queued");
  });

  it("Group.withContext refuses an option it does not know, and a name that is no string", () => {
    const typo = thrown(() => Group.withContext(background(), { nmae: "x" } as never));
    assert.equal(codeOf(typo), UNKNOWN_OPTION);
    assert.equal(typo.message, "Group.withContext: unknown option options.nmae (known: name)");
    const bad = thrown(() => Group.withContext(background(), { name: 5 } as never));
    assert.equal(bad.message, "Group.withContext: options.name must be a string, got 5");
    assert.equal(codeOf(bad), INVALID_ARGUMENT);
  });
});
