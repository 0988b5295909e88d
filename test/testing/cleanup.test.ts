// Whatever way a program using startPostgres/startRedis ends, neither server nor data folder is
// left: checked on real processes, in the process table and on disk.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Victim } from "./victim.js";

const victims: Victim[] = [];
after(() => {
  for (const v of victims) {
    v.killAll();
    v.child.kill("SIGKILL");
  }
});

function victim(mode: string): Victim {
  const v = new Victim(mode);
  victims.push(v);
  return v;
}

describe("startPostgres/startRedis leave nothing behind", { timeout: 120_000 }, () => {
  // Each case is a program of its own: they run side by side.
  describe(
    "when the program is ended by a signal (the watchdog cleans up)",
    { concurrency: true },
    () => {
      for (const signal of ["SIGTERM", "SIGINT", "SIGHUP", "SIGKILL"] as const) {
        it(`${signal}: the program still dies of it; servers, their children and folder go`, async () => {
          const v = victim("wait");
          await v.report();
          const before = v.leftovers();
          assert.ok(
            before.length >= 5,
            `servers, watchdog and folder exist at first: ${before.join(", ")}`,
          );
          v.child.kill(signal);
          const { signal: diedOf } = await v.exit();
          assert.equal(diedOf, signal, "no handler kept the program alive");
          const left = await v.leftoversAfter(8000);
          assert.deepEqual(left, [], `left behind after ${signal}: ${left.join(", ")}`);
        });
      }
    },
  );

  describe("when the program exits (cleaned up before it is gone)", { concurrency: true }, () => {
    const cases = [
      { mode: "exit", how: "process.exit(3)", code: 3 },
      { mode: "throw", how: "an uncaught exception", code: 1 },
      {
        mode: "forget",
        how: "a natural end without stop() (the servers do not keep it alive)",
        code: 0,
      },
    ];
    for (const { mode, how, code } of cases) {
      it(how, async () => {
        const v = victim(mode);
        await v.report();
        const exit = await v.exit();
        assert.deepEqual(exit, { code, signal: null }, `exit of the victim (${how})`);
        // No wait: the exit event had the watchdog finish before the process was gone.
        const left = v.leftovers();
        assert.deepEqual(left, [], `left behind at exit: ${left.join(", ")}`);
      });
    }
  });

  it("a program's own SIGTERM handler decides: the servers work in it, its exit cleans up", async () => {
    const v = victim("own-handler");
    await v.report();
    await v.line(1); // its handler is installed
    v.child.kill("SIGTERM");
    assert.deepEqual(
      await v.line(2),
      { handled: true, queried: 1 },
      "PostgreSQL answered in the handler",
    );
    assert.deepEqual(await v.exit(), { code: 0, signal: null }, "the handler's process.exit(0)");
    const left = v.leftovers();
    assert.deepEqual(left, [], `left behind: ${left.join(", ")}`);
  });
});
