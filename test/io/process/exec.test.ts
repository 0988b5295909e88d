import { dependents } from "../../../src/core/introspect.js";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
  OutputLimitError,
  exec,
  execFile,
  isExecContextError,
} from "../../../src/io/process/index.js";
import { assertReleasedInTime, markerMaker, waitFor } from "./helpers.js";

const marker = markerMaker();

describe("exec / execFile: a command that finishes", { timeout: 20_000 }, () => {
  it("collects stdout and stderr of a quick command and unlinks from the context", async () => {
    const ctx = withCancel(background());
    const result = await exec(ctx, "echo out; echo err >&2");
    assert.deepEqual(result, { stdout: "out\n", stderr: "err\n", code: 0, signal: null });
    assert.equal(dependents(ctx), 0);
    ctx.cancel();
  });

  it("resolves with a failing exit status rather than rejecting", async () => {
    const result = await exec(background(), "echo partial; exit 7");
    assert.equal(result.code, 7);
    assert.equal(result.stdout, "partial\n");
  });

  it("execFile passes arguments without a shell", async () => {
    const ctx = withTimeout(background(), 10_000);
    const result = await execFile(ctx, "printf", ["%s|", "a b", "$HOME", "*"]);
    assert.equal(result.stdout, "a b|$HOME|*|");
    assert.equal(dependents(ctx), 0);
    ctx.cancel();
  });

  it("writes input to stdin and decodes with the encoding asked for", async () => {
    const upper = await exec(background(), "tr a-z A-Z", { input: "abc" });
    assert.equal(upper.stdout, "ABC");
    const bytes = await execFile(background(), "cat", [], {
      input: Uint8Array.of(0xe9),
      encoding: "latin1",
    });
    assert.equal(bytes.stdout, "é");
  });

  it("keeps multi-byte characters whole across chunks", async () => {
    const { stdout } = await execFile(background(), "sh", [
      "-c",
      'printf "\\303"; sleep 0.05; printf "\\251"',
    ]);
    assert.equal(stdout, "é");
  });
});

describe("exec / execFile: the context ends first", { timeout: 20_000 }, () => {
  it("rejects in time with the context's error and the output so far; the group is gone", async () => {
    const m = marker();
    const ctx = withTimeout(background(), 500); // room for the first echo on a busy machine
    const err = await exec(ctx, "echo partial; echo oops >&2; sleep 30 & sleep 30", {
      env: m.env,
    }).then(
      () => assert.fail("resolved"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DeadlineExceeded, `got ${String(err)}`);
    assertReleasedInTime(err, ctx.deadline);
    assert.ok(isExecContextError(err), "the error carries the output");
    assert.equal(err.stdout, "partial\n");
    assert.equal(err.stderr, "oops\n");
    // A copy of ctx.err: same class, message and explanation; it alone carries this output.
    assert.notEqual(err, ctx.err);
    assert.equal(err.message, ctx.err!.message);
    assert.equal(err.name, "TimeoutError");
    assert.equal(err.explanation, ctx.err!.explanation);
    assert.equal(isExecContextError(ctx.err), false, "ctx.err itself is left as it was");
    assert.equal(isExecContextError(new Error("other")), false);
    assert.ok(await waitFor(() => m.running().length === 0, 1000), `left: ${m.running().join()}`);
    assert.equal(dependents(ctx), 0);
  });

  it("a deadline that passes while the child is being started still stops it", async () => {
    const m = marker();
    let startedInTime = 0;
    for (let attempt = 0; attempt < 5; attempt++) {
      const ctx = withTimeout(background(), 20);
      // Busy until the deadline is 1 ms away: it comes due during the spawn (several ms here).
      while (ctx.remaining() > 1);
      const running = exec(ctx, "sleep 30", { env: m.env });
      startedInTime += m.running().length; // it was started before the deadline, or not at all
      await assert.rejects(running, DeadlineExceeded);
    }
    assert.ok(startedInTime > 0, "the deadline came due during a spawn at least once");
    assert.ok(await waitFor(() => m.running().length === 0, 2000), `left: ${m.running().join()}`);
  });

  it("carries the cause a canceled context was given", async () => {
    const ctx = withCancel(background());
    const running = exec(ctx, "sleep 30");
    const why = new Error("client went away");
    setTimeout(() => ctx.cancel(why), 20);
    await assert.rejects(running, (err) => err instanceof Canceled && err.cause === why);
  });

  it("stops a grandchild that holds stdout open after the shell exited", async () => {
    const m = marker();
    const ctx = withTimeout(background(), 500); // room for the echo on a busy machine
    // Node's exec waits for the pipe to close, so would this one: until the deadline stops it.
    await assert.rejects(exec(ctx, "echo started; sleep 30 &", { env: m.env }), (err) => {
      assert.ok(err instanceof DeadlineExceeded && isExecContextError(err), `got ${String(err)}`);
      assert.equal(err.stdout, "started\n");
      return true;
    });
    assert.ok(await waitFor(() => m.running().length === 0, 1000), `left: ${m.running().join()}`);
  });

  it("stops the group and rejects with OutputLimitError past maxBuffer", async () => {
    const m = marker();
    const ctx = withCancel(background());
    const err = await exec(ctx, "yes", { maxBuffer: 1000, env: m.env }).then(
      () => assert.fail("resolved"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OutputLimitError, `got ${String(err)}`);
    assert.equal(err.code, "TIMEBOUND_ERR_OUTPUT_LIMIT");
    assert.equal(err.nodeCode, "ERR_CHILD_PROCESS_STDIO_MAXBUFFER", "Node's code, kept beside");
    assert.equal(err.name, "OutputLimitError");
    assert.equal(err.stream, "stdout");
    assert.equal(err.stdout.length, 1000);
    assert.ok(err.stdout.startsWith("y\ny\n"), "the output up to the limit is kept");
    assert.equal(dependents(ctx), 0, "unlinked at once, though the group may still be stopping");
    assert.ok(await waitFor(() => m.running().length === 0, 1000), `left: ${m.running().join()}`);
    ctx.cancel();
  });
});

describe("exec / execFile: an ended context", { timeout: 20_000 }, () => {
  it("rejects with the context's error and never starts the command", async () => {
    const dir = mkdtempSync(join(tmpdir(), "timebound-exec-"));
    try {
      const ctx = withCancel(background());
      ctx.cancel();
      for (const run of [
        () => exec(ctx, `touch ${join(dir, "exec")}`),
        () => execFile(ctx, "touch", [join(dir, "execFile")]),
      ]) {
        await assert.rejects(run(), (err) => {
          assert.ok(err instanceof Canceled && isExecContextError(err), `got ${String(err)}`);
          assert.deepEqual({ stdout: err.stdout, stderr: err.stderr }, { stdout: "", stderr: "" });
          return true;
        });
      }
      await delay(100);
      assert.equal(existsSync(join(dir, "exec")), false);
      assert.equal(existsSync(join(dir, "execFile")), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
