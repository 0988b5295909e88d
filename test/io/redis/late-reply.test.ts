import assert from "node:assert/strict";
import diagnosticsChannel from "node:diagnostics_channel";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import { type Context, Canceled, background, withCancel, withTimeout } from "../../../src/index.js";
import {
  type LateReply,
  type RedisAdapterOptions,
  type RedisClientLike,
  blpop,
  brpop,
  command,
  configureRedis,
} from "../../../src/io/redis/index.js";
import { freePort } from "../../../src/testing/index.js";
import { redisUrl } from "../../services.js";
import { IOREDIS, KINDS, type TestClientOptions } from "./drivers.js";
import {
  blockedOf,
  disconnectAll,
  eventually,
  newClient,
  newClientOf,
  run,
  uniqueKey,
} from "./helpers.js";
import { TcpProxy } from "./proxy.js";

const LATE_REPLY = "timebound:redis:late-reply";

/** Late replies published while a test runs. */
function collectLate(): { readonly seen: LateReply[]; stop(): void } {
  const seen: LateReply[] = [];
  const onLate = (m: unknown): void => void seen.push(m as LateReply);
  diagnosticsChannel.subscribe(LATE_REPLY, onLate);
  return { seen, stop: () => diagnosticsChannel.unsubscribe(LATE_REPLY, onLate) };
}

/** Long enough for any client library to have written what it was given (node-redis 5 waits a turn). */
const written = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));

for (const kind of KINDS) {
  describe(`redis (${kind.name}): what a late reply took is put back`, () => {
    let direct: Redis;
    const proxies: TcpProxy[] = [];
    let late: ReturnType<typeof collectLate>;

    before(() => {
      direct = newClient("late-direct");
      late = collectLate();
    });
    after(async () => {
      late.stop();
      disconnectAll();
      await Promise.all(proxies.map((p) => p.close()));
    });

    /** A client whose traffic (its dedicated connections' too) goes through a proxy. */
    async function throughProxy(
      name: string,
      adapter: RedisAdapterOptions = {},
      options: TestClientOptions = {},
    ): Promise<{ client: RedisClientLike; proxy: TcpProxy }> {
      const proxy = new TcpProxy(await freePort(), Number(new URL(redisUrl()).port));
      proxies.push(proxy);
      await proxy.listen();
      const client = newClientOf(kind, name, { port: proxy.port, ...options });
      // Long enough that the held CLIENT UNBLOCK is never given up on while a test holds traffic.
      configureRedis(client, { unblockTimeoutMs: 10_000, ...adapter });
      await kind.ready(client);
      return { client, proxy };
    }

    /**
     * Makes `start(ctx)`'s reply late: once the server has it blocked, holds the client's traffic
     * and cancels (the caller is released; CLIENT UNBLOCK waits in the proxy), then runs `feed` on
     * a direct connection, so the server completes the blocked command. Traffic stays held (what
     * the adapter sends to restore waits too) until the caller resumes the proxy.
     */
    async function makeLate(
      client: RedisClientLike,
      proxy: TcpProxy,
      start: (ctx: Context) => Promise<unknown>,
      feed: () => Promise<unknown>,
    ): Promise<void> {
      const ctx = withCancel(background());
      const pending = start(ctx);
      assert.ok(await eventually(async () => (await blockedOf(direct, client)).length === 1));
      proxy.pause();
      ctx.cancel();
      await assert.rejects(pending, Canceled);
      await feed();
      assert.ok(
        await eventually(async () => (await blockedOf(direct, client)).length === 0),
        "the server completed the blocked command",
      );
    }

    /** The late reply published for a command on `key`, once it is. */
    async function lateFor(key: string): Promise<LateReply> {
      const find = (): LateReply | undefined =>
        late.seen.find((l) => l.args.includes(key) || JSON.stringify(l.reply).includes(key));
      assert.ok(await eventually(() => find() !== undefined), `a late reply for ${key}`);
      return find()!;
    }

    /** A key prefix for the client, where the library has them. */
    const keyPrefix = (): { prefix: string; options: TestClientOptions } => {
      if (!kind.keyPrefix) return { prefix: "", options: {} };
      const prefix = `${uniqueKey("pfx")}:`;
      return { prefix, options: { keyPrefix: prefix } };
    };

    it("BLPOP: the element goes back to the head of its list, the next one popped (key prefix too)", async () => {
      const { prefix, options } = keyPrefix();
      const { client, proxy } = await throughProxy("late-blpop", {}, options);
      const key = uniqueKey("blpop");
      await makeLate(
        client,
        proxy,
        (ctx) => blpop(ctx, client, key),
        () => direct.rpush(prefix + key, "first"),
      );
      await direct.rpush(prefix + key, "second");
      proxy.resume();
      const l = await lateFor(key);
      assert.equal(l.outcome, "restored");
      assert.deepEqual(
        l.reply,
        [prefix + key, "first"],
        "the reply names the key as the server does",
      );
      assert.equal(l.error, undefined);
      assert.deepEqual(await direct.lrange(prefix + key, 0, -1), ["first", "second"]);
      using ctx = withTimeout(background(), 2_000);
      assert.deepEqual(await blpop(ctx, client, key), [prefix + key, "first"]);
    });

    it("BRPOP: back to the tail", async () => {
      const { client, proxy } = await throughProxy("late-brpop");
      const key = uniqueKey("brpop");
      await makeLate(
        client,
        proxy,
        (ctx) => brpop(ctx, client, key),
        () => direct.rpush(key, "first"),
      );
      await direct.rpush(key, "second");
      proxy.resume();
      assert.equal((await lateFor(key)).outcome, "restored");
      assert.deepEqual(await direct.lrange(key, 0, -1), ["second", "first"]);
    });

    it("BLMOVE: moved back from the destination to the end of the source it came from", async () => {
      const { prefix, options } = keyPrefix();
      const { client, proxy } = await throughProxy("late-blmove", {}, options);
      const [source, destination] = [uniqueKey("source"), uniqueKey("destination")];
      await direct.rpush(prefix + destination, "old");
      await makeLate(
        client,
        proxy,
        (ctx) => command(ctx, client, "blmove", source, destination, "LEFT", "RIGHT", 0),
        () => direct.rpush(prefix + source, "first"),
      );
      await direct.rpush(prefix + source, "second");
      proxy.resume();
      assert.equal((await lateFor(source)).outcome, "restored");
      assert.deepEqual(await direct.lrange(prefix + source, 0, -1), ["first", "second"]);
      assert.deepEqual(await direct.lrange(prefix + destination, 0, -1), ["old"]);
    });

    it("BLMOVE: an element someone already took from the destination stays taken (kept)", async () => {
      const { client, proxy } = await throughProxy("late-blmove-kept");
      const [source, destination] = [uniqueKey("source"), uniqueKey("destination")];
      await makeLate(
        client,
        proxy,
        (ctx) => command(ctx, client, "blmove", source, destination, "RIGHT", "LEFT", 0),
        () => direct.rpush(source, "first"),
      );
      assert.equal(await direct.lpop(destination), "first"); // another worker took it
      proxy.resume();
      assert.equal((await lateFor(source)).outcome, "kept");
      assert.equal(await direct.exists(source, destination), 0, "nothing was pushed back");
    });

    it("BZPOPMAX: the member is added back with its score", async () => {
      const { client, proxy } = await throughProxy("late-bzpopmax");
      const key = uniqueKey("bzpopmax");
      await makeLate(
        client,
        proxy,
        (ctx) => command(ctx, client, "bzpopmax", key, 0),
        () => direct.zadd(key, "2.5", "member"),
      );
      proxy.resume();
      const l = await lateFor(key);
      assert.equal(l.outcome, "restored");
      assert.deepEqual(l.reply, [key, "member", kind.resp3 ? 2.5 : "2.5"]);
      assert.equal(await direct.zscore(key, "member"), "2.5");
    });

    it("a binary element goes back byte for byte, though the caller asked for strings", async () => {
      const { client, proxy } = await throughProxy("late-binary");
      const key = uniqueKey("binary");
      const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x80]); // not UTF-8
      await makeLate(
        client,
        proxy,
        (ctx) => command(ctx, client, "blpop", key, 0),
        () => direct.rpush(key, bytes),
      );
      proxy.resume();
      const l = await lateFor(key);
      assert.equal(l.outcome, "restored");
      assert.equal(
        typeof (l.reply as unknown[])[1],
        "string",
        "reported as the caller would see it",
      );
      assert.deepEqual(await direct.lrangeBuffer(key, 0, -1), [bytes]);
    });

    it("XREADGROUP: the entry stays pending for the consumer; with NOACK it is reported taken", async () => {
      const { client, proxy } = await throughProxy("late-xreadgroup");
      for (const noAck of [false, true]) {
        proxy.resume();
        const stream = uniqueKey(noAck ? "stream-noack" : "stream");
        await direct.xgroup("CREATE", stream, "g", "$", "MKSTREAM");
        const options = noAck ? ["NOACK"] : [];
        let id = "";
        await makeLate(
          client,
          proxy,
          (ctx) =>
            command(
              ctx,
              client,
              "xreadgroup",
              "GROUP",
              "g",
              "c",
              "BLOCK",
              0,
              ...options,
              "STREAMS",
              stream,
              ">",
            ),
          async () => (id = String(await direct.xadd(stream, "*", "job", "1"))),
        );
        proxy.resume();
        const l = await lateFor(stream);
        assert.equal(l.outcome, noAck ? "taken" : "kept");
        const pending = (await direct.xpending(stream, "g", "-", "+", 10)) as [string, string][];
        assert.deepEqual(
          pending.map(([entry, consumer]) => [entry, consumer]),
          noAck ? [] : [[id, "c"]],
        );
      }
    });

    it("putting back fails (the key changed type): onLateReply gets the data and the error, no warning", async () => {
      const got: LateReply[] = [];
      const { client, proxy } = await throughProxy("late-wrongtype", {
        onLateReply: (l) => got.push(l),
      });
      const warnings: Error[] = [];
      const onWarning = (w: Error): void => void warnings.push(w);
      process.on("warning", onWarning);
      try {
        const key = uniqueKey("wrongtype");
        await makeLate(
          client,
          proxy,
          (ctx) => blpop(ctx, client, key),
          () => direct.rpush(key, "first"),
        );
        await direct.set(key, "now a string");
        proxy.resume();
        assert.ok(await eventually(() => got.length === 1), "onLateReply was called");
        const [l] = got;
        assert.equal(l!.outcome, "restore-failed");
        assert.deepEqual(l!.reply, [key, "first"]);
        assert.match(String(l!.error), /WRONGTYPE/);
        assert.equal((await lateFor(key)).outcome, "restore-failed", "published too");
        await new Promise((resolve) => setImmediate(resolve));
        assert.deepEqual(warnings, [], "a handler took it: no warning");
      } finally {
        process.off("warning", onWarning);
      }
    });

    it("putting back fails (the connection is gone) with no onLateReply: a process warning says so", async () => {
      const { client, proxy } = await throughProxy("late-gone", {}, { reconnect: "never" });
      const warnings: (Error & { code?: string })[] = [];
      const onWarning = (w: Error): void => void warnings.push(w);
      process.on("warning", onWarning);
      try {
        const key = uniqueKey("gone");
        await makeLate(
          client,
          proxy,
          (ctx) => blpop(ctx, client, key),
          () => direct.rpush(key, "first"),
        );
        // The LPUSH that would put it back is written, held in the proxy; then the client goes.
        if (kind === IOREDIS) {
          const queue = (client as Redis).commandQueue;
          assert.ok(await eventually(() => queue.length === 1), "the restore was sent");
        } else {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        kind.destroy(client);
        const l = await lateFor(key);
        assert.equal(l.outcome, "restore-failed");
        assert.match(String(l.error), kind.disconnectedError);
        assert.ok(await eventually(() => warnings.length === 1), "one warning");
        assert.equal(warnings[0]!.name, "TimeboundWarning");
        assert.equal(warnings[0]!.code, "TIMEBOUND_REDIS_LATE_REPLY_LOST");
        assert.match(
          warnings[0]!.message,
          /timebound\/redis: BLPOP took data after its caller had left, and putting it back failed \(.+\); the data is lost/,
        );
        assert.equal(await direct.llen(key), 0);
      } finally {
        process.off("warning", onWarning);
        proxy.resume();
      }
    });

    it("restoreLatePops: false hands the element to onLateReply alone", async () => {
      const got: LateReply[] = [];
      const { client, proxy } = await throughProxy("late-taken", {
        restoreLatePops: false,
        onLateReply: (l) => got.push(l),
      });
      const key = uniqueKey("taken");
      await makeLate(
        client,
        proxy,
        (ctx) => blpop(ctx, client, key),
        () => direct.rpush(key, "first"),
      );
      proxy.resume();
      assert.ok(await eventually(() => got.length === 1), "onLateReply was called");
      assert.equal(got[0]!.outcome, "taken");
      assert.deepEqual(got[0]!.reply, [key, "first"]);
      assert.equal(await direct.llen(key), 0, "not put back");
    });

    it("a non-blocking LPOP written before the cancel: its element is put back too", async () => {
      const { client, proxy } = await throughProxy("late-lpop");
      const key = uniqueKey("lpop");
      await direct.rpush(key, "a", "b", "c");
      await run(client, "ping");
      proxy.pause(); // the LPOP is written, held in the network
      const ctx = withCancel(background());
      const pending = command(ctx, client, "lpop", key, 2);
      await written();
      ctx.cancel();
      await assert.rejects(pending, Canceled);
      proxy.resume();
      const l = await lateFor(key);
      assert.equal(l.outcome, "restored");
      assert.deepEqual(l.reply, ["a", "b"]);
      assert.deepEqual(await direct.lrange(key, 0, -1), ["a", "b", "c"], "in their order");
    });
  });
}
