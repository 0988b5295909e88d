import { RuleTester } from "eslint";
import tseslint from "typescript-eslint";
import { noRaceTimeout } from "../src/rules/no-race-timeout.js";
import { asEslintRule } from "./rule-tester.js";

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
        code: `import { setTimeout as nodeSetTimeout } from "node:timers";
await Promise.race([work, new Promise((resolve) => { nodeSetTimeout(resolve, 500); })]);`,
        errors: [{ messageId: "raceTimeout" }],
      },
    ],
  },
);
