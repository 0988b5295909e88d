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
import { dependents } from "../../../src/core/context.js";
import { abandonedCount } from "../../../src/io/redis/ioredis/abandoned.js";
import {
  type LateReply,
  command,
  commandBuffer,
  configureRedis,
} from "../../../src/io/redis/index.js";
import { freePort } from "../../../src/testing/index.js";
import { redisUrl } from "../../services.js";
import { disconnectAll, eventually, newClient, timed, uniqueKey } from "./helpers.js";
import { TcpProxy } from "./proxy.js";

const redisPort = (): number => Number(new URL(redisUrl()).port);

/** Resolves once `client` is ready (connected, handshake done). */
function ready(client: Redis): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  return new Promise((resolve) => client.once("ready", () => resolve()));
}

describe("redis: commands on the client", () => {
  let direct: Redis;
  const proxies: TcpProxy[] = [];

  /** A proxy on a free port in front of the test Redis, listening unless told not to. */
  async function proxy(listen = true): Promise<TcpProxy> {
    const p = new TcpProxy(await freePort(), redisPort());
    proxies.push(p);
    if (listen) await p.listen();
    return p;
  }

  /** A client through `p`, retrying fast when the proxy is down. */
  function through(p: TcpProxy): Redis {
    return newClient("on-client", {
      port: p.port,
      retryStrategy: () => 10,
      maxRetriesPerRequest: null,
    });
  }

  before(() => {
    direct = newClient("on-client-direct");
  });
  after(async () => {
    disconnectAll();
    await Promise.all(proxies.map((p) => p.close()));
  });

  it("returns the reply under a live context, as strings or as Buffers", async () => {
    const key = uniqueKey("plain");
    using ctx = withTimeout(background(), 5_000);
    assert.equal(await command(ctx, direct, "set", key, "value", "PX", 60_000), "OK");
    assert.equal(await command(ctx, direct, "get", key), "value");
    assert.deepEqual(await commandBuffer(ctx, direct, "get", key), Buffer.from("value"));
    assert.deepEqual(await command(ctx, direct, "mget", key, uniqueKey("none")), ["value", null]);
    await assert.rejects(command(ctx, direct, "incr", key), /not an integer/);
    assert.equal(dependents(ctx), 0);
  });

  it("a command queued while the client is offline is withdrawn on cancel and never runs", async () => {
    const p = await proxy(false); // nothing listens yet: ioredis queues commands
    const client = through(p);
    const key = uniqueKey("offline");
    const ctx = withCancel(background());
    const pending = command(ctx, client, "set", key, "must-not-happen");
    assert.notEqual(client.status, "ready");
    ctx.cancel();
    await assert.rejects(pending, Canceled);

    await p.listen();
    await ready(client);
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
    await ready(client);
    assert.equal(await client.ping(), "PONG");
    assert.equal(await direct.get(key), null);
  });

  it("a written command: the caller is released at once, and the late reply does not shift the next", async () => {
    const late: LateReply[] = [];
    const p = await proxy();
    const client = through(p);
    configureRedis(client, { onLateReply: (l) => late.push(l) });
    await ready(client);
    const [k1, k2] = [uniqueKey("first"), uniqueKey("second")];
    await direct.mset(k1, "v1", k2, "v2");

    p.pause(); // written to the socket, held in the network
    const ctx = withCancel(background());
    const first = command(ctx, client, "get", k1);
    const second = client.get(k2);
    ctx.cancel();
    const r = await timed(() => first);
    assert.ok(r.error instanceof Canceled);
    assert.ok(r.ms < 20, `released after ${r.ms} ms`);

    p.resume();
    // The reply to the abandoned GET arrives first and is dropped; the next caller gets its own.
    assert.equal(await second, "v2");
    assert.equal(await client.get(k1), "v1");
    assert.ok(await eventually(() => late.length === 1));
    assert.deepEqual(late, [{ command: "get", args: [k1], reply: "v1", outcome: "none" }]);
    assert.equal(abandonedCount(client), 0);
  });

  it("a written command whose connection breaks is not sent again after the reconnect", async () => {
    const p = await proxy();
    const client = through(p);
    await ready(client);
    const [ours, plain] = [uniqueKey("abandoned"), uniqueKey("plain-resent")];

    p.pause();
    const ctx = withCancel(background());
    const pending = command(ctx, client, "set", ours, "must-not-happen");
    // The control: a plain ioredis command in the same spot IS sent again after the reconnect.
    const control = client.set(plain, "resent");
    ctx.cancel();
    await assert.rejects(pending, Canceled);
    assert.equal(abandonedCount(client), 1);

    p.cutAll(); // held bytes are lost: the server saw neither SET
    p.resume();
    assert.equal(await control, "OK");
    assert.equal(await direct.get(plain), "resent", "ioredis resends unanswered commands");
    assert.equal(await direct.get(ours), null, "the canceled SET was not resent");
    assert.equal(abandonedCount(client), 0);
  });
});
