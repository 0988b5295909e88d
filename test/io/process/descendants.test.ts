import { dependents } from "../../../src/core/introspect.js";
import assert from "node:assert/strict";
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
import {
  type ContextProcess,
  PROCESS_DESCENDANTS,
  exec,
  execFile,
  spawn,
} from "../../../src/io/process/index.js";
import {
  assertReleasedInTime,
  groupMembers,
  isPidRunning,
  markerMaker,
  waitFor,
} from "./helpers.js";

const marker = markerMaker();

/** Reads the first line `p` prints (a pid from `echo $!`). */
async function printedPid(p: ContextProcess): Promise<number> {
  const [line] = (await once(p.child.stdout!, "data")) as [Buffer];
  const pid = Number(String(line).trim().split("\n")[0]);
  assert.ok(pid > 0, `the command printed ${JSON.stringify(String(line))}`);
  return pid;
}

/** Waits until `pid` leads a process group of its own: its `setsid` has run. */
async function leftTheGroup(pid: number): Promise<void> {
  assert.ok(
    await waitFor(() => groupMembers(pid).includes(pid), 2000),
    `process ${pid} left the child's group`,
  );
}

/** Waits until Node has seen the child exit (it may have already). */
async function shellExited(p: ContextProcess): Promise<void> {
  assert.ok(await waitFor(() => p.child.exitCode !== null, 2000), "sh exited");
}

/** SIGKILLs `pid` if it still runs (cleanup of a process no marker can find). */
function killPid(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone already
  }
}

describe("tree: 'group' (the default): a process that left the group", { timeout: 20_000 }, () => {
  it('exec(ctx, "setsid sleep 30 &"): rejects in time, and the sleep keeps running, as documented', async () => {
    const m = marker();
    const ctx = withTimeout(background(), 300);
    const err = await exec(ctx, "setsid sleep 30 &", { env: m.env }).then(
      () => assert.fail("resolved: the sleep holds stdout, so only the deadline ends the call"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DeadlineExceeded, `got ${String(err)}`);
    assertReleasedInTime(err, ctx.deadline);
    await delay(200);
    assert.equal(m.running().length, 1, "the setsid sleep is out of the group's reach");
    m.killAll();
  });

  it("stopped says 'exited' once the group is empty, though the escaped sleep runs", async () => {
    const m = marker();
    const ctx = withCancel(background());
    const p = spawn(ctx, "sh", ["-c", "setsid sleep 30 & echo $!"], { env: m.env });
    const sleep = await printedPid(p);
    await leftTheGroup(sleep);
    await shellExited(p); // the group is empty; the sleep holds stdout
    ctx.cancel();
    await assert.rejects(p.exited, Canceled);
    assert.equal((await p.stopped).outcome, "exited", "the group was empty: nothing to signal");
    assert.ok(isPidRunning(sleep), "the sleep that left the group still runs");
    m.killAll();
  });
});

describe(
  "tree: 'descendants' stops what left the group",
  { skip: !PROCESS_DESCENDANTS, timeout: 20_000 },
  () => {
    it('exec(ctx, "setsid sleep 30 &"): rejects in time, and nothing of it is left', async () => {
      const m = marker();
      const ctx = withTimeout(background(), 300);
      const err = await exec(ctx, "setsid sleep 30 &", { env: m.env, tree: "descendants" }).then(
        () => assert.fail("resolved"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof DeadlineExceeded, `got ${String(err)}`);
      assertReleasedInTime(err, ctx.deadline);
      assert.ok(await waitFor(() => m.running().length === 0, 1000), `left: ${m.running().join()}`);
      assert.equal(dependents(ctx), 0);
    });

    it("a daemon that forked twice and left the group: stopped says 'terminated' only once it is gone", async () => {
      const m = marker();
      const ctx = withTimeout(background(), 300);
      const p = spawn(ctx, "sh", ["-c", "(setsid sleep 30 & echo $!) &"], {
        env: m.env,
        tree: "descendants",
      });
      const daemon = await printedPid(p);
      await leftTheGroup(daemon);
      assert.ok(
        await waitFor(() => m.running().length === 1, 2000),
        "both shells exited; the sleep, re-parented, runs in a session of its own",
      );
      await assert.rejects(p.exited, DeadlineExceeded);
      const stop = await p.stopped;
      assert.equal(stop.outcome, "terminated");
      assert.equal(isPidRunning(daemon), false, "gone when stopped resolved, not later");
      assert.deepEqual(m.running(), []);
    });

    it("the group already empty, the escaped process still running: 'terminated', not 'exited'", async () => {
      const m = marker();
      const ctx = withCancel(background());
      const p = spawn(ctx, "sh", ["-c", "setsid sleep 30 & echo $!"], {
        env: m.env,
        tree: "descendants",
      });
      const sleep = await printedPid(p);
      await leftTheGroup(sleep);
      await shellExited(p);
      ctx.cancel();
      await assert.rejects(p.exited, Canceled);
      assert.equal((await p.stopped).outcome, "terminated");
      assert.equal(isPidRunning(sleep), false);
      assert.deepEqual(m.running(), []);
    });

    it("an escaped process that ignores SIGTERM gets SIGKILL after the grace period", async () => {
      const graceMs = 500;
      const m = marker();
      const ctx = withTimeout(background(), 200);
      const p = spawn(
        ctx,
        "sh",
        ["-c", `setsid sh -c 'trap "" TERM; sleep 30; :' & echo $!; wait`],
        {
          env: m.env,
          tree: "descendants",
          graceMs,
        },
      );
      const escaped = await printedPid(p);
      await leftTheGroup(escaped);
      await assert.rejects(p.exited, DeadlineExceeded);
      await delay(100);
      assert.ok(isPidRunning(escaped), "SIGTERM was ignored, and SIGKILL is not sent early");

      const stop = await p.stopped;
      assert.equal(stop.outcome, "killed");
      assert.ok(
        stop.afterMs! >= graceMs,
        `gone ${stop.afterMs} ms after SIGTERM: not before the grace`,
      );
      assert.deepEqual(m.running(), [], "the escaped shell and its sleep are gone");
    });

    it("a process that cleared its environment escapes, as documented", async () => {
      const m = marker();
      const ctx = withCancel(background());
      const p = spawn(ctx, "sh", ["-c", "env -i setsid sleep 30 & echo $!; wait"], {
        env: m.env,
        tree: "descendants",
      });
      const bare = await printedPid(p);
      try {
        await leftTheGroup(bare);
        ctx.cancel();
        assert.equal((await p.stopped).outcome, "terminated");
        assert.ok(isPidRunning(bare), "no mark, no session of the child's: out of reach");
      } finally {
        killPid(bare);
      }
    });

    it("marks the child's environment on top of the one given, and keeps an outer tree's mark", async () => {
      const outer = "TIMEBOUND_PROCESS_TREE_OUTER_0=1";
      const env = { ...marker().env, TIMEBOUND_PROCESS_TREE_OUTER_0: "1", GIVEN: "yes" };
      const marks = async () => {
        const { stdout } = await execFile(background(), "env", [], { env, tree: "descendants" });
        const lines = stdout.split("\n");
        assert.ok(lines.includes("GIVEN=yes"), "the environment given is passed on");
        assert.ok(lines.includes(outer), "a nested tree keeps the outer one's mark");
        const own = lines.filter((l) =>
          /^TIMEBOUND_PROCESS_TREE_[0-9A-F]{12}_[0-9A-Z]+=1$/.test(l),
        );
        assert.equal(own.length, 1, `one mark of its own in ${JSON.stringify(lines)}`);
        return own[0];
      };
      assert.notEqual(await marks(), await marks(), "each child has a mark of its own");
      assert.equal("TIMEBOUND_PROCESS_TREE_OUTER_0" in process.env, false);
      const plain = await execFile(background(), "env", [], { env });
      assert.doesNotMatch(
        plain.stdout,
        /^TIMEBOUND_PROCESS_TREE_[0-9A-F]{12}/m,
        "no mark by default",
      );
    });

    it("kills an escaped process still in its grace period when this process exits", async () => {
      const m = marker();
      const fixture = new URL("./fixtures/exit-during-grace.ts", import.meta.url).pathname;
      const run = await execFile(
        background(),
        process.execPath,
        ["--import", "tsx", fixture, "descendants"],
        { env: m.env },
      );
      assert.equal(run.code, 0, run.stderr);
      const escaped = Number(run.stdout.trim());
      assert.ok(escaped > 0, `the fixture printed ${JSON.stringify(run.stdout)}`);
      assert.ok(
        await waitFor(() => !isPidRunning(escaped), 1000),
        "the TERM-ignoring escaped process got SIGKILL when its parent exited",
      );
      assert.ok(await waitFor(() => m.running().length === 0, 1000), `left: ${m.running().join()}`);
    });
  },
);
