import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { redisUrl } from "../../services.js";

const ROOT = resolve(import.meta.dirname, "../../..");

/**
 * Runs `body` (an ES module's text) in a fresh Node process with tsx and returns the client
 * libraries it ended up loading, read from the CommonJS module cache (ioredis and node-redis are
 * CommonJS: an import of them lands there too).
 */
async function loadedDrivers(body: string): Promise<string[]> {
  const script = `${body}
import { createRequire } from "node:module";
const cache = Object.keys(createRequire(import.meta.url).cache);
const drivers = new Set();
for (const file of cache) {
  const m = /node_modules\\/((?:@redis\\/)?[^/]+)\\//.exec(file.slice(file.lastIndexOf("node_modules/")));
  if (m && /^(ioredis|redis|redis4|@redis\\/client)$/.test(m[1])) drivers.add(m[1]);
}
console.log(JSON.stringify([...drivers].sort()));
process.exit(0);
`;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--import", "tsx", "--input-type=module", "--eval", script],
    { cwd: ROOT, env: { ...process.env, TIMEBOUND_TEST_REDIS_URL: redisUrl() } },
  );
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as string[];
}

describe("redis: drivers stay optional", () => {
  it("importing timebound/redis loads no client library", async () => {
    const loaded = await loadedDrivers(`await import("./src/io/redis/index.ts");`);
    assert.deepEqual(loaded, []);
  });

  it("a node-redis user's commands, blocking ones included, never load ioredis", async () => {
    const loaded = await loadedDrivers(`
      const { createClient } = await import("redis");
      const { background, withTimeout } = await import("./src/index.ts");
      const { command, blpop } = await import("./src/io/redis/index.ts");
      const client = await createClient({ url: process.env.TIMEBOUND_TEST_REDIS_URL }).connect();
      await command(background(), client, "ping");
      const ctx = withTimeout(background(), 20);
      await blpop(ctx, client, "optional-drivers:" + process.pid).catch(() => {});
      client.destroy();
    `);
    assert.deepEqual(loaded, ["@redis/client", "redis"]);
  });
});
