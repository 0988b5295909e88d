import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Cluster } from "ioredis";
import { createCluster } from "redis";
import {
  Canceled,
  DeadlineExceeded,
  background,
  withCancel,
  withTimeout,
} from "../../../src/index.js";
import {
  type RedisClientLike,
  blockingPoolStats,
  blpop,
  command,
} from "../../../src/io/redis/index.js";
import { keySlot } from "../../../src/io/redis/slot.js";
import {
  type RedisCluster,
  type RedisClusterNode,
  isBlocked,
  redisClients,
  startRedisCluster,
} from "../../../src/testing/index.js";
import { eventually, run, timed } from "./helpers.js";
import { assertEachOnce, storm } from "./storm.js";

const DEADLINE_MS = 100;
const LATE_LIMIT_MS = 300;

let keys = 0;

/** A key (with `what` in it, used by no other test) that a node serving `slots` holds. */
function keyOn(slots: readonly [number, number], what: string): string {
  const unique = `${what}:${process.pid}:${++keys}`;
  for (let i = 0; ; i++) {
    const key = `test:cluster:${unique}:${i}`;
    const slot = keySlot(key);
    if (slot >= slots[0] && slot <= slots[1]) return key;
  }
}

/** A cluster client library, connected to the test cluster, its connections named `name`. */
interface ClusterKind {
  readonly name: string;
  open(nodes: readonly RedisClusterNode[], name: string): Promise<RedisClientLike>;
  close(client: RedisClientLike): void;
}

const CLUSTER_KINDS: readonly ClusterKind[] = [
  {
    name: "ioredis Cluster",
    async open(nodes, name) {
      const client = new Cluster(
        nodes.map(({ host, port }) => ({ host, port })),
        { redisOptions: { connectionName: name } },
      );
      client.on("error", () => {});
      await new Promise((resolve) => client.once("ready", resolve));
      return client;
    },
    close: (client) => (client as Cluster).disconnect(),
  },
  {
    name: "node-redis 5 cluster",
    async open(nodes, name) {
      const client = createCluster({
        rootNodes: nodes.map(({ url }) => ({ url })),
        defaults: { name },
      });
      client.on("error", () => {});
      await client.connect();
      return client;
    },
    close: (client) => (client as unknown as { destroy(): void }).destroy(),
  },
];

/** One cluster for the whole file: starting one takes about 2 s (Redis makes new masters wait). */
let cluster: RedisCluster;
before(async () => {
  cluster = await startRedisCluster({ masters: 3 });
});
after(() => cluster.stop());

for (const kind of CLUSTER_KINDS) {
  describe(`redis (${kind.name}): blocking commands are unblocked on the node that holds them`, () => {
    let client: RedisClientLike;
    const name = `cluster-${kind.name.split(" ")[0]}-${process.pid}`;

    before(async () => {
      client = await kind.open(cluster.nodes, name);
    });
    after(() => {
      kind.close(client);
    });

    /** CLIENT LIST entries of this test's connections on node `i`, blocked or not. */
    async function ours(i: number): Promise<{ name: string; blocked: boolean }[]> {
      return (await redisClients(cluster.nodes[i]!.url))
        .filter((e) => e.name === name || e.name.startsWith(`${name}:`))
        .map((e) => ({ name: e.name, blocked: isBlocked(e) }));
    }

    it("BLPOP on a key of each node under a 100 ms deadline: DeadlineExceeded, nothing left blocked", async () => {
      for (const [i, node] of cluster.nodes.entries()) {
        const key = keyOn(node.slots, `deadline-${i}`);
        const r = await timed(async () => {
          using ctx = withTimeout(background(), DEADLINE_MS);
          return await command(ctx, client, "blpop", key, 30);
        });
        assert.ok(
          r.error instanceof DeadlineExceeded,
          `node ${i}: got ${String(r.error ?? r.value)}`,
        );
        assert.ok(r.ms >= DEADLINE_MS - 2 && r.ms < LATE_LIMIT_MS, `node ${i}: took ${r.ms} ms`);
        // Its dedicated connection and the control connection that unblocked it are on node i.
        const mine = await ours(i);
        assert.ok(
          mine.some((e) => e.name === `${name}:timebound-blocking`),
          `node ${i} holds the blocking connection: ${JSON.stringify(mine)}`,
        );
        // (node-redis writes the CLIENT UNBLOCK on the next turn of the event loop.)
        assert.ok(
          await eventually(async () => (await ours(i)).every((e) => !e.blocked), LATE_LIMIT_MS),
          `node ${i}: nothing of ours blocked`,
        );
        // The next command works, on that key's node.
        await run(client, "rpush", key, "next");
        using next = withTimeout(background(), 2_000);
        assert.deepEqual(await blpop(next, client, key), [key, "next"]);
      }
      assert.equal(blockingPoolStats(client).discarded, 0);
    });

    it("BLPOPs blocked on three nodes at once, canceled together: each node unblocks its own", async () => {
      const ctx = withCancel(background());
      const keys = cluster.nodes.map((node, i) => keyOn(node.slots, `cancel-${i}`));
      const pending = keys.map((key) => command(ctx, client, "blpop", key, 0));
      const blockedEverywhere = await eventually(async () => {
        const lists = await Promise.all(cluster.nodes.map((_, i) => ours(i)));
        return lists.every((list) => list.filter((e) => e.blocked).length === 1);
      });
      assert.ok(blockedEverywhere, "each node had one BLPOP of ours blocked");
      ctx.cancel();
      for (const p of pending) await assert.rejects(p, Canceled);
      // With a timeout of 0 only CLIENT UNBLOCK on the right node (or a disconnect) releases them,
      // and no connection was discarded: it was CLIENT UNBLOCK.
      for (let i = 0; i < cluster.nodes.length; i++) {
        assert.ok(
          await eventually(async () => (await ours(i)).every((e) => !e.blocked)),
          `node ${i}: unblocked`,
        );
      }
      assert.ok(
        await eventually(() => blockingPoolStats(client).busy === 0),
        "every connection back",
      );
      assert.equal(blockingPoolStats(client).discarded, 0);
      assert.equal(await run(client, "set", keys[0]!, "works"), "OK");
    });

    it("commands that do not block go through the Cluster; one canceled as it is sent loses nothing", async () => {
      const key = keyOn(cluster.nodes[2]!.slots, "plain");
      using ctx = withTimeout(background(), 2_000);
      assert.equal(await command(ctx, client, "set", key, "v"), "OK");
      assert.equal(await command(ctx, client, "get", key), "v");
      const list = keyOn(cluster.nodes[1]!.slots, "lpop");
      for (let i = 0; i < 5; i++) {
        await run(client, "rpush", list, `e${i}`);
        const canceled = withCancel(background());
        const pending = command(canceled, client, "lpop", list);
        canceled.cancel();
        await assert.rejects(pending, Canceled);
      }
      assert.ok(
        await eventually(async () => (await run(client, "llen", list)) === 5),
        "every element is still there",
      );
    });

    it("a storm of BLPOPs with short deadlines on one node's list loses nothing", async () => {
      const key = keyOn(cluster.nodes[1]!.slots, "storm");
      const result = await storm({
        client: client,
        elements: 80,
        consumers: 3,
        maxDeadlineMs: 30,
        push: (e) => run(client, "rpush", key, e),
        take: async (ctx) => {
          const popped = await blpop(ctx, client, key);
          return popped === null ? [] : [popped[1]];
        },
        isOurs: (late) => late.args[0] === key,
      });
      const left = (await run(client, "lrange", key, 0, -1)) as string[];
      assertEachOnce([...result.consumed, ...left], 80, "cluster storm");
      const failed = result.late.filter((l) => l.outcome !== "restored");
      assert.deepEqual(failed, [], "every late pop was put back");
      assert.equal(blockingPoolStats(client).discarded, 0);
    });
  });
}

describe("redis (ioredis Cluster): a blocking command given to a cluster still connecting", () => {
  it("waits for it to be ready, or stops waiting (and listening) when its context ends", async () => {
    const client = new Cluster(cluster.nodes.map(({ host, port }) => ({ host, port })));
    client.on("error", () => {});
    try {
      const listening = client.listenerCount("ready");
      const early = withCancel(background());
      const given = command(early, client, "blpop", "connecting", 0);
      assert.equal(client.listenerCount("ready"), listening + 1, "waiting for the cluster");
      early.cancel();
      await assert.rejects(given, Canceled);
      assert.equal(client.listenerCount("ready"), listening, "no listener left behind");

      assert.notEqual(client.status, "ready", "still connecting");
      const key = keyOn(cluster.nodes[0]!.slots, "connecting");
      const pending = command(withTimeout(background(), 5_000), client, "blpop", key, 0);
      await run(client, "rpush", key, "x");
      assert.deepEqual(await pending, [key, "x"]);
    } finally {
      client.disconnect();
    }
  });
});
