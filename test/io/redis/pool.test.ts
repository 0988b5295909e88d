import { dependents } from "../../../src/core/introspect.js";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import {
  Canceled,
  DeadlineExceeded,
  background,
  now,
  withCancel,
  withTimeout,
} from "../../../src/index.js";
import {
  type RedisClientLike,
  blockingPoolStats,
  closeBlockingConnections,
  command,
  configureRedis,
} from "../../../src/io/redis/index.js";
import { freePort } from "../../../src/testing/index.js";
import { redisUrl } from "../../services.js";
import { KINDS } from "./drivers.js";
import {
  blockedOf,
  connectionsOf,
  disconnectAll,
  eventually,
  newClient,
  newClientOf,
  run,
  timed,
  uniqueKey,
} from "./helpers.js";
import { TcpProxy } from "./proxy.js";

/** Runs `n` BLPOPs on an empty list, `parallel` at a time, each ended by a short deadline. */
async function cancelledBlpops(
  client: RedisClientLike,
  n: number,
  parallel: number,
): Promise<void> {
  const key = uniqueKey("many");
  for (let done = 0; done < n; done += parallel) {
    const batch = Array.from({ length: Math.min(parallel, n - done) }, async () => {
      using ctx = withTimeout(background(), 5);
      return await command(ctx, client, "blpop", key, 30);
    });
    for (const r of await Promise.allSettled(batch)) {
      assert.equal(r.status, "rejected");
      assert.ok(r.reason instanceof DeadlineExceeded, String(r.reason));
    }
  }
}

for (const kind of KINDS) {
  describe(`redis (${kind.name}): the pool of blocking connections`, () => {
    let observer: Redis;

    before(() => {
      observer = newClient("pool-observer");
    });
    after(() => disconnectAll());

    it("200 canceled BLPOPs: the connection count stays flat, nothing stays blocked, nothing reconnects", async () => {
      const client = newClientOf(kind, "pool-many");
      await cancelledBlpops(client, 20, 4); // warm up: the pool opens what it needs
      await eventually(() => blockingPoolStats(client).busy === 0);
      const warm = (await connectionsOf(observer, client)).length;
      const warmStats = blockingPoolStats(client);

      const start = now();
      await cancelledBlpops(client, 100, 1);
      await cancelledBlpops(client, 100, 4);
      assert.ok(now() - start < 20_000, "bounded run time");

      assert.ok(await eventually(() => blockingPoolStats(client).busy === 0));
      assert.deepEqual(await blockedOf(observer, client), []);
      const stats = blockingPoolStats(client);
      // A connection is free again only once its UNBLOCKED reply is in, so while one batch's
      // connections drain the next batch may need others: up to twice the batch, never more
      // than maxBlockingConnections (8), and 200 cancels must not open 200.
      assert.ok(stats.opened <= 8, JSON.stringify({ warmStats, stats }));
      assert.equal(stats.discarded, 0);
      const count = (await connectionsOf(observer, client)).length;
      assert.ok(count <= 1 + 1 + 8, `connections: ${count} (main + control + dedicated)`);
      assert.ok(
        count <= warm + 2,
        `connections: ${warm} after warm-up, ${count} after 200 cancels`,
      );
      assert.equal(await run(client, "ping"), "PONG");
    });

    it("a caller waiting for a free connection leaves the queue when its context ends", async () => {
      const client = newClientOf(kind, "pool-full");
      configureRedis(client, { maxBlockingConnections: 1 });
      const holder = withCancel(background());
      const held = command(holder, client, "blpop", uniqueKey("held"), 0);
      assert.ok(await eventually(async () => (await blockedOf(observer, client)).length === 1));

      const waiter = withTimeout(background(), 50);
      const r = await timed(() => command(waiter, client, "blpop", uniqueKey("waits"), 0));
      assert.ok(r.error instanceof DeadlineExceeded, String(r.error));
      assert.ok(r.ms >= 48 && r.ms < 250, `took ${r.ms} ms`);
      assert.equal(dependents(waiter), 0);
      assert.equal(blockingPoolStats(client).opened, 1, "no second connection beyond the limit");

      holder.cancel();
      await assert.rejects(held, Canceled);
      // The slot is free again: the next blocking command runs (and is cut by its deadline).
      const next = await timed(async () => {
        using ctx = withTimeout(background(), 50);
        return await command(ctx, client, "blpop", uniqueKey("next"), 10);
      });
      assert.ok(next.error instanceof DeadlineExceeded, String(next.error));
      assert.equal(blockingPoolStats(client).opened, 1, "the one connection was reused");
    });

    it("a deadline that passes while a connection opens does not keep its slot busy", async () => {
      const client = newClientOf(kind, "pool-opening");
      configureRedis(client, { maxBlockingConnections: 1 });
      const ctx = withTimeout(background(), 1);
      const pending = command(ctx, client, "blpop", uniqueKey("opening"), 0);
      // Hold the event loop past the deadline: the adapter next sees the deadline as passed
      // (read from the clock) before its timer fires, just as it starts to open a connection.
      const until = now() + 5;
      while (now() < until);
      await assert.rejects(pending, DeadlineExceeded);
      assert.ok(
        await eventually(() => blockingPoolStats(client).busy === 0),
        `slot given back: ${JSON.stringify(blockingPoolStats(client))}`,
      );
      // The one slot is usable: the next blocking command runs.
      const key = uniqueKey("after-opening");
      await run(client, "rpush", key, "x");
      using next = withTimeout(background(), 2_000);
      assert.deepEqual(await command(next, client, "blpop", key, 0), [key, "x"]);
    });

    it("idle connections close after idleTimeoutMs, and all close when the client ends", async () => {
      const client = newClientOf(kind, "pool-idle");
      configureRedis(client, { idleTimeoutMs: 50 });
      await cancelledBlpops(client, 1, 1);
      assert.ok(
        await eventually(async () => (await connectionsOf(observer, client)).length === 2),
        "main + control left once the blocking connection idled out",
      );
      assert.equal(blockingPoolStats(client).idle, 0);

      await cancelledBlpops(client, 1, 1);
      await kind.close(client);
      assert.ok(
        await eventually(async () => (await connectionsOf(observer, client)).length === 0),
        "everything closed with the client",
      );
      assert.deepEqual(blockingPoolStats(client), { busy: 0, idle: 0, opened: 0, discarded: 0 });
      // A closed client takes no blocking command (and opens no connection for one).
      await assert.rejects(
        command(background(), client, "blpop", uniqueKey("closed"), 1),
        kind.closedError,
      );
      assert.deepEqual(blockingPoolStats(client), { busy: 0, idle: 0, opened: 0, discarded: 0 });
    });

    it("closeBlockingConnections frees a blocked command's connection and lets options change", async () => {
      const client = newClientOf(kind, "pool-close");
      const ctx = withCancel(background());
      const blocked = command(ctx, client, "blpop", uniqueKey("closing"), 0);
      assert.ok(await eventually(async () => (await blockedOf(observer, client)).length === 1));
      assert.throws(() => configureRedis(client, { maxBlockingConnections: 2 }), /already open/);
      const failed = assert.rejects(blocked, kind.disconnectedError);
      await closeBlockingConnections(client);
      await failed;
      // The server drops the closed connection from CLIENT LIST once it has read the close.
      assert.ok(
        await eventually(async () => (await blockedOf(observer, client)).length === 0),
        "no command of this client is blocked on the server once its connection closed",
      );
      configureRedis(client, { maxBlockingConnections: 2 });
      ctx.cancel();
    });

    it("when CLIENT UNBLOCK cannot get through, the blocked connection is closed and replaced", async () => {
      // Everything of this client goes through a proxy; pausing it holds the CLIENT UNBLOCK.
      const proxy = new TcpProxy(await freePort(), Number(new URL(redisUrl()).port));
      await proxy.listen();
      try {
        const client = newClientOf(kind, "pool-stuck", { port: proxy.port });
        configureRedis(client, { unblockTimeoutMs: 50 });
        await cancelledBlpops(client, 1, 1); // opens the blocking and control connections
        await eventually(() => blockingPoolStats(client).busy === 0);

        const ctx = withCancel(background());
        const blocked = command(ctx, client, "blpop", uniqueKey("stuck"), 0);
        assert.ok(await eventually(async () => (await blockedOf(observer, client)).length === 1));
        proxy.pause();
        ctx.cancel();
        await assert.rejects(blocked, Canceled); // the caller does not wait for any of this
        // After 50 ms of trying, the connection is closed; the server lets the BLPOP go with it.
        assert.ok(
          await eventually(async () => (await blockedOf(observer, client)).length === 0),
          "the server dropped the blocked client",
        );
        assert.ok(await eventually(() => blockingPoolStats(client).discarded === 1));

        proxy.resume();
        await cancelledBlpops(client, 3, 1);
        assert.equal(blockingPoolStats(client).discarded, 1);
        assert.ok(await eventually(async () => (await blockedOf(observer, client)).length === 0));
      } finally {
        await proxy.close();
      }
    });
  });
}
