import { RuleTester } from "eslint";
import tseslint from "typescript-eslint";
import { noRaceTimeout } from "../src/rules/no-race-timeout.js";
import { CASE_FILE, asEslintRule, typedRuleTester } from "./rule-tester.js";

// An untyped rule: plain parsing is enough.
new RuleTester({ languageOptions: { parser: tseslint.parser } }).run(
  "no-race-timeout",
  asEslintRule(noRaceTimeout),
  {
    valid: [
      `await Promise.race([a, b]);`,
      `await Promise.all([work, new Promise((r) => setTimeout(r, 10))]);`,
      // A race of work against work (first answer wins) is not a timeout.
      `await Promise.race(replicas.map((r) => r.get(key)));`,
      `await Promise.race([primary.get(key), secondary.get(key)]);`,
      // A local Promise class is not the global one.
      `const Promise = { race: (x) => x }; Promise.race([work, delay(10)]);`,
      // Self-lint (packages/gateway/src/gateway.ts, close): a grace period, after which the
      // work is stopped.
      `async function close(all, drainMs, root, clusters) {
        let timer;
        const inTime = await Promise.race([
          all.then(() => true),
          new Promise((resolve) => { timer = setTimeout(resolve, drainMs, false); }),
        ]);
        clearTimeout(timer);
        root.cancel();
        if (!inTime) await Promise.all(clusters.map((c) => c.destroy()));
        return inTime;
      }`,
      // The timer stops the work itself.
      `async function get(url, ms) {
        const controller = new AbortController();
        const giveUp = new Promise((_, reject) => setTimeout(() => { controller.abort(); reject(new Error("slow")); }, ms));
        return Promise.race([fetch(url, { signal: controller.signal }), giveUp]);
      }`,
      `async function get(url, ms) {
        const controller = new AbortController();
        try { return await Promise.race([fetch(url, { signal: controller.signal }), delay(ms)]); }
        finally { controller.abort(); }
      }`,
    ],
    invalid: [
      // The lab's raceTimer (http-fetch, pg-query, redis-blocking, grpc-deadline wrong variants).
      {
        code: `async function raceTimer(work, ms) {
  let timer;
  const giveUp = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error("timed out")), ms);
  });
  try {
    return await Promise.race([work, giveUp]);
  } finally {
    clearTimeout(timer);
  }
}`,
        errors: [{ messageId: "raceTimeout", line: 7 }],
      },
      {
        code: `const rows = await Promise.race([pool.query(sql), new Promise((_, reject) => setTimeout(reject, 500))]);`,
        errors: [{ messageId: "raceTimeout" }],
      },
      {
        code: `import { setTimeout as wait } from "node:timers/promises";
const res = await Promise.race([fetch(url), wait(500).then(() => { throw new Error("slow"); })]);`,
        errors: [{ messageId: "raceTimeout" }],
      },
      {
        code: `await Promise.race([redis.blpop("q", 0), timeout(500)]);`,
        errors: [{ messageId: "raceTimeout" }],
      },
      {
        code: `await Promise.race([work, delay(500)]);`,
        errors: [{ messageId: "raceTimeout" }],
      },
      {
        // A stop before the race, or in another function, stops nothing the race started.
        code: `async function f(previous, work) { previous.cancel(); await Promise.race([work, delay(5)]); }
function g(c) { c.abort(); }`,
        errors: [{ messageId: "raceTimeout" }],
      },
      {
        code: `import { setTimeout as nodeSetTimeout } from "node:timers";
await Promise.race([work, new Promise((resolve) => { nodeSetTimeout(resolve, 500); })]);`,
        errors: [{ messageId: "raceTimeout" }],
      },
    ],
  },
);

const IMPORTS = `import { type Context, sleep } from "timebound";\n`;

// With type information: a timer bound to a context.
typedRuleTester().run("no-race-timeout with type information", asEslintRule(noRaceTimeout), {
  valid: [
    // Self-lint (src/io/redis/unblock.ts): a pause until a reply arrives or a context-bound
    // sleep ends, whose outcome nobody reads.
    {
      code: `${IMPORTS}export async function f(limit: Context, reply: Promise<void>, arrived: () => boolean) {
  while (!arrived()) await Promise.race([reply, sleep(limit, 4)]);
}`,
      filename: CASE_FILE,
    },
  ],
  invalid: [
    {
      // Its result read: a timeout, and the other racer runs on.
      code: `${IMPORTS}export async function f(ctx: Context, work: Promise<string>) {
  const first = await Promise.race([work, sleep(ctx, 4).then(() => "late")]);
  return first;
}`,
      filename: CASE_FILE,
      errors: [{ messageId: "raceTimeout", line: 3 }],
    },
    {
      // A pause against a timer no context ends.
      code: `${IMPORTS}declare function delay(ms: number): Promise<void>;
export async function f(ctx: Context, reply: Promise<void>) {
  await Promise.race([reply, delay(4)]);
  return ctx.err;
}`,
      filename: CASE_FILE,
      errors: [{ messageId: "raceTimeout", line: 4 }],
    },
  ],
});
