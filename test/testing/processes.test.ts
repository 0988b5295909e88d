// processGroupAlive and processesWithEnv see what the kernel's process table says: a whole group
// while any of it runs, every process that carries a mark wherever it went, and nothing once
// they are gone (zombies not counted).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { hasProcessTable, processGroupAlive, processesWithEnv } from "../../src/testing/index.js";

const skip = !hasProcessTable() || process.platform === "win32" ? "needs a Linux /proc" : false;

/** Polls `done` every 20 ms for at most `ms`; whether it became true. */
async function eventually(done: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (done()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return done();
}

describe("process observers (src/testing/processes.ts)", { skip }, () => {
  it("see a detached group and its marked processes while they run, and none once killed", async () => {
    const mark = `TIMEBOUND_TEST_PROCESSES=${process.pid}-${Date.now()}`;
    const [name, value] = mark.split("=") as [string, string];
    const child = spawn("sh", ["-c", "sleep 30 & sleep 30 & wait"], {
      detached: true,
      stdio: "ignore",
      env: { ...process.env, [name]: value },
    });
    const pgid = child.pid!;
    try {
      assert.ok(
        await eventually(() => processesWithEnv(mark).length >= 3, 5_000),
        `sh and its two sleeps carry the mark: ${JSON.stringify(processesWithEnv(mark))}`,
      );
      assert.ok(processGroupAlive(pgid), "the group is alive while they run");
      assert.ok(
        processesWithEnv(mark).every((p) => p.pgid === pgid),
        "every marked process is in the child's group",
      );
      assert.deepEqual(
        processesWithEnv(`${mark}x`),
        [],
        "a mark is matched as one whole variable, not a prefix",
      );
    } finally {
      process.kill(-pgid, "SIGKILL");
    }
    assert.ok(
      await eventually(() => !processGroupAlive(pgid), 5_000),
      "the group is dead once killed (its zombies do not count)",
    );
    assert.deepEqual(processesWithEnv(mark), [], "no marked process runs any more");
  });

  it("refuse bad arguments with the library's argument errors", () => {
    assert.throws(() => processGroupAlive(0), {
      name: "RangeError",
      code: "TIMEBOUND_ERR_INVALID_ARGUMENT",
    });
    assert.throws(() => processesWithEnv(""), {
      name: "TypeError",
      code: "TIMEBOUND_ERR_INVALID_ARGUMENT",
    });
  });
});
