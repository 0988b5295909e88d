import { dependents } from "../../../src/core/introspect.js";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { setTimeout as delay } from "node:timers/promises";
import { describe, it } from "node:test";
import {
  Canceled,
  DeadlineExceeded,
  background,
  withCancel,
  withTimeout,
} from "../../../src/index.js";
import { type ContextProcess, execFile, spawn } from "../../../src/io/process/index.js";
import {
  assertReleasedInTime,
  markerMaker,
  groupMembers,
  isPidRunning,
  waitFor,
} from "./helpers.js";

const marker = markerMaker();

/** Awaits `exited`, expecting it to reject in time; returns the error. */
async function rejection(p: ContextProcess, deadline: number | undefined) {
  const err = await p.exited.then(
    () => assert.fail("exited resolved: the process was not stopped"),
    (e: unknown) => e,
  );
  assertReleasedInTime(err, deadline);
  return err;
}

/** Reads the pids a command prints with `echo $!`, one per line, until `count` are read. */
async function printedPids(p: ContextProcess, count: number): Promise<number[]> {
  const stdout = p.child.stdout;
  assert.ok(stdout, "stdout is a pipe");
  let text = "";
  for await (const chunk of stdout) {
    text += String(chunk);
    const pids = text.split("\n").filter((l) => /^\d+$/.test(l));
    if (pids.length >= count) return pids.map(Number);
  }
  assert.fail(`the command printed ${JSON.stringify(text)}, not ${count} pids`);
}

describe("spawn: the whole process group stops when the context ends", { timeout: 20_000 }, () => {
  it('sh -c "sleep 30 & sleep 30" under a 200 ms deadline: DeadlineExceeded in time, nothing left', async () => {
    const m = marker();
    const ctx = withTimeout(background(), 200);
    const p = spawn(ctx, "sh", ["-c", "sleep 30 & echo $!; sleep 30 & echo $!; wait"], {
      env: m.env,
    });
    const pgid = p.child.pid!;
    const sleeps = await printedPids(p, 2);
    assert.equal(groupMembers(pgid).length, 3, "sh and both sleeps run in the child's own group");
    assert.equal(dependents(ctx), 1, "linked to its context while it runs");

    const err = await rejection(p, ctx.deadline);
    assert.ok(err instanceof DeadlineExceeded, `got ${String(err)}`);
    assert.equal(err, ctx.err);
    const stop = await p.stopped;
    assert.equal(stop.outcome, "terminated", "SIGTERM was enough");
    // Read from /proc, not kill(-pgid, 0): the sleeps, orphaned, stay zombies in the group until
    // PID 1 reaps them, which in a container may take seconds. They run no more.
    assert.deepEqual(groupMembers(pgid), [], "no process of the group runs");
    for (const pid of sleeps) assert.equal(isPidRunning(pid), false, `sleep ${pid} is gone`);
    assert.deepEqual(m.running(), []);
    assert.equal(dependents(ctx), 0);
  });

  it("shell: true with a command string: the commands of the shell go too", async () => {
    const m = marker();
    const parent = withCancel(background());
    const ctx = withTimeout(parent, 200);
    const p = spawn(ctx, "sleep 30 & sleep 30", [], { shell: true, stdio: "ignore", env: m.env });
    assert.ok(await waitFor(() => m.running().length === 3, 2000), "sh and two sleeps started");

    const err = await rejection(p, ctx.deadline);
    assert.ok(err instanceof DeadlineExceeded, `got ${String(err)}`);
    assert.equal((await p.stopped).outcome, "terminated");
    assert.deepEqual(m.running(), []);
    assert.equal(dependents(parent), 0, "nothing left under the parent either");
    parent.cancel();
  });

  it("a grandchild that ignores SIGTERM gets SIGKILL once the grace period is over", async () => {
    const graceMs = 1000;
    const m = marker();
    const ctx = withTimeout(background(), 200);
    const p = spawn(ctx, "sh", ["-c", `trap "" TERM; sleep 30 & echo $!; wait`], {
      graceMs,
      env: m.env,
    });
    const [sleep] = await printedPids(p, 1);
    const pgid = p.child.pid!;

    const err = await rejection(p, ctx.deadline);
    assert.ok(err instanceof DeadlineExceeded, `got ${String(err)}`);
    await delay(100);
    assert.ok(isPidRunning(sleep!), "SIGTERM was ignored, and SIGKILL is not sent early");
    assert.equal(groupMembers(pgid).length, 2, "sh and the sleep are both still there");

    const stop = await p.stopped;
    assert.equal(stop.outcome, "killed");
    assert.ok(
      stop.afterMs! >= graceMs,
      `gone ${stop.afterMs} ms after SIGTERM: not before the grace`,
    );
    assert.ok(stop.afterMs! < graceMs + 500, `gone ${stop.afterMs} ms after SIGTERM`);
    assert.deepEqual(groupMembers(pgid), []);
    assert.deepEqual(m.running(), []);
  });

  it("closes this side of the child's stdio, even while a process that left the group holds it", async () => {
    const m = marker();
    const ctx = withCancel(background());
    // setsid: the sleep leaves the group (out of reach, as documented) with the pipes open.
    const p = spawn(ctx, "sh", ["-c", "setsid sleep 30 & echo $!; wait"], { env: m.env });
    const [line] = (await once(p.child.stdout!, "data")) as [Buffer];
    const escapee = Number(String(line).trim());
    assert.ok(
      await waitFor(() => groupMembers(escapee).length === 1, 2000),
      "the sleep leads a group of its own",
    );
    ctx.cancel();
    await assert.rejects(p.exited, Canceled);
    assert.equal((await p.stopped).outcome, "terminated");
    assert.ok(isPidRunning(escapee), "the escaped sleep still runs and holds the pipes");
    for (const [fd, stream] of p.child.stdio.entries()) {
      assert.equal(stream?.destroyed, true, `stdio ${fd} is closed: nobody reading it hangs`);
    }
    m.killAll();
  });

  it("kills a group still in its grace period when this process exits", async () => {
    const m = marker();
    const fixture = new URL("./fixtures/exit-during-grace.ts", import.meta.url).pathname;
    const run = await execFile(background(), process.execPath, ["--import", "tsx", fixture], {
      env: m.env,
    });
    assert.equal(run.code, 0, run.stderr);
    const sleep = Number(run.stdout.trim());
    assert.ok(sleep > 0, `the fixture printed ${JSON.stringify(run.stdout)}`);
    assert.ok(
      await waitFor(() => !isPidRunning(sleep), 1000),
      "the TERM-ignoring sleep got SIGKILL when its parent exited, not 60 s later",
    );
    assert.deepEqual(m.running(), []);
  });

  it("sends killSignal first when given one", async () => {
    const ctx = withCancel(background());
    const p = spawn(ctx, "sleep", ["30"], { killSignal: "SIGINT", stdio: "ignore" });
    const exit = once(p.child, "exit");
    await once(p.child, "spawn");
    ctx.cancel();
    await assert.rejects(p.exited, Canceled);
    assert.deepEqual(await exit, [null, "SIGINT"]);
    assert.equal((await p.stopped).outcome, "terminated");
  });
});

describe(
  "spawn: a deadline that passes while the child is being started",
  { timeout: 20_000 },
  () => {
    it("still stops the child: stopped resolves and nothing is left", async () => {
      const m = marker();
      for (let attempt = 0; attempt < 5; attempt++) {
        const ctx = withTimeout(background(), 20);
        // Busy until the deadline is 1 ms away: it comes due during the spawn (several ms here).
        while (ctx.remaining() > 1);
        let p: ContextProcess;
        try {
          p = spawn(ctx, "sleep", ["30"], { env: m.env, stdio: "ignore" });
        } catch (err) {
          assert.equal(err, ctx.err, "the deadline was seen before anything started");
          continue;
        }
        await assert.rejects(p.exited, DeadlineExceeded);
        const stop = await Promise.race([p.stopped, delay(3000).then(() => undefined)]);
        assert.equal(stop?.outcome, "terminated", "the child was stopped, not left running");
      }
      assert.deepEqual(m.running(), []);
    });
  },
);

describe("spawn: a child that ends by itself", { timeout: 20_000 }, () => {
  it("resolves with its exit and unlinks from the context", async () => {
    const ctx = withTimeout(background(), 10_000);
    const p = spawn(ctx, "sh", ["-c", "exit 3"]);
    assert.deepEqual(await p.exited, { code: 3, signal: null });
    assert.equal(dependents(ctx), 0);
    assert.equal(ctx.err, undefined);
    assert.deepEqual(await p.stopped, { outcome: "exited", afterMs: undefined });
    ctx.cancel();
  });

  it("stays bound while a grandchild holds its stdout open; the deadline still stops it", async () => {
    const m = marker();
    const ctx = withTimeout(background(), 300);
    // sh exits at once; the sleep it left behind holds the pipe, so 'close' has not come yet.
    const p = spawn(ctx, "sh", ["-c", "sleep 30 &"], {
      env: m.env,
      stdio: ["ignore", "pipe", "inherit"],
    });
    p.child.stdout!.resume();
    await once(p.child, "exit");
    assert.equal(dependents(ctx), 1, "still linked: the output is not complete");
    await assert.rejects(p.exited, DeadlineExceeded);
    await p.stopped;
    assert.deepEqual(m.running(), []);
  });

  it("rejects with the spawn error when the command does not exist, and unlinks", async () => {
    const ctx = withCancel(background());
    const p = spawn(ctx, "/nonexistent/timebound-test-command");
    await assert.rejects(p.exited, { code: "ENOENT" });
    assert.equal(dependents(ctx), 0);
    assert.equal((await p.stopped).outcome, "exited");
    ctx.cancel();
  });

  it("works under a context that never ends", async () => {
    const p = spawn(background(), "true");
    assert.deepEqual(await p.exited, { code: 0, signal: null });
  });
});

describe("spawn: an ended context", { timeout: 20_000 }, () => {
  it("throws the context's error and never starts the child", async () => {
    const dir = mkdtempSync(join(tmpdir(), "timebound-spawn-"));
    try {
      const file = join(dir, "started");
      const ctx = withCancel(background());
      ctx.cancel();
      assert.throws(
        () => spawn(ctx, "touch", [file]),
        (err) => err === ctx.err,
      );
      await delay(100);
      assert.equal(existsSync(file), false, "the command never ran");
      assert.equal(dependents(ctx), 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
