import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RedisArgument } from "../../../src/io/redis/driver.js";
import { type Restore, restoreFor, takesData } from "../../../src/io/redis/restore.js";

const b = (s: string): Buffer => Buffer.from(s);

/** The restore for `name args...` given `reply`, Buffers shown as strings, `isKept` left out. */
function plan(name: string, args: RedisArgument[], reply: unknown, prefix = ""): unknown {
  const restore: Restore = restoreFor(name, args, reply, prefix);
  if (typeof restore === "string") return restore;
  return [restore.name, ...restore.args.map((a) => (Buffer.isBuffer(a) ? a.toString() : a))];
}

describe("redis: how each command's late reply is put back", () => {
  it("list pops push back to the end they came from, the first popped ending up first", () => {
    assert.deepEqual(plan("blpop", ["q", "0.1"], [b("q"), b("e")]), ["lpush", "q", "e"]);
    assert.deepEqual(plan("BRPOP", ["q", 0], [b("q"), b("e")]), ["rpush", "q", "e"]);
    assert.deepEqual(plan("lpop", ["q"], b("e")), ["lpush", "q", "e"]);
    // LPOP 2 of [a b c] gave [a b]: LPUSH b a makes [a b c] again.
    assert.deepEqual(plan("lpop", ["q", 2], [b("a"), b("b")]), ["lpush", "q", "b", "a"]);
    // RPOP 2 of [a b c] gave [c b]: RPUSH b c.
    assert.deepEqual(plan("rpop", ["q", 2], [b("c"), b("b")]), ["rpush", "q", "b", "c"]);
    assert.deepEqual(
      plan("blmpop", ["0.5", 2, "q1", "q2", "RIGHT", "COUNT", 2], [b("q2"), [b("c"), b("b")]]),
      ["rpush", "q2", "b", "c"],
    );
    assert.deepEqual(plan("lmpop", [1, "q", "left"], [b("q"), [b("a")]]), ["lpush", "q", "a"]);
  });

  it("moves are moved back by a script that checks the element is still in the destination", () => {
    const blmove = plan("blmove", ["src", "dst", "LEFT", "RIGHT", 0], b("e")) as unknown[];
    assert.equal(blmove[0], "eval");
    // numkeys, destination, source, element, its end in the destination, its end in the source
    assert.deepEqual(blmove.slice(2), [2, "dst", "src", "e", "RIGHT", "LEFT"]);
    const rpoplpush = plan("rpoplpush", ["src", "dst"], b("e")) as unknown[];
    assert.deepEqual(rpoplpush.slice(2), [2, "dst", "src", "e", "LEFT", "RIGHT"]);
    const restore = restoreFor("brpoplpush", ["s", "d", 1], b("e"), "");
    assert.ok(typeof restore !== "string", "a command");
    assert.equal(restore.isKept?.(0), true, "0: the element had left the destination");
    assert.equal(restore.isKept?.(1), false);
  });

  it("sorted-set pops ZADD NX back with the score; SPOP SADDs back", () => {
    assert.deepEqual(plan("bzpopmin", ["z", 1], [b("z"), b("m"), b("1.5")]), [
      "zadd",
      "z",
      "NX",
      "1.5",
      "m",
    ]);
    assert.deepEqual(plan("zpopmax", ["z", 2], [b("m1"), b("9"), b("m2"), b("8")]), [
      "zadd",
      "z",
      "NX",
      "9",
      "m1",
      "8",
      "m2",
    ]);
    assert.deepEqual(
      plan(
        "bzmpop",
        [0, 1, "z", "MIN", "COUNT", 2],
        [
          b("z"),
          [
            [b("a"), b("1")],
            [b("b"), b("2")],
          ],
        ],
      ),
      ["zadd", "z", "NX", "1", "a", "2", "b"],
    );
    assert.deepEqual(plan("zmpop", [1, "z", "MAX"], [b("z"), [[b("a"), b("1")]]]), [
      "zadd",
      "z",
      "NX",
      "1",
      "a",
    ]);
    assert.deepEqual(plan("spop", ["s", 2], [b("x"), b("y")]), ["sadd", "s", "x", "y"]);
  });

  it("RESP3 replies (node-redis 5): nested member/score pairs, scores as numbers", () => {
    assert.deepEqual(
      plan(
        "zpopmin",
        ["z", 2],
        [
          [b("a"), 1.5],
          [b("b"), Infinity],
        ],
      ),
      ["zadd", "z", "NX", 1.5, "a", Infinity, "b"],
    );
    assert.deepEqual(plan("bzpopmax", ["z", 0], [b("z"), b("m"), 2.5]), [
      "zadd",
      "z",
      "NX",
      2.5,
      "m",
    ]);
    assert.deepEqual(plan("bzmpop", [0, 1, "z", "MIN"], [b("z"), [[b("a"), -1]]]), [
      "zadd",
      "z",
      "NX",
      -1,
      "a",
    ]);
    assert.equal(plan("zpopmin", ["z", 2], []), "none");
  });

  it("keys from the arguments get the client's prefix; keys from the reply have it already", () => {
    assert.deepEqual(plan("lpop", ["q"], b("e"), "app:"), ["lpush", "app:q", "e"]);
    assert.deepEqual(plan("blpop", ["q", 0], [b("app:q"), b("e")], "app:"), [
      "lpush",
      "app:q",
      "e",
    ]);
    const moved = plan("lmove", ["s", "d", "RIGHT", "LEFT"], b("e"), "app:") as unknown[];
    assert.deepEqual(moved.slice(2, 4), [2, "app:d"]);
    assert.equal(moved[4], "app:s");
    assert.deepEqual(plan("lpop", [b("q")], b("e"), "app:"), ["lpush", "app:q", "e"]);
  });

  it("XREADGROUP leaves entries pending, unless NOACK (not a stream named noack)", () => {
    const reply = [[b("s"), [[b("1-0"), [b("f"), b("v")]]]]];
    assert.equal(
      plan("xreadgroup", ["GROUP", "g", "c", "BLOCK", 5, "STREAMS", "s", ">"], reply),
      "kept",
    );
    assert.equal(
      plan("xreadgroup", ["GROUP", "g", "c", "NOACK", "STREAMS", "s", ">"], reply),
      "taken",
    );
    assert.equal(
      plan("xreadgroup", ["GROUP", "noack", "noack", "STREAMS", "noack", ">"], reply),
      "kept",
    );
  });

  it("nothing to put back: empty replies, and commands that take nothing", () => {
    assert.equal(plan("blpop", ["q", 1], null), "none");
    assert.equal(plan("lpop", ["q", 2], []), "none");
    assert.equal(plan("zpopmin", ["z"], []), "none");
    assert.equal(plan("xread", ["BLOCK", 5, "STREAMS", "s", "$"], [[b("s"), []]]), "none");
    assert.equal(plan("get", ["k"], b("v")), "none");
    assert.equal(plan("wait", [1, 10], 0), "none");
    assert.equal(takesData("BLPOP"), true);
    assert.equal(takesData("xreadgroup"), true);
    assert.equal(takesData("get"), false);
    assert.equal(takesData("xread"), false);
  });
});
