// A hedge that loses but answers anyway (its answer was on the wire when the winner settled)
// must not keep what its answer holds: a Response-like result's body is canceled, as retry does
// with an answer it retries. Without it, a proxy's losing upstream connection stays paused.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { background, sleep, withTimeout } from "../../src/index.js";
import { hedge } from "../../src/resilience/hedge.js";

describe("hedge and late answers", () => {
  it("cancels the body of an answer that arrives after the winner", async () => {
    const policy = hedge({ delayMs: 10, maxHedges: 1 });
    using ctx = withTimeout(background(), 5_000);
    const canceled: number[] = [];
    const answer = (n: number) => ({
      n,
      body: {
        cancel: () => {
          canceled.push(n);
          return Promise.resolve();
        },
      },
    });
    let call = 0;
    const got = await policy.execute(ctx, async () => {
      const n = ++call;
      // The first attempt answers late and ignores its context (its answer is already coming).
      if (n === 1) await sleep(withTimeout(background(), 5_000), 80);
      return answer(n);
    });
    assert.equal(got.n, 2, "the hedge won");
    await sleep(ctx, 150);
    assert.deepEqual(
      canceled,
      [1],
      "the loser's late answer had its body canceled; the winner's did not",
    );
  });
});
