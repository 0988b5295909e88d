import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { background } from "../../../src/index.js";
import {
  blockingPoolStats,
  blpop,
  brpop,
  closeBlockingConnections,
  command,
  commandBuffer,
  configureRedis,
} from "../../../src/io/redis/index.js";
import type { RedisArgument } from "../../../src/io/redis/index.js";
import { disconnectAll, newClient } from "./helpers.js";

/** Passes a value the types forbid, as plain JavaScript callers can. */
const loose = <T>(value: unknown): T => value as T;

describe("redis: bad input", () => {
  const client = newClient("bad-input", { lazyConnect: true });
  const bg = background();
  after(() => disconnectAll());

  it("command and commandBuffer name the function and the bad value", () => {
    assert.throws(() => command(loose({}), client, "get", "k"), /command: .*ctx.*\{\}/);
    assert.throws(
      () => command(bg, loose({ get() {} }), "get"),
      /command: expected an ioredis client/,
    );
    assert.throws(
      () => command(bg, loose(null), "get"),
      /command: expected an ioredis client, got null/,
    );
    assert.throws(
      () => commandBuffer(bg, client, ""),
      /commandBuffer: name must be a Redis command name, got ""/,
    );
    assert.throws(() => command(bg, client, loose(42)), /command: name must be .* got 42/);
    assert.throws(() => command(bg, client, "get key"), /got "get key"/);
    assert.throws(
      () => command(bg, client, "set", "k", loose<RedisArgument>({ a: 1 })),
      /command: argument 2 must be a string, a finite number or a Buffer, got \{"a":1\}/,
    );
    assert.throws(() => command(bg, client, "set", "k", Number.NaN), /argument 2 .* got NaN/);
    assert.throws(
      () => command(bg, client, "set", "k", loose<RedisArgument>(undefined)),
      /got undefined/,
    );
  });

  it("a blocking command needs a timeout >= 0 where the command takes it", () => {
    assert.throws(
      () => command(bg, client, "blpop", "queue"),
      /command: BLPOP needs a timeout \(its last argument\) in seconds, a number >= 0; got "queue"/,
    );
    assert.throws(() => command(bg, client, "BRPOP", "q", -1), /BRPOP needs a timeout .* got -1/);
    assert.throws(
      () => command(bg, client, "blmpop", "soon", 1, "q", "LEFT"),
      /BLMPOP needs a timeout \(its first argument\)/,
    );
    assert.throws(
      () => command(bg, client, "xread", "BLOCK", "later", "STREAMS", "s", "$"),
      /XREAD needs a timeout \(the value after BLOCK\) in milliseconds, .* got "later"/,
    );
    assert.throws(
      () => command(bg, client, "wait", 1),
      /WAIT needs a timeout \(its second argument\) .* got undefined/,
    );
  });

  it("blpop and brpop check their keys and timeout", () => {
    assert.throws(
      () => blpop(bg, client, []),
      /blpop: keys must be a string or a non-empty array of strings, got Array \[\]/,
    );
    assert.throws(() => brpop(bg, client, loose([1])), /brpop: keys must be .* got Array \[1\]/);
    assert.throws(
      () => blpop(bg, client, "q", -1),
      /blpop: timeoutSeconds must be a number >= 0, got -1/,
    );
  });

  it("configureRedis checks every option's range", () => {
    assert.throws(
      () => configureRedis(client, loose(null)),
      /configureRedis: options must be an object, got null/,
    );
    assert.throws(
      () => configureRedis(client, { maxBlockingConnections: 0 }),
      /configureRedis: maxBlockingConnections must be an integer from 1 to 1,000, got 0/,
    );
    assert.throws(() => configureRedis(client, { maxBlockingConnections: 2.5 }), /got 2.5/);
    assert.throws(
      () => configureRedis(client, { idleTimeoutMs: -1 }),
      /idleTimeoutMs must be a number from 0 to 3,600,000, got -1/,
    );
    assert.throws(
      () => configureRedis(client, { unblockTimeoutMs: 5 }),
      /unblockTimeoutMs must be a number from 10 to 60,000, got 5/,
    );
    assert.throws(() => configureRedis(client, { unblockTimeoutMs: Infinity }), /got Infinity/);
    assert.throws(
      () => configureRedis(client, { onLateReply: loose("log") }),
      /onLateReply must be a function, got "log"/,
    );
    assert.throws(
      () => configureRedis(loose({}), {}),
      /configureRedis: expected an ioredis client/,
    );
  });

  it("the pool functions check the client", async () => {
    assert.throws(
      () => blockingPoolStats(loose(undefined)),
      /blockingPoolStats: expected an ioredis client, got undefined/,
    );
    assert.throws(
      () => closeBlockingConnections(loose(1)),
      /closeBlockingConnections: expected an ioredis client, got 1/,
    );
    assert.deepEqual(blockingPoolStats(client), { busy: 0, idle: 0, opened: 0, discarded: 0 });
    await closeBlockingConnections(client); // no pool yet: nothing to do
  });

  it("Redis Cluster clients are refused with a clear error", () => {
    const cluster = loose<typeof client>({ sendCommand() {}, duplicate() {}, isCluster: true });
    assert.throws(
      () => command(bg, cluster, "get", "k"),
      /command: Redis Cluster clients are not supported/,
    );
  });
});
