import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { blockingCommand, budgetArgs } from "../../../src/io/redis/blocking-commands.js";
import type { RedisArgument } from "../../../src/io/redis/driver.js";

/** The arguments sent for `name args...` with `budgetMs` left. */
function sent(budgetMs: number, name: string, ...args: RedisArgument[]): readonly RedisArgument[] {
  const command = blockingCommand(name, args, "test");
  assert.ok(command, `${name} is blocking`);
  return budgetArgs(command, args, budgetMs).args;
}

describe("redis: blocking commands and their timeouts", () => {
  it("cuts a seconds timeout to the budget, with decimals, rounding up, never to 0", () => {
    assert.deepEqual(sent(99.2, "blpop", "a", "b", 30), ["a", "b", "0.100"]);
    assert.deepEqual(sent(0.2, "BRPOP", "a", "30"), ["a", "0.001"]);
    assert.deepEqual(sent(1500, "blmove", "s", "d", "LEFT", "RIGHT", 0), [
      "s",
      "d",
      "LEFT",
      "RIGHT",
      "1.500",
    ]);
    assert.deepEqual(sent(250, "bzmpop", 10, 1, "z", "MIN"), ["0.250", 1, "z", "MIN"]);
    assert.deepEqual(sent(40, "brpoplpush", "s", "d", 1), ["s", "d", "0.040"]);
  });

  it("keeps the caller's own timeout when it is the shorter, or when there is no deadline", () => {
    assert.deepEqual(sent(5_000, "blpop", "a", 1), ["a", 1]);
    assert.deepEqual(sent(Infinity, "blpop", "a", 0), ["a", 0]);
    assert.equal(
      budgetArgs(blockingCommand("blpop", ["a", 0], "t")!, ["a", 0], 10).fromBudget,
      true,
    );
    assert.equal(
      budgetArgs(blockingCommand("blpop", ["a", 1], "t")!, ["a", 1], 10_000).fromBudget,
      false,
    );
  });

  it("finds BLOCK in XREAD and XREADGROUP, not in stream names; without BLOCK they do not block", () => {
    assert.deepEqual(sent(80.5, "xread", "COUNT", 5, "BLOCK", 0, "STREAMS", "s", "$"), [
      "COUNT",
      5,
      "BLOCK",
      "81",
      "STREAMS",
      "s",
      "$",
    ]);
    assert.deepEqual(
      sent(
        80,
        "xreadgroup",
        "GROUP",
        "block",
        "count",
        "BLOCK",
        "2000",
        "NOACK",
        "STREAMS",
        "s",
        ">",
      ),
      ["GROUP", "block", "count", "BLOCK", "80", "NOACK", "STREAMS", "s", ">"],
    );
    assert.equal(blockingCommand("xread", ["STREAMS", "block", "5"], "t"), undefined);
    assert.equal(
      blockingCommand("xreadgroup", ["GROUP", "g", "c", "STREAMS", "s", ">"], "t"),
      undefined,
    );
    assert.equal(blockingCommand("get", ["k"], "t"), undefined);
  });

  it("WAIT and WAITAOF take milliseconds; their timeout reply is a count short of the ask", () => {
    assert.deepEqual(sent(50, "wait", 1, 30_000), [1, "50"]);
    assert.deepEqual(sent(50, "waitaof", 1, 0, 0), [1, 0, "50"]);
    const wait = blockingCommand("wait", [2, 100], "t")!;
    assert.equal(wait.shape.timedOut(1, [2, 100]), true);
    assert.equal(wait.shape.timedOut(2, [2, 100]), false);
    const pop = blockingCommand("blpop", ["q", 1], "t")!;
    assert.equal(pop.shape.timedOut(null, ["q", 1]), true);
    assert.equal(pop.shape.timedOut(["q", "x"], ["q", 1]), false);
  });
});
