// startRedisCluster's options and handle, and redisClients/isBlocked: what the server says about
// its connections, read without a client library.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { Redis } from "ioredis";
import { isProcessRunning } from "../../src/testing/proc-stat.js";
import { isBlocked, redisClients, startRedis, startRedisCluster } from "../../src/testing/index.js";

describe("redisClients", { timeout: 60_000 }, () => {
  it("lists the server's connections, a blocked one flagged as blocked", async () => {
    await using server = await startRedis();
    const blocker = new Redis(server.url);
    const control = new Redis(server.url);
    try {
      await blocker.client("SETNAME", "blocker");
      const pop = blocker.blpop("never", 0).catch(() => undefined);
      let entry;
      for (let i = 0; i < 200 && entry === undefined; i++) {
        entry = (await redisClients(server.url)).find((e) => e.name === "blocker" && isBlocked(e));
      }
      assert.ok(entry !== undefined, "the BLPOP connection is listed as blocked");
      assert.equal(entry.cmd, "blpop");
      assert.ok(Number.isInteger(entry.id) && entry.id > 0, `id ${entry.id}`);
      await control.call("CLIENT", "UNBLOCK", String(entry.id)); // the pop resolves with null
      await pop;
      const after = await redisClients(server.url);
      assert.ok(!after.some(isBlocked), "nothing blocked once unblocked");
      // Its own connection shows up, running CLIENT LIST.
      assert.ok(
        after.some((e) => e.cmd === "client|list"),
        "its own connection is listed",
      );
    } finally {
      blocker.disconnect();
      control.disconnect();
    }
  });

  it("rejects a bad url with an error naming it", async () => {
    for (const [url, expected] of [
      [7, /^TypeError: redisClients: url must be a non-empty string, got 7$/],
      [
        "http://127.0.0.1:6379",
        /^TypeError: redisClients: url must be a redis:\/\/host:port URL, got "http/,
      ],
    ] as const) {
      await assert.rejects(redisClients(url as string), (err: Error) => {
        assert.match(String(err), expected);
        assert.equal((err as { code?: unknown }).code, "TIMEBOUND_ERR_INVALID_ARGUMENT");
        return true;
      });
    }
  });
});

describe("startRedisCluster", { timeout: 120_000 }, () => {
  it("takes { masters }, and await using stops every node", async () => {
    let pids: number[];
    {
      await using cluster = await startRedisCluster({ masters: 1 });
      assert.equal(cluster.nodes.length, 1);
      assert.deepEqual(cluster.nodes[0]!.slots, [0, 16_383]);
      const clients = await redisClients(cluster.nodes[0]!.url);
      assert.ok(clients.length >= 1, "the node answers CLIENT LIST");
      pids = await nodePids(cluster.nodes[0]!.url);
    }
    for (const pid of pids) assert.ok(!isProcessRunning(pid), `node ${pid} stopped`);
  });

  it("bad options reject (never throw); the old number form still works the same", async () => {
    const cases: [() => Promise<unknown>, RegExp, string][] = [
      [
        () => startRedisCluster({ masters: 0 }),
        /^RangeError: startRedisCluster: options\.masters must be an integer from 1 to 16, got 0$/,
        "TIMEBOUND_ERR_INVALID_ARGUMENT",
      ],
      [
        () => startRedisCluster(17),
        /^RangeError: startRedisCluster: masters must be an integer from 1 to 16, got 17$/,
        "TIMEBOUND_ERR_INVALID_ARGUMENT",
      ],
      [
        () => startRedisCluster({ master: 3 } as never),
        /^TypeError: startRedisCluster: unknown option options\.master \(known: masters\)$/,
        "TIMEBOUND_ERR_UNKNOWN_OPTION",
      ],
      [
        () => startRedisCluster("3" as never),
        /^TypeError: startRedisCluster: options must be an object, got "3"$/,
        "TIMEBOUND_ERR_INVALID_ARGUMENT",
      ],
    ];
    for (const [call, expected, code] of cases) {
      const promise = call(); // a synchronous throw fails the test here
      await assert.rejects(promise, (err: Error) => {
        assert.match(String(err), expected);
        assert.equal((err as { code?: unknown }).code, code);
        return true;
      });
    }
  });
});

/** The pid of the node at `url`, as it says itself. */
async function nodePids(url: string): Promise<number[]> {
  const client = new Redis(url);
  try {
    const info = await client.info("server");
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    assert.ok(existsSync(`/proc/${pid}`), `node ${pid} runs`);
    return [pid];
  } finally {
    client.disconnect();
  }
}
