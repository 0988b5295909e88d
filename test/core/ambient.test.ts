import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as delay } from "node:timers/promises";
import { background, current, run, withCancel } from "../../src/index.js";

describe("run / current", () => {
  it("current() is undefined outside of run()", () => {
    assert.equal(current(), undefined);
  });

  it("binds ctx inside fn and returns fn's result", () => {
    const ctx = withCancel(background());
    const result = run(ctx, () => {
      assert.equal(current(), ctx);
      return 42;
    });
    assert.equal(result, 42);
    assert.equal(current(), undefined, "unbound after run returns");
    ctx.cancel();
  });

  it("keeps ctx bound after an await, in timers and in promise callbacks", async () => {
    const ctx = withCancel(background());
    const seen = await run(ctx, async () => {
      const out: unknown[] = [current()];
      await delay(5);
      out.push(current());
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          out.push(current());
          resolve();
        }, 1),
      );
      out.push(await Promise.resolve().then(() => current()));
      return out;
    });
    assert.deepEqual(seen, [ctx, ctx, ctx, ctx]);
    assert.equal(current(), undefined);
    ctx.cancel();
  });

  it("nested run() binds the inner context and restores the outer one", () => {
    const outer = withCancel(background());
    const inner = withCancel(outer);
    run(outer, () => {
      run(inner, () => assert.equal(current(), inner));
      assert.equal(current(), outer);
    });
    outer.cancel();
  });

  it("concurrent runs are isolated", async () => {
    const a = withCancel(background(), { name: "a" });
    const b = withCancel(background(), { name: "b" });
    const task = (ctx: typeof a, wait: number) =>
      run(ctx, async () => {
        await delay(wait);
        const first = current();
        await delay(wait);
        return [first, current()];
      });
    const [ra, rb] = await Promise.all([task(a, 10), task(b, 3)]);
    assert.deepEqual(ra, [a, a]);
    assert.deepEqual(rb, [b, b]);
    a.cancel();
    b.cancel();
  });

  it("binds any context, including background()", () => {
    run(background(), () => assert.equal(current(), background()));
  });
});
