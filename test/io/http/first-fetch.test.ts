import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";

const FIXTURE = new URL("./fixtures/first-fetch.ts", import.meta.url).pathname;

describe("the first fetch(ctx) of a process", () => {
  // Loading undici inside the call costs 60 to 120 ms, so without the fix no process can make
  // it; with it, a process that is not starved by a loaded machine does: up to 5 fresh
  // processes. Whether undici's fetch was loaded before the call is checked in each.
  it("keeps a 40 ms deadline: undici is loaded when timebound/http is imported, not in the call", () => {
    const tries: string[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const run = spawnSync(process.execPath, ["--import", "tsx", FIXTURE], {
        encoding: "utf8",
        timeout: 30_000,
      });
      assert.equal(run.status, 0, run.stderr);
      const result = JSON.parse(run.stdout.trim()) as {
        ok: boolean;
        ms: number;
        loaded: boolean;
        error?: string;
      };
      assert.equal(result.loaded, true, "undici's fetch was loaded before the first call");
      if (result.ok) return;
      tries.push(`${result.ms.toFixed(1)} ms: ${result.error}`);
    }
    assert.fail(
      `the first fetch missed its 40 ms deadline in 5 fresh processes:\n${tries.join("\n")}`,
    );
  });
});
