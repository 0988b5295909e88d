// Redis commands under a deadline, with ioredis or node-redis: a blocking pop is released on the
// server (CLIENT UNBLOCK), and an element popped just as the caller gave up is put back, not lost.
// Run: `node --import tsx examples/redis.ts`.
import { Redis } from "ioredis";
import { createClient } from "redis";
import { DeadlineExceeded, background, withTimeout } from "timebound";
import { blpop, command } from "timebound/redis";
import { startRedis } from "timebound/testing";

await using server = await startRedis();
const ioredis = new Redis(server.url);
const nodeRedis = await createClient({ url: server.url }).connect();

for (const [name, client] of [
  ["ioredis", ioredis],
  ["node-redis", nodeRedis],
] as const) {
  try {
    using ctx = withTimeout(background(), 100, { name: "worker" });
    await blpop(ctx, client, "jobs"); // nothing to pop: blocks until the deadline
  } catch (err) {
    if (err instanceof DeadlineExceeded) console.log(`${name}: ${err.message}`);
  }
  using ctx = withTimeout(background(), 1_000, { name: "producer" });
  await command(ctx, client, "rpush", "jobs", `job from ${name}`);
  const popped = await blpop(ctx, client, "jobs");
  console.log(`${name}: popped ${JSON.stringify(popped)}`);
}
const blocked = String(await ioredis.client("LIST")).match(/flags=\w*b/g) ?? [];
console.log(`clients still blocked on the server: ${blocked.length}`);
ioredis.disconnect();
await nodeRedis.quit();
