import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";

const FIXTURE = new URL("./fixtures/first-fetch.ts", import.meta.url).pathname;

describe("the first fetch(ctx) of a process", () => {
  it("keeps a 40 ms deadline: undici is loaded when timebound/http is imported, not in the call", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", FIXTURE], {
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout.trim()) as { ok: boolean; ms: number; error?: string };
    assert.equal(
      result.ok,
      true,
      `first fetch failed after ${result.ms.toFixed(1)} ms: ${result.error}`,
    );
  });
});
