import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Redis } from "ioredis";
import {
  type RedisClientLike,
  blockingPoolStats,
  blpop,
  brpop,
  command,
} from "../../../src/io/redis/index.js";
import { KINDS } from "./drivers.js";
import { disconnectAll, newClient, newClientOf, run, uniqueKey } from "./helpers.js";
import { type StormOptions, type StormResult, assertEachOnce, storm } from "./storm.js";

// The storm: BLPOP under random 0-30 ms deadlines with a producer pushing lost 19 of 150
// elements (13%) without onLateReply. Here, with no onLateReply, none may be lost or doubled.
const ELEMENTS = 150;
const CONSUMERS = 4;
const MAX_DEADLINE_MS = 30;
/**
 * Storms run again (fresh keys) until one saw a late reply, so that each test exercises one. A
 * late reply is a race (a reply landing as its deadline passes): a CI run under load once saw
 * none in 4 storms of BLMOVE, so up to 10 (a storm takes about 350 ms).
 */
const MAX_ROUNDS = 10;

type Round = (client: RedisClientLike) => Omit<
  StormOptions,
  "client" | "elements" | "consumers" | "maxDeadlineMs"
> & {
  /** Everything left in Redis at the end, by element name. */
  remaining(): Promise<string[]>;
  /** Checks on what is left beyond the count (an empty processing list, scores...). */
  check?(result: StormResult): Promise<void> | void;
};

for (const kind of KINDS) {
  /** Reads what is left in Redis (through ioredis: the same shapes whatever the kind). */
  let direct: Redis;

  async function stormUntilLate(name: string, round: Round): Promise<void> {
    let lateSeen = 0;
    for (let i = 0; i < MAX_ROUNDS && lateSeen === 0; i++) {
      const client = newClientOf(kind, `storm-${name}`);
      await kind.ready(client);
      const r = round(client);
      const result = await storm({
        ...r,
        client,
        elements: ELEMENTS,
        consumers: CONSUMERS,
        maxDeadlineMs: MAX_DEADLINE_MS,
      });
      const remaining = await r.remaining();
      assertEachOnce([...result.consumed, ...remaining], ELEMENTS, name);
      const failed = result.late.filter((l) => l.outcome !== "restored" && l.outcome !== "kept");
      assert.deepEqual(failed, [], "every late reply's data was put back or kept");
      await r.check?.(result);
      assert.equal(blockingPoolStats(client).discarded, 0, "no connection was discarded");
      lateSeen = result.late.length;
      kind.destroy(client);
    }
    assert.ok(lateSeen > 0, `no late reply in ${MAX_ROUNDS} storms: the test proved nothing`);
  }

  /** Drains a list (the storm has waited for its restores). */
  const drainList = (key: string) => async () => {
    const rest = await direct.lrange(key, 0, -1);
    await direct.del(key);
    return rest;
  };

  describe(`redis (${kind.name}): late pops lose nothing by default (producer/consumer storms)`, () => {
    before(() => {
      direct = newClient("storm-direct");
    });
    after(() => disconnectAll());

    it("BLPOP: each element consumed or back in the list, exactly once", async () => {
      await stormUntilLate("blpop", (client) => {
        const key = uniqueKey("storm-blpop");
        return {
          push: (e) => run(client, "rpush", key, e),
          take: async (ctx) => {
            const popped = await blpop(ctx, client, key);
            return popped === null ? [] : [popped[1]];
          },
          isOurs: (late) => late.args[0] === key,
          remaining: drainList(key),
        };
      });
    });

    it("BRPOP: the same from the other end", async () => {
      await stormUntilLate("brpop", (client) => {
        const key = uniqueKey("storm-brpop");
        return {
          push: (e) => run(client, "lpush", key, e),
          take: async (ctx) => {
            const popped = await brpop(ctx, client, key);
            return popped === null ? [] : [popped[1]];
          },
          isOurs: (late) => late.args[0] === key,
          remaining: drainList(key),
        };
      });
    });

    it("BLMPOP with COUNT 2: both elements of a late pop go back, in order", async () => {
      await stormUntilLate("blmpop", (client) => {
        const key = uniqueKey("storm-blmpop");
        return {
          push: (e) => run(client, "rpush", key, e),
          take: async (ctx) => {
            const reply = (await command(ctx, client, "blmpop", 0, 1, key, "LEFT", "COUNT", 2)) as
              [string, string[]] | null;
            return reply === null ? [] : reply[1];
          },
          isOurs: (late) => late.args[2] === key,
          remaining: drainList(key),
        };
      });
    });

    it("BLMOVE to a processing list: a late move is moved back, the processing list ends empty", async () => {
      await stormUntilLate("blmove", (client) => {
        const [source, processing] = [uniqueKey("storm-blmove"), uniqueKey("storm-processing")];
        return {
          push: (e) => run(client, "rpush", source, e),
          take: async (ctx) => {
            const moved = (await command(
              ctx,
              client,
              "blmove",
              source,
              processing,
              "LEFT",
              "RIGHT",
              0,
            )) as string | null;
            if (moved === null) return [];
            await run(client, "lrem", processing, 1, moved); // done with it
            return [moved];
          },
          isOurs: (late) => late.args[0] === source,
          remaining: drainList(source),
          check: async () => {
            // Without the move back, a late one would sit here with nobody to process it.
            assert.deepEqual(await direct.lrange(processing, 0, -1), []);
          },
        };
      });
    });

    it("BZPOPMIN: a late member is added back with its score", async () => {
      await stormUntilLate("bzpopmin", (client) => {
        const key = uniqueKey("storm-bzpopmin");
        const scores: string[] = [];
        return {
          push: (e, i) => run(client, "zadd", key, i, e),
          take: async (ctx) => {
            const popped = (await command(ctx, client, "bzpopmin", key, 0)) as
              [string, string, string | number] | null;
            if (popped === null) return [];
            scores.push(`${popped[1]}=${popped[2]}`);
            return [popped[1]];
          },
          isOurs: (late) => late.args[0] === key,
          remaining: async () => {
            const flat = await direct.zrange(key, 0, -1, "WITHSCORES");
            const members: string[] = [];
            for (let i = 0; i < flat.length; i += 2) {
              members.push(flat[i]!);
              scores.push(`${flat[i]}=${flat[i + 1]}`);
            }
            await direct.del(key);
            return members;
          },
          check: () => {
            // Element `e<i>` was pushed with score i.
            const wrong = scores.filter((s) => s !== `e${s.split("=")[1]}=${s.split("=")[1]}`);
            assert.deepEqual(wrong, [], "each member kept the score it was pushed with");
          },
        };
      });
    });

    it("BZMPOP MAX COUNT 2: late members are added back with their scores", async () => {
      await stormUntilLate("bzmpop", (client) => {
        const key = uniqueKey("storm-bzmpop");
        return {
          push: (e, i) => run(client, "zadd", key, i, e),
          take: async (ctx) => {
            const popped = (await command(ctx, client, "bzmpop", 0, 1, key, "MAX", "COUNT", 2)) as
              [string, [string, string | number][]] | null;
            return popped === null ? [] : popped[1].map(([member]) => member);
          },
          isOurs: (late) => late.args[2] === key,
          remaining: async () => {
            const flat = await direct.zrange(key, 0, -1, "WITHSCORES");
            const members = flat.filter((_, i) => i % 2 === 0);
            for (let i = 0; i < flat.length; i += 2) {
              assert.equal(flat[i + 1], flat[i]!.slice(1), `score of ${flat[i]}`);
            }
            await direct.del(key);
            return members;
          },
        };
      });
    });

    it("XREADGROUP: a late delivery stays in the group's pending list", async () => {
      await stormUntilLate("xreadgroup", (client) => {
        const [stream, group] = [uniqueKey("storm-stream"), "workers"];
        let created = false;
        return {
          push: async (e) => {
            if (!created) {
              await run(client, "xgroup", "CREATE", stream, group, "$", "MKSTREAM");
              created = true;
            }
            return run(client, "xadd", stream, "*", "e", e);
          },
          take: async (ctx) => {
            if (!created) return [];
            const reply = (await command(
              ctx,
              client,
              "xreadgroup",
              "GROUP",
              group,
              "c1",
              "COUNT",
              1,
              "BLOCK",
              0,
              "STREAMS",
              stream,
              ">",
            )) as StreamsReply | null;
            if (reply === null) return [];
            const entries = firstStreamEntries(reply);
            await run(client, "xack", stream, group, ...entries.map(([id]) => id));
            return entries.map(([, fields]) => fields[1]!);
          },
          isOurs: (late) => late.args.includes(stream),
          remaining: async () => {
            // Pending (delivered, never acknowledged) plus never delivered.
            const pending = (await direct.xpending(stream, group, "-", "+", 1_000)) as [string][];
            const byId = new Map(
              ((await direct.xrange(stream, "-", "+")) as [string, string[]][]).map(([id, f]) => [
                id,
                f[1]!,
              ]),
            );
            const rest = (await direct.xreadgroup(
              "GROUP",
              group,
              "drain",
              "COUNT",
              1_000,
              "STREAMS",
              stream,
              ">",
            )) as [string, [string, string[]][]][] | null;
            return [
              ...pending.map(([id]) => byId.get(id)!),
              ...(rest?.[0]?.[1].map(([, f]) => f[1]!) ?? []),
            ];
          },
          check: async (result) => {
            const pending = await direct.xpending(stream, group, "-", "+", 1_000);
            assert.equal(pending.length, result.late.length, "one pending entry per late delivery");
            assert.ok(
              result.late.every((l) => l.outcome === "kept"),
              "reported as kept",
            );
          },
        };
      });
    });
  });
}

/** What XREAD(GROUP) answers: RESP2 [[stream, entries]...]; RESP3 (node-redis 5) { stream: entries }. */
type StreamsReply = [string, [string, string[]][]][] | Record<string, [string, string[]][]>;

function firstStreamEntries(reply: StreamsReply): [string, string[]][] {
  return Array.isArray(reply) ? reply[0]![1] : Object.values(reply)[0]!;
}
