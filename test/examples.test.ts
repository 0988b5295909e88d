// Every example in examples/ runs, and says what the README says it does; and the README shows
// each one exactly as it is in its file, so the README's code is code that runs.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** What each example must print (the verdict a reader of the README expects). */
const EXPECTED: Record<string, RegExp[]> = {
  "core.ts": [
    /^1\. context "lookup" \(timeout 500 ms\) ended \d+ ms before its own deadline: the deadline of ancestor "request" \(timeout 120 ms\) passed/m,
    /^2\. job ended: true, cause: Error: SIGTERM: draining$/m,
    /^3\. group failed: inventory unavailable$/m,
  ],
  "http-service.ts": [
    /^GET \/apple -> 200 \{"sku":"apple","price":42,"stock":7,"views":1\}$/m,
    /^GET \/pear\?slow -> 504 deadline exceeded$/m,
  ],
  "pg.ts": [
    /^stopped: context "report" \(timeout 200 ms\) exceeded its deadline/m,
    /^statements still running on the server: 0$/m,
    /^balances after the transfer: 60, 40$/m,
  ],
  "process.ts": [
    /^exec stopped: context "build" \(timeout 200 ms\) exceeded its deadline/m,
    /^the worker ignored SIGTERM; outcome: killed$/m,
  ],
  "stream.ts": [
    /^export stopped: context "export" \(timeout 150 ms\) exceeded its deadline/m,
    /source destroyed: true, sink destroyed: true$/m,
  ],
  "grpc.ts": [
    /^a 20 ms job: \{"ms":20\}$/m,
    /^a 5 s job: context "caller" \(timeout 100 ms\) exceeded its deadline/m,
    /^the server's handler stopped after \d{2,3} ms$/m,
  ],
  "redis.ts": [
    /^ioredis: context "worker" \(timeout 100 ms\) exceeded its deadline/m,
    /^ioredis: popped \["jobs","job from ioredis"\]$/m,
    /^node-redis: context "worker" \(timeout 100 ms\) exceeded its deadline/m,
    /^node-redis: popped \["jobs","job from node-redis"\]$/m,
    /^clients still blocked on the server: 0$/m,
  ],
  "testing.ts": [/^# pass 2$/m, /^# fail 0$/m],
  "diagnostics.ts": [
    /^\[never-canceled\] 100 contexts "request" \(withCancel, no deadline\) created at leakyHandler/m,
  ],
};

const examples = readdirSync(join(root, "examples")).filter((f) => f.endsWith(".ts"));

describe("examples/", () => {
  it("every example has its expected output listed here", () => {
    assert.deepEqual(examples.sort(), Object.keys(EXPECTED).sort());
  });

  for (const file of examples) {
    it(`${file} runs and prints what it promises`, () => {
      // Without NODE_TEST_CONTEXT, a node:test example reports as a program run by hand (TAP),
      // not in the runner's own protocol.
      const env = { ...process.env };
      delete env.NODE_TEST_CONTEXT;
      const run = spawnSync(process.execPath, ["--import", "tsx", join("examples", file)], {
        cwd: root,
        encoding: "utf8",
        timeout: 60_000,
        env,
      });
      assert.equal(run.status, 0, `${file} failed:\n${run.stdout}\n${run.stderr}`);
      for (const expected of EXPECTED[file] ?? []) {
        assert.match(run.stdout, expected, `${file} printed:\n${run.stdout}`);
      }
    });
  }
});

describe("README.md", () => {
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);

  for (const file of examples) {
    it(`shows examples/${file} as it is`, () => {
      const code = readFileSync(join(root, "examples", file), "utf8");
      assert.ok(
        blocks.includes(code),
        `README.md has no \`\`\`ts block equal to examples/${file}: copy the file into it`,
      );
    });
  }
});
