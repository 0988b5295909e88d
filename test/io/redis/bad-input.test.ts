import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { createClientPool } from "redis";
import { createClient as createClient4, createCluster as createCluster4 } from "redis4";
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
import type { RedisAdapterOptions, RedisArgument } from "../../../src/io/redis/index.js";
import { disconnectAll, newClient } from "./helpers.js";

/** What `assert.rejects` should see: a TypeError whose message matches `message`. */
const typeError = (message: RegExp) => ({ name: "TypeError", message });

/** Passes a value the types forbid, as plain JavaScript callers can. */
const loose = <T>(value: unknown): T => value as T;

describe("redis: bad input", () => {
  const client = newClient("bad-input", { lazyConnect: true });
  const bg = background();
  after(() => disconnectAll());

  it("command and commandBuffer name the function and the bad value, rejecting", async () => {
    await assert.rejects(command(loose({}), client, "get", "k"), typeError(/command: .*ctx.*\{\}/));
    await assert.rejects(
      command(bg, loose({ get() {} }), "get"),
      typeError(/command: expected an ioredis or node-redis client/),
    );
    await assert.rejects(
      command(bg, loose(null), "get"),
      typeError(/command: expected an ioredis or node-redis client, got null/),
    );
    await assert.rejects(
      commandBuffer(bg, client, ""),
      typeError(/commandBuffer: name must be a Redis command name, got ""/),
    );
    await assert.rejects(
      command(bg, client, loose(42)),
      typeError(/command: name must be .* got 42/),
    );
    await assert.rejects(command(bg, client, "get key"), typeError(/got "get key"/));
    await assert.rejects(
      command(bg, client, "set", "k", loose<RedisArgument>({ a: 1 })),
      typeError(/command: argument 2 must be a string, a finite number or a Buffer, got \{"a":1\}/),
    );
    await assert.rejects(
      command(bg, client, "set", "k", Number.NaN),
      typeError(/argument 2 .* got NaN/),
    );
    await assert.rejects(
      command(bg, client, "set", "k", loose<RedisArgument>(undefined)),
      typeError(/got undefined/),
    );
  });

  it("a blocking command needs a timeout >= 0 where the command takes it (or rejects)", async () => {
    await assert.rejects(
      command(bg, client, "blpop", "queue"),
      typeError(
        /command: BLPOP needs a timeout \(its last argument\) in seconds, a number >= 0; got "queue"/,
      ),
    );
    await assert.rejects(
      command(bg, client, "BRPOP", "q", -1),
      typeError(/BRPOP needs a timeout .* got -1/),
    );
    await assert.rejects(
      command(bg, client, "blmpop", "soon", 1, "q", "LEFT"),
      typeError(/BLMPOP needs a timeout \(its first argument\)/),
    );
    await assert.rejects(
      command(bg, client, "xread", "BLOCK", "later", "STREAMS", "s", "$"),
      typeError(/XREAD needs a timeout \(the value after BLOCK\) in milliseconds, .* got "later"/),
    );
    await assert.rejects(
      command(bg, client, "wait", 1),
      typeError(/WAIT needs a timeout \(its second argument\) .* got undefined/),
    );
  });

  it("blpop and brpop check their keys and timeout, rejecting", async () => {
    await assert.rejects(
      blpop(bg, client, []),
      typeError(/blpop: keys must be a string or a non-empty array of strings, got Array \[\]/),
    );
    await assert.rejects(
      brpop(bg, client, loose([1])),
      typeError(/brpop: keys must be .* got Array \[1\]/),
    );
    await assert.rejects(
      blpop(bg, client, "q", -1),
      typeError(/blpop: timeoutSeconds must be a number >= 0, got -1/),
    );
  });

  it("configureRedis checks every option's range", () => {
    assert.throws(
      () => configureRedis(client, loose(null)),
      /configureRedis: options must be an object, got null/,
    );
    assert.throws(
      () => configureRedis(client, { maxBlockingConnections: 0 }),
      /^RangeError: configureRedis: options\.maxBlockingConnections must be an integer from 1 to 1,000, got 0$/,
    );
    assert.throws(() => configureRedis(client, { maxBlockingConnections: 2.5 }), /got 2.5/);
    assert.throws(
      () => configureRedis(client, { idleTimeoutMs: -1 }),
      /options\.idleTimeoutMs must be a number of milliseconds from 0 to 3,600,000, got -1/,
    );
    assert.throws(
      () => configureRedis(client, { unblockTimeoutMs: 5 }),
      /options\.unblockTimeoutMs must be a number of milliseconds from 10 to 60,000, got 5/,
    );
    assert.throws(() => configureRedis(client, { unblockTimeoutMs: Infinity }), /got Infinity/);
    assert.throws(
      () => configureRedis(client, { onLateReply: loose("log") }),
      /options\.onLateReply must be a function, got "log"/,
    );
    assert.throws(
      () => configureRedis(loose({}), {}),
      /configureRedis: expected an ioredis or node-redis client/,
    );
    assert.throws(
      () => configureRedis(client, { restoreLatePops: loose("no") }),
      /configureRedis: options\.restoreLatePops must be true or false, got "no"/,
    );
    assert.throws(
      () => configureRedis(client, { restoreLatePops: false }),
      /configureRedis: options\.restoreLatePops: false needs an options\.onLateReply to receive what late pops took; without one it would be lost/,
    );
    configureRedis(client, { restoreLatePops: false, onLateReply: () => {} }); // allowed
  });

  it("configureRedis refuses an option it does not know; argument errors carry a code", () => {
    assert.throws(
      () => configureRedis(client, loose({ maxBlockingConnection: 4 })),
      (err: unknown) => {
        assert.match(
          String(err),
          /^TypeError: configureRedis: unknown option options\.maxBlockingConnection \(known: maxBlockingConnections, idleTimeoutMs, unblockTimeoutMs, restoreLatePops, onLateReply\)$/,
        );
        assert.equal((err as { code?: unknown }).code, "TIMEBOUND_ERR_UNKNOWN_OPTION");
        return true;
      },
    );
    const bad: RedisAdapterOptions[] = [
      loose(null),
      { idleTimeoutMs: -1 },
      { restoreLatePops: false },
    ];
    for (const options of bad) {
      assert.throws(
        () => configureRedis(client, options),
        (err: unknown) => (err as { code?: unknown }).code === "TIMEBOUND_ERR_INVALID_ARGUMENT",
      );
    }
    assert.throws(
      () => configureRedis(loose({}), {}),
      (err: unknown) => (err as { code?: unknown }).code === "TIMEBOUND_ERR_INVALID_ARGUMENT",
    );
  });

  it("the pool functions check the client (the one returning a promise rejects)", async () => {
    assert.throws(
      () => blockingPoolStats(loose(undefined)),
      /blockingPoolStats: expected an ioredis or node-redis client, got undefined/,
    );
    await assert.rejects(
      closeBlockingConnections(loose(1)),
      typeError(/closeBlockingConnections: expected an ioredis or node-redis client, got 1/),
    );
    assert.deepEqual(blockingPoolStats(client), { busy: 0, idle: 0, opened: 0, discarded: 0 });
    await closeBlockingConnections(client); // no pool yet: nothing to do
  });

  it("clients it cannot drive are refused with a clear error, naming the way out", async () => {
    const pool = createClientPool({ url: "redis://127.0.0.1:1" });
    await assert.rejects(
      command(bg, loose(pool), "get", "k"),
      typeError(/command: node-redis client pools \(createClientPool\) are not supported/),
    );
    const legacy = createClient4({ legacyMode: true });
    await assert.rejects(
      blpop(bg, loose(legacy), "q"),
      typeError(/blpop: this node-redis 4 client is in legacy mode \(callbacks\); pass client.v4/),
    );
    const cluster4 = createCluster4({ rootNodes: [{ url: "redis://127.0.0.1:1" }] });
    await assert.rejects(
      command(bg, loose(cluster4), "get", "k"),
      typeError(
        /command: node-redis 4 cluster clients are not supported; use node-redis 5's createCluster/,
      ),
    );
    const unknown = loose<typeof client>({ isOpen: true, sendCommand() {}, duplicate() {} });
    assert.throws(
      () => configureRedis(unknown, {}),
      /configureRedis: this node-redis client is neither node-redis 4's nor 5's/,
    );
    const old = loose<typeof client>({ status: "ready", sendCommand() {}, duplicate() {} });
    await assert.rejects(
      command(bg, old, "get", "k"),
      typeError(/command: this ioredis client has no offline queue like ioredis 5's/),
    );
  });
});
