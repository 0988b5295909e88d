import { dependents } from "../../../src/core/introspect.js";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import {
  Canceled,
  DeadlineExceeded,
  background,
  withCancel,
  withTimeout,
} from "../../../src/index.js";
import { abandonedCount } from "../../../src/io/redis/ioredis/abandoned.js";
import {
  type LateReply,
  type RedisClientLike,
  command,
  commandBuffer,
  configureRedis,
} from "../../../src/io/redis/index.js";
import { freePort } from "../../../src/testing/index.js";
import { redisUrl } from "../../services.js";
import { IOREDIS, KINDS } from "./drivers.js";
import {
  disconnectAll,
  eventually,
  newClient,
  newClientOf,
  run,
  timed,
  uniqueKey,
} from "./helpers.js";
import { TcpProxy } from "./proxy.js";

const redisPort = (): number => Number(new URL(redisUrl()).port);

/** Long enough for any client library to have written what it was given (node-redis 5 waits a turn). */
const written = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 10));

for (const kind of KINDS) {
  describe(`redis (${kind.name}): commands on the client`, () => {
    let direct: Redis;
    let client0: RedisClientLike;
    const proxies: TcpProxy[] = [];

    /** A proxy on a free port in front of the test Redis, listening unless told not to. */
    async function proxy(listen = true): Promise<TcpProxy> {
      const p = new TcpProxy(await freePort(), redisPort());
      proxies.push(p);
      if (listen) await p.listen();
      return p;
    }

    /** A client through `p`, retrying fast when the proxy is down. */
    function through(p: TcpProxy): RedisClientLike {
      return newClientOf(kind, "on-client", { port: p.port, reconnect: "fast" });
    }

    before(async () => {
      direct = newClient("on-client-direct");
      client0 = newClientOf(kind, "on-client-plain");
      await kind.ready(client0);
    });
    after(async () => {
      disconnectAll();
      await Promise.all(proxies.map((p) => p.close()));
    });

    it("returns the reply under a live context, as strings or as Buffers", async () => {
      const key = uniqueKey("plain");
      using ctx = withTimeout(background(), 5_000);
      assert.equal(await command(ctx, client0, "set", key, "value", "PX", 60_000), "OK");
      assert.equal(await command(ctx, client0, "get", key), "value");
      assert.deepEqual(await commandBuffer(ctx, client0, "get", key), Buffer.from("value"));
      assert.deepEqual(await command(ctx, client0, "mget", key, uniqueKey("none")), [
        "value",
        null,
      ]);
      await assert.rejects(command(ctx, client0, "incr", key), /not an integer/);
      assert.equal(dependents(ctx), 0);
    });

    it("a pop canceled as it is sent loses nothing, whether it was written yet or not", async () => {
      // ioredis and node-redis 4 write at once (the LPOP runs, its element is put back); node-redis
      // 5 writes on the next turn (the LPOP is withdrawn). Either way the element stays in Redis.
      const key = uniqueKey("cancel-at-send");
      for (let i = 0; i < 5; i++) {
        await direct.rpush(key, `e${i}`);
        const ctx = withCancel(background());
        const pending = command(ctx, client0, "lpop", key);
        ctx.cancel();
        await assert.rejects(pending, Canceled);
      }
      assert.ok(
        await eventually(async () => (await direct.llen(key)) === 5),
        `every element is still there: ${JSON.stringify(await direct.lrange(key, 0, -1))}`,
      );
      // A restore may land after the next round's LPOP: the order may change, the set may not.
      const left = await direct.lrange(key, 0, -1);
      assert.deepEqual(left.sort(), ["e0", "e1", "e2", "e3", "e4"]);
    });

    it("a command queued while the client is offline is withdrawn on cancel and never runs", async () => {
      const p = await proxy(false); // nothing listens yet: ioredis queues commands
      const client = through(p);
      const key = uniqueKey("offline");
      const ctx = withCancel(background());
      const pending = command(ctx, client, "set", key, "must-not-happen");
      assert.equal(kind.isReady(client), false);
      ctx.cancel();
      await assert.rejects(pending, Canceled);

      await p.listen();
      await kind.ready(client);
      // The client works, and the canceled SET never reached the server, not even after the
      // (re)connect flushed the offline queue.
      assert.equal(await command(background(), client, "ping"), "PONG");
      assert.equal(await direct.get(key), null);
    });

    it("the same, ended by a deadline: DeadlineExceeded in time", async () => {
      const p = await proxy(false);
      const client = through(p);
      const key = uniqueKey("offline-deadline");
      const r = await timed(async () => {
        using ctx = withTimeout(background(), 50);
        return await command(ctx, client, "set", key, "must-not-happen");
      });
      assert.ok(r.error instanceof DeadlineExceeded, String(r.error));
      assert.ok(r.ms >= 48 && r.ms < 250, `took ${r.ms} ms`);
      await p.listen();
      await kind.ready(client);
      assert.equal(await run(client, "ping"), "PONG");
      assert.equal(await direct.get(key), null);
    });

    it("a written command: the caller is released at once, and the late reply does not shift the next", async () => {
      const late: LateReply[] = [];
      const p = await proxy();
      const client = through(p);
      configureRedis(client, { onLateReply: (l) => late.push(l) });
      await kind.ready(client);
      const [k1, k2] = [uniqueKey("first"), uniqueKey("second")];
      await direct.mset(k1, "v1", k2, "v2");

      p.pause(); // written to the socket, held in the network
      const ctx = withCancel(background());
      const first = command(ctx, client, "get", k1);
      const second = run(client, "get", k2);
      await written();
      ctx.cancel();
      const r = await timed(() => first);
      assert.ok(r.error instanceof Canceled);
      assert.ok(r.ms < 20, `released after ${r.ms} ms`);

      p.resume();
      // The reply to the abandoned GET arrives first and is dropped; the next caller gets its own.
      assert.equal(await second, "v2");
      assert.equal(await run(client, "get", k1), "v1");
      assert.ok(await eventually(() => late.length === 1), "one late reply");
      assert.deepEqual(late, [{ command: "get", args: [k1], reply: "v1", outcome: "none" }]);
      if (kind === IOREDIS) assert.equal(abandonedCount(client as Redis), 0);
    });

    it("a written command whose connection breaks is not sent again after the reconnect", async () => {
      const p = await proxy();
      const client = through(p);
      await kind.ready(client);
      const [ours, plain] = [uniqueKey("abandoned"), uniqueKey("plain-resent")];

      p.pause();
      const ctx = withCancel(background());
      const pending = command(ctx, client, "set", ours, "must-not-happen");
      // The control: a command in the same spot whose caller stays. ioredis sends it again after
      // the reconnect; node-redis fails it.
      const control = run(client, "set", plain, "resent");
      await written();
      ctx.cancel();
      await assert.rejects(pending, Canceled);
      if (kind === IOREDIS) assert.equal(abandonedCount(client as Redis), 1);

      p.cutAll(); // held bytes are lost: the server saw neither SET
      p.resume();
      if (kind.resendsWritten) {
        assert.equal(await control, "OK");
        assert.equal(await direct.get(plain), "resent", "ioredis resends unanswered commands");
      } else {
        await assert.rejects(control, "node-redis fails written commands whose connection broke");
      }
      await kind.ready(client);
      assert.equal(await run(client, "ping"), "PONG", "the client works after the reconnect");
      assert.equal(await direct.get(ours), null, "the canceled SET was not resent");
      if (kind === IOREDIS) assert.equal(abandonedCount(client as Redis), 0);
    });
  });
}
