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
import {
  type RedisArgument,
  type RedisClientLike,
  blockingPoolStats,
  blpop,
  brpop,
  command,
} from "../../../src/io/redis/index.js";
import { KINDS } from "./drivers.js";
import {
  blockedOf,
  connectionsOf,
  disconnectAll,
  monitored,
  newClient,
  newClientOf,
  run,
  timed,
  uniqueKey,
} from "./helpers.js";

// The bound: BLPOP with a 30 s server timeout under a 100 ms deadline returns
// DeadlineExceeded in ~100 ms. Timers never fire early; 300 ms leaves room for a loaded machine.
const DEADLINE_MS = 100;
const LATE_LIMIT_MS = 300;

for (const kind of KINDS) {
  describe(`redis (${kind.name}): blocking commands`, () => {
    let client: RedisClientLike;
    let observer: Redis;

    before(async () => {
      client = newClientOf(kind, "blocking");
      observer = newClient("blocking-observer");
      await kind.ready(client);
      // Open the dedicated connection now: a first blocking command spends part of its budget
      // connecting, which would blur what these tests measure.
      const warm = uniqueKey("warm");
      await run(client, "rpush", warm, "x");
      assert.deepEqual(await command(background(), client, "blpop", warm, 1), [warm, "x"]);
    });
    after(() => disconnectAll());

    /**
     * Runs `name args...` under a DEADLINE_MS deadline; asserts the caller got DeadlineExceeded in
     * about that time and the client is fine.
     */
    async function expectDeadline(name: string, ...args: RedisArgument[]): Promise<void> {
      const r = await timed(async () => {
        using ctx = withTimeout(background(), DEADLINE_MS);
        return await command(ctx, client, name, ...args);
      });
      assert.ok(r.error instanceof DeadlineExceeded, `got ${String(r.error ?? r.value)}`);
      assert.ok(r.ms >= DEADLINE_MS - 2 && r.ms < LATE_LIMIT_MS, `took ${r.ms} ms`);
      // The client itself is usable at once (not after the 30 s the server was asked to wait),
      // and the server has nothing of ours blocked.
      const ping = await timed(() => run(client, "ping"));
      assert.equal(ping.value, "PONG");
      assert.ok(ping.ms < LATE_LIMIT_MS, `PING took ${ping.ms} ms`);
      assert.deepEqual(await blockedOf(observer, client), []);
    }

    it("BLPOP with a 30 s server timeout under a 100 ms deadline: DeadlineExceeded, nothing blocked", async () => {
      const key = uniqueKey("blpop");
      const seen = await monitored(observer, () => expectDeadline("blpop", key, 30));
      // The server was asked to wait the budget, not 30 s: seconds with decimals, at most 0.1.
      const sent = seen.find((c) => c[0] === "blpop" && c[1] === key);
      assert.ok(sent, `MONITOR saw no BLPOP of ${key}`);
      const timeoutS = Number(sent.at(-1));
      assert.ok(timeoutS > 0.05 && timeoutS <= 0.1, `timeout sent: ${sent.at(-1)}`);
      assert.equal(await run(client, "get", key), null);
    });

    it("XREAD BLOCK 30000 under a 100 ms deadline: DeadlineExceeded, BLOCK cut to the budget", async () => {
      const stream = uniqueKey("xread");
      const seen = await monitored(observer, () =>
        expectDeadline("xread", "COUNT", 1, "BLOCK", 30_000, "STREAMS", stream, "$"),
      );
      const sent = seen.find((c) => c[0] === "xread" && c.includes(stream));
      assert.ok(sent, "MONITOR saw no XREAD");
      const blockMs = Number(sent[sent.findIndex((a) => a.toUpperCase() === "BLOCK") + 1]);
      assert.ok(blockMs > 50 && blockMs <= 100, `BLOCK sent: ${blockMs}`);
    });

    it("XREADGROUP with BLOCK under a deadline is unblocked too", async () => {
      const stream = uniqueKey("xreadgroup");
      await run(client, "xgroup", "CREATE", stream, "workers", "$", "MKSTREAM");
      await expectDeadline(
        "xreadgroup",
        "GROUP",
        "workers",
        "w1",
        "BLOCK",
        0,
        "STREAMS",
        stream,
        ">",
      );
    });

    it("WAIT for a replica that does not exist: DeadlineExceeded, timeout cut to the budget", async () => {
      const seen = await monitored(observer, () => expectDeadline("wait", 1, 30_000));
      const sent = seen.find((c) => c[0] === "wait");
      assert.ok(sent, "MONITOR saw no WAIT");
      assert.ok(Number(sent[2]) > 50 && Number(sent[2]) <= 100, `timeout sent: ${sent[2]}`);
    });

    it("a cancel without a deadline: Canceled at once, the server unblocked, the timeout left as given", async () => {
      const key = uniqueKey("cancel");
      const ctx = withCancel(background());
      let blockedBeforeCancel = 0;
      const seen = await monitored(observer, async () => {
        const pending = timed(() => command(ctx, client, "blpop", key, 0));
        // Wait until the server really has it blocked, then cancel.
        for (let i = 0; i < 200 && blockedBeforeCancel === 0; i++) {
          blockedBeforeCancel = (await blockedOf(observer, client)).length;
        }
        ctx.cancel();
        const r = await pending;
        assert.ok(r.error instanceof Canceled, `got ${String(r.error ?? r.value)}`);
      });
      assert.equal(blockedBeforeCancel, 1, "the BLPOP was blocked on the server before the cancel");
      // With a timeout of 0 only CLIENT UNBLOCK (MONITOR does not show admin commands) or a
      // disconnect could release it, and the connection is still there: not a disconnect.
      const sent = seen.find((c) => c[0] === "blpop" && c[1] === key);
      assert.equal(sent?.at(-1), "0");
      assert.deepEqual(await blockedOf(observer, client), []);
      const dedicated = (await connectionsOf(observer, client)).filter((e) =>
        e.name.endsWith(":timebound-blocking"),
      );
      assert.ok(dedicated.length >= 1, "the dedicated connection is still open");
      assert.equal(blockingPoolStats(client).discarded, 0);
      assert.equal(dependents(ctx), 0);
    });

    it("returns the element when one arrives in time, and null when the caller's own timeout is shorter", async () => {
      const key = uniqueKey("arrives");
      using ctx = withTimeout(background(), 5_000);
      const pending = blpop(ctx, client, key);
      await new Promise((resolve) => setTimeout(resolve, 30));
      await observer.rpush(key, "job-1");
      assert.deepEqual(await pending, [key, "job-1"]);

      await run(client, "rpush", key, "a", "b");
      assert.deepEqual(await brpop(ctx, client, [uniqueKey("empty"), key]), [key, "b"]);

      const short = await timed(() => command(ctx, client, "blpop", uniqueKey("short"), 0.05));
      assert.equal(short.value, null);
      assert.ok(short.ms < 1_000);
      assert.equal(dependents(ctx), 0);
    });

    it("a blocking command holds nothing up on the client: other commands answer meanwhile", async () => {
      const ctx = withCancel(background());
      const blocked = command(ctx, client, "blpop", uniqueKey("held"), 0);
      const ping = await timed(() => command(background(), client, "ping"));
      assert.equal(ping.value, "PONG");
      assert.ok(ping.ms < LATE_LIMIT_MS);
      ctx.cancel();
      await assert.rejects(blocked, Canceled);
    });

    it("an already ended context sends nothing", async () => {
      const ctx = withCancel(background());
      ctx.cancel();
      const before = blockingPoolStats(client).opened;
      await assert.rejects(command(ctx, client, "blpop", uniqueKey("never"), 0), Canceled);
      await assert.rejects(command(ctx, client, "get", uniqueKey("never")), Canceled);
      assert.equal(blockingPoolStats(client).opened, before);
    });
  });
}
