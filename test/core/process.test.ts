import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time from spawn to exit, in ms. */
  readonly elapsedMs: number;
  /** Wall time from the first "done" on stdout to exit, in ms (NaN if none). */
  readonly afterDoneMs: number;
}

/** Runs an ES module snippet (importing "./src/index.js") in a fresh Node with tsx. */
function runNode(code: string, killAfterMs = 30_000): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let doneAt = NaN;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      if (Number.isNaN(doneAt) && stdout.includes("done")) doneAt = performance.now();
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.on("error", reject);
    child.on("close", (exitCode) => {
      clearTimeout(killer);
      const end = performance.now();
      resolve({
        code: exitCode,
        stdout,
        stderr,
        elapsedMs: end - start,
        afterDoneMs: end - doneAt,
      });
    });
  });
}

describe("process lifetime (Node timers)", () => {
  it("a pending withTimeout does not keep the process alive (timers are unref'd)", async () => {
    const out = await runNode(`
      import { background, withTimeout, withCancel } from "./src/index.js";
      const ctx = withTimeout(background(), 60000);
      withTimeout(withCancel(ctx), 30000);
      console.log("created", ctx.err === undefined);
    `);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /created true/);
    assert.ok(out.elapsedMs < 20_000, `exited after ${Math.round(out.elapsedMs)} ms`);
  });

  it("awaiting ctx.done of a timeout context keeps the process alive until the deadline", async () => {
    const out = await runNode(`
      import { background, withTimeout, now, DeadlineExceeded } from "./src/index.js";
      const start = now();
      const ctx = withTimeout(background(), 300);
      await ctx.done;
      console.log("done", Math.round(now() - start), ctx.err instanceof DeadlineExceeded);
    `);
    assert.equal(out.code, 0, out.stderr);
    const m = /done (\d+) (true|false)/.exec(out.stdout);
    assert.ok(m, out.stdout + out.stderr);
    assert.ok(Number(m[1]) >= 299, `done after ${m[1]} ms`);
    assert.equal(m[2], "true");
  });

  it("awaiting done of a child whose parent's deadline is earlier keeps the process alive", async () => {
    const out = await runNode(`
      import { background, withTimeout, withValue, createKey, now } from "./src/index.js";
      const start = now();
      const parent = withTimeout(background(), 300);
      const child = withValue(withTimeout(parent, 60000), createKey("k"), 1);
      await child.done;
      console.log("done", Math.round(now() - start));
    `);
    assert.equal(out.code, 0, out.stderr);
    const m = /done (\d+)/.exec(out.stdout);
    assert.ok(m, out.stdout + out.stderr);
    assert.ok(Number(m[1]) >= 299, `done after ${m[1]} ms`);
  });

  it("reading done and then canceling lets the process exit at once", async () => {
    const out = await runNode(`
      import { background, withTimeout } from "./src/index.js";
      const ctx = withTimeout(background(), 60000);
      void ctx.done;
      ctx.cancel();
      console.log("done");
    `);
    assert.equal(out.code, 0, out.stderr);
    assert.ok(out.elapsedMs < 20_000, `exited after ${Math.round(out.elapsedMs)} ms`);
  });

  it("after a child's done resolves, the parent's pending timer no longer keeps the process alive", async () => {
    const out = await runNode(`
        import { background, withTimeout } from "./src/index.js";
        const parent = withTimeout(background(), 4000);
        const child = withTimeout(parent, 100);
        await child.done;
        console.log("done");
      `);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /done/);
    assert.ok(
      out.afterDoneMs < 2_000,
      `process lingered ${Math.round(out.afterDoneMs)} ms after done (parent deadline 4000 ms)`,
    );
  });

  it("deadlines of the same delay share a timer, and one that is waited for holds the process only while it is armed", async () => {
    const out = await runNode(`
        import { background, withTimeout } from "./src/index.js";
        const waited = withTimeout(background(), 4000);
        const others = Array.from({ length: 3 }, () => withTimeout(background(), 4000));
        setTimeout(() => waited.cancel(), 100);
        await waited.done;
        console.log("done", others.filter((c) => c.err === undefined).length);
      `);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /done 3/);
    assert.ok(
      out.afterDoneMs < 2_000,
      `process lingered ${Math.round(out.afterDoneMs)} ms after done (the others' deadline 4000 ms)`,
    );
  });

  it("a sleep holds the process open until it ends, and no longer once its context ends it", async () => {
    const slept = await runNode(`
        import { background, sleep } from "./src/index.js";
        await Promise.all([sleep(background(), 300), sleep(background(), 300)]);
        console.log("slept");
      `);
    assert.equal(slept.code, 0, slept.stderr);
    assert.match(slept.stdout, /slept/, "the process exited before the sleeps ended");
    const canceled = await runNode(`
        import { background, sleep, withCancel } from "./src/index.js";
        const ctx = withCancel(background());
        const others = withCancel(background());
        void sleep(others, 60_000).catch(() => {});
        setTimeout(() => ctx.cancel(), 100);
        await sleep(ctx, 60_000).catch(() => console.log("done"));
        // "others" still sleeps, on the same delay's timer: it alone holds the process now.
        setTimeout(() => others.cancel(), 100);
      `);
    assert.equal(canceled.code, 0, canceled.stderr);
    assert.match(canceled.stdout, /done/);
    assert.ok(
      canceled.afterDoneMs < 2_000,
      `process lingered ${Math.round(canceled.afterDoneMs)} ms after the sleeps were canceled`,
    );
  });
});
